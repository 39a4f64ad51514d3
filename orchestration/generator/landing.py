"""Writing landing files: contract-shaped tables, buffered per arrival date, flushed as parts."""

from __future__ import annotations

import math
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from orchestration.contract import Dataset

EPOCH = date(1970, 1, 1)


def contract_table(dataset: Dataset, columns: dict[str, pa.Array], rows: int) -> pa.Table:
    """A table with exactly the dataset's contract schema; columns not given are all null."""
    schema = dataset.arrow_schema()
    unknown = set(columns) - set(schema.names)
    if unknown:
        raise ValueError(f"{dataset.name} has no columns {sorted(unknown)}")
    arrays = [
        columns[field.name].cast(field.type)
        if field.name in columns
        else pa.nulls(rows, field.type)
        for field in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def landing_date(epoch_day: int) -> date:
    return EPOCH + timedelta(days=int(epoch_day))


@dataclass
class _Day:
    tables: list[pa.Table]
    rows: int = 0
    parts: int = 0


class LandingWriter:
    """Writes `<root>/<dataset>/date=YYYY-MM-DD/part-NNNN.parquet` by arrival date.

    Rows are buffered per arrival date. Once a date holds a file's share of the rows its day is
    expected to receive, the earliest of them (by `order_by`) go to the next part file, so each
    file covers a stretch of arrival time. `close` writes what is left of the dates that can no
    longer receive rows, so a day gets about `files_per_day` files and memory holds only the
    dates still open.
    """

    def __init__(self, root: Path, dataset: Dataset, files_per_day: int, order_by: str) -> None:
        self.directory = root / dataset.name
        self.dataset = dataset
        self.files_per_day = files_per_day
        self.order_by = order_by
        self.files = 0
        self.rows = 0
        self._days: dict[int, _Day] = defaultdict(lambda: _Day([]))
        self._rows_per_file: dict[int, int] = {}

    def expect(self, epoch_day: int, rows: int) -> None:
        """Announce how many rows will arrive on a date; without it, its rows wait for `close`."""
        self._rows_per_file[epoch_day] = max(1, math.ceil(rows / self.files_per_day))

    def add(self, table: pa.Table, arrival_day: np.ndarray) -> None:
        order = np.argsort(arrival_day, kind="stable")
        days, starts, counts = np.unique(arrival_day[order], return_index=True, return_counts=True)
        for epoch_day, start, count in zip(days.tolist(), starts, counts, strict=True):
            day = self._days[epoch_day]
            # A copy per date rather than a slice: a slice would keep the whole batch in memory
            # until its last date (up to days later, for late rows) is written.
            day.tables.append(table.take(pa.array(order[start : start + count])))
            day.rows += int(count)
            self._write_full_parts(epoch_day)

    def close(self, through_day: int) -> None:
        """Write every buffered row that arrived on or before `through_day`."""
        for epoch_day in sorted(d for d in self._days if d <= through_day):
            day = self._days.pop(epoch_day)
            if day.rows:
                table, order = self._in_order(day)
                self._write(epoch_day, day, table.take(pa.array(order)))

    def _write_full_parts(self, epoch_day: int) -> None:
        day = self._days[epoch_day]
        per_file = self._rows_per_file.get(epoch_day)
        if per_file is None or day.rows < per_file or day.parts >= self.files_per_day - 1:
            return
        table, order = self._in_order(day)
        while day.rows >= per_file and day.parts < self.files_per_day - 1:
            self._write(epoch_day, day, table.take(pa.array(order[:per_file])))
            order = order[per_file:]
        # A compact copy of the rest, so that the rows already written can be freed.
        day.tables = [table.take(pa.array(order))]

    def _in_order(self, day: _Day) -> tuple[pa.Table, np.ndarray]:
        table = pa.concat_tables(day.tables)
        keys = pc.cast(table.column(self.order_by), pa.int64()).to_numpy()
        return table, np.argsort(keys, kind="stable")

    def _write(self, epoch_day: int, day: _Day, table: pa.Table) -> None:
        folder = self.directory / f"date={landing_date(epoch_day).isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"part-{day.parts:04d}.parquet"
        # Write under another name and rename, so that a sensor never reads half a file.
        partial = folder / f".{path.name}.inprogress"
        pq.write_table(table, partial, compression="zstd")
        os.replace(partial, path)
        day.parts += 1
        day.rows -= table.num_rows
        self.files += 1
        self.rows += table.num_rows
