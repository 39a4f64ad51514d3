"""The raw tables as Parquet for Spark, which runs the same dbt project (`dbt --target spark`).

The landing validates, deduplicates and anonymizes into DuckDB; Spark reads what it loaded as
Parquet: `<directory>/<table>/_landing_date=YYYY-MM-DD/data.parquet` for `raw.events` and
`raw.metrics` (one folder per arrival day, Spark's partition layout) and
`<directory>/user_agents/data.parquet`. On Spark, the project declares its raw sources over
these folders before every run (`dbt_project/macros/spark_sources.sql`, with `RAW_PARQUET_DIR`
set to the directory).

Exporting arrival days again replaces their folders: each file is written beside its final
name and renamed over it, so a Spark run reading the folder sees a day whole, before or after.
A day without rows any more loses its folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from orchestration.contract import DATASETS
from orchestration.landing.user_agents import USER_AGENTS_TABLE
from orchestration.sql import quote_identifier, sql_string

PARTITION_COLUMN = "_landing_date"


@dataclass(frozen=True)
class ExportedDay:
    table: str
    day: date
    rows: int


def export_raw_parquet(
    connection: duckdb.DuckDBPyConnection, directory: Path, days: Iterable[date] | None = None
) -> list[ExportedDay]:
    """Write the arrival days `days` (every day when None) of the raw tables to `directory`.

    The user agents are written whole every time (one small file). Returns the rows written per
    table and day.
    """
    directory.mkdir(parents=True, exist_ok=True)
    exported = []
    for dataset in DATASETS.values():
        table = dataset.table
        name = table.split(".", 1)[1]
        wanted = sorted(set(days)) if days is not None else _days_of(connection, table)
        for day in wanted:
            folder = directory / name / f"{PARTITION_COLUMN}={day.isoformat()}"
            rows = _export_day(connection, table, day, folder)
            exported.append(ExportedDay(table=table, day=day, rows=rows))
    _write_file(
        connection,
        f"select * from {USER_AGENTS_TABLE} order by user_agent",
        directory / USER_AGENTS_TABLE.split(".", 1)[1] / "data.parquet",
    )
    return exported


def _days_of(connection: duckdb.DuckDBPyConnection, table: str) -> list[date]:
    column = quote_identifier(PARTITION_COLUMN)
    rows = connection.execute(f"select distinct {column} from {table} order by 1").fetchall()
    return [day for (day,) in rows]


def _export_day(connection: duckdb.DuckDBPyConnection, table: str, day: date, folder: Path) -> int:
    column = quote_identifier(PARTITION_COLUMN)
    where = f"{column} = date {sql_string(day.isoformat())}"
    (rows,) = connection.execute(f"select count(*) from {table} where {where}").fetchone()
    if rows == 0:
        shutil.rmtree(folder, ignore_errors=True)
        return 0
    # The partition column lives in the folder name, as Spark lays partitions out.
    query = (
        f"select * exclude ({column}) from {table} where {where} order by _source_file, _source_row"
    )
    _write_file(connection, query, folder / "data.parquet")
    return rows


def _write_file(connection: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    connection.execute(f"copy ({query}) to {sql_string(str(partial))} (format parquet)")
    os.replace(partial, path)
