"""Historical import: a dump of events from an older system, into raw_landing/ as landing files.

A dump is a JSON array of objects, NDJSON (one object per line) or CSV with a header row; its
field names are the contract's column names (extra fields are ignored and reported). Each record
is checked by the loader's own rules (`landing.validation.staging_select`: required values, types,
accepted values, JSON properties, event time against `received_at`), so an imported file loads
exactly as its report says. Accepted rows are written, by the day of their `received_at`, to
`raw_landing/events/date=YYYY-MM-DD/history-<dump>-<hash>.parquet` with the contract's schema (IP
addresses already anonymized); importing the same dump again rewrites the same files.

The dump is read as its format says, and nothing in it is translated: a line ends at `\n` only
(a `\r` before it belongs to the line ending), so values keep their U+2028, U+2029 and NEL
characters, and a CSV value its `\r\n`. CSV follows RFC 4180: a record ends at a line break
outside quotes, and a field may be of any size. A record is reported by the line it starts on,
lines counted from 1 as above: an NDJSON record's line, the line a JSON array's element starts
on, the first line of a CSV record (a quoted field may hold line breaks; the next record is
numbered by its own first line). Line 1 of a CSV is its header.

Nothing is dropped silently: a line that is not JSON, a CSV record with too many fields or broken
quoting (a record whose quoted field is never closed is reported on its first line alone, and
reading resumes on the next line), a record that is not an object and a record that breaks the
contract are each reported with their line and the column at fault, and the rest is imported.
Then the days are backfilled with `warehouse run --start <first day> --end <last day>` (or
`warehouse import --backfill`).
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.audit import record_action
from orchestration.contract import EVENTS
from orchestration.landing.loader import partition_dir
from orchestration.landing.privacy import register_anonymize_ip
from orchestration.landing.validation import staging_select
from orchestration.sql import quote_identifier

# Between two elements of a JSON array; where an object starts after a line that does not parse.
_SEPARATOR = re.compile(r"[\s,]*")
_NEXT_OBJECT = re.compile(r"\n[ \t\r]*\{")


class DumpFormat(StrEnum):
    JSON = "json"
    NDJSON = "ndjson"
    CSV = "csv"


@dataclass
class ImportReport:
    source: Path
    rows_read: int = 0
    """Records found in the dump, readable or not."""
    rows_accepted: int = 0
    rejected: list[str] = field(default_factory=list)
    """One line per rejected record: `line N: column: what is wrong`."""
    ignored_columns: list[str] = field(default_factory=list)
    files_written: dict[date, Path] = field(default_factory=dict)
    """received_at day -> landing file written."""

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected)

    @property
    def days(self) -> tuple[date, date] | None:
        return (min(self.files_written), max(self.files_written)) if self.files_written else None


@dataclass
class _Records:
    """Parsed records (each a dict of field -> text) and where each came from."""

    rows: list[dict[str, str | None]] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    """Every field name seen, in the order first seen."""

    def add(self, place: str, record: Any) -> None:
        if not isinstance(record, dict):
            self.unreadable.append(f"{place}: not a JSON object but {type(record).__name__}")
            return
        for name in record:
            if name not in self.columns:
                self.columns.append(name)
        self.rows.append({name: _text(value) for name, value in record.items()})
        self.places.append(place)


def _text(value: Any) -> str | None:
    """A field's value as text for validation: nested objects and lists as JSON text."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _read_ndjson(text: str) -> _Records:
    records = _Records()
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            records.unreadable.append(
                f"line {number}: not valid JSON: {error.msg} at column {error.colno}"
            )
            continue
        records.add(f"line {number}", record)
    return records


def _read_json_array(text: str) -> _Records:
    """The elements of a JSON array. An element that does not parse is reported with its line,
    and reading resumes at the next line that starts an object, so one bad element does not
    lose the rest of the dump."""
    records = _Records()
    decoder = json.JSONDecoder()
    position = len(text) - len(text.lstrip())
    line = 1 + text.count("\n", 0, position)
    if text[position : position + 1] != "[":
        records.unreadable.append(f"line {line}: the dump is not a JSON array")
        return records
    position += 1
    while True:
        separator = _SEPARATOR.match(text, position)
        line += text.count("\n", position, separator.end())
        position = separator.end()
        if position >= len(text):
            records.unreadable.append(f"line {line}: the array is not closed")
            return records
        if text[position] == "]":
            return records
        try:
            record, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            records.unreadable.append(
                f"line {error.lineno}: not valid JSON: {error.msg} at column {error.colno}"
            )
            next_object = _NEXT_OBJECT.search(text, error.pos)
            if next_object is None:
                return records
            end = next_object.start() + 1
        else:
            records.add(f"line {line}", record)
        line += text.count("\n", position, end)
        position = end


def _lines(text: str) -> list[str]:
    """The text's lines, each with the `\n` that ends it (the last may have none)."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def _csv_records(lines: list[str]) -> Iterator[tuple[int, int, list[str] | str]]:
    """Each CSV record as (index of its first line, index past its last line, its fields or why
    they cannot be read). A quoted field that is never closed would take every line after it:
    the record is reported on its first line alone, and reading resumes on the next line."""
    start = 0
    while start < len(lines):
        reader = csv.reader(itertools.islice(lines, start, None), strict=True)
        while True:
            first = start + reader.line_num
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                if str(error) == "unexpected end of data":
                    yield first, first + 1, "a quoted field of this record is never closed"
                    start = first + 1
                    break
                yield first, start + reader.line_num, _csv_problem(error)
                continue
            yield first, start + reader.line_num, fields


def _csv_problem(error: csv.Error) -> str:
    message = str(error)
    if message.startswith("new-line character seen in unquoted field"):
        return "a carriage return (\\r) without \\n inside an unquoted field: quote the field"
    if message.endswith("expected after '\"'"):
        return 'a quoted field is followed by more text: a quote inside a field is written ""'
    return f"not valid CSV: {message}"


def _read_csv(text: str) -> _Records:
    records = _Records()
    lines = _lines(text)
    # The csv module's default field size limit (128 KiB) is no limit of the format: no field
    # is longer than the text.
    field_size_limit = csv.field_size_limit()
    csv.field_size_limit(max(field_size_limit, len(text) + 1))
    try:
        csv_records = _csv_records(lines)
        header = next(csv_records, None)
        if header is None:
            return records
        if isinstance(header[2], str):
            records.unreadable.append(
                f"line 1: the header cannot be read, nor any record without it: {header[2]}"
            )
            return records
        columns = header[2]
        records.columns = list(columns)
        for first, _, fields in csv_records:
            place = f"line {first + 1}"
            if isinstance(fields, str):
                records.unreadable.append(f"{place}: {fields}")
                continue
            if not any(value.strip() for value in fields):
                continue
            if len(fields) > len(columns):
                records.unreadable.append(
                    f"{place}: {len(fields)} fields, but the header names {len(columns)}"
                )
                continue
            records.rows.append(
                {name: _text(value) for name, value in zip(columns, fields, strict=False)}
            )
            records.places.append(place)
    finally:
        csv.field_size_limit(field_size_limit)
    return records


_READERS = {
    DumpFormat.JSON: _read_json_array,
    DumpFormat.NDJSON: _read_ndjson,
    DumpFormat.CSV: _read_csv,
}


def import_history(
    source: Path,
    dump_format: DumpFormat,
    raw_landing_dir: Path,
    *,
    future_tolerance_hours: int = 24,
) -> ImportReport:
    """Validate a dump of events and write its accepted rows as landing files."""
    # Read as bytes: nothing translates line endings before the format's own rules see them.
    data = source.read_bytes()
    text = data.decode("utf-8-sig")
    records = _READERS[dump_format](text)
    report = ImportReport(source, rows_read=len(records.rows) + len(records.unreadable))
    report.ignored_columns = [c for c in records.columns if c not in EVENTS.column_names]
    present = [c for c in EVENTS.column_names if c in records.columns]
    arrays = {
        name: pa.array([row.get(name) for row in records.rows], pa.string()) for name in present
    }
    arrays["file_row_number"] = pa.array(range(len(records.rows)), pa.int64())
    rows = pa.table(arrays)

    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        register_anonymize_ip(connection)
        connection.register("_dump", rows)
        select = staging_select(
            EVENTS,
            "_dump",
            {name: "VARCHAR" for name in present},
            source_file=source.name,
            future_tolerance_hours=future_tolerance_hours,
        )
        connection.execute(f"create temp table _validated as {select}")
        rejected = connection.execute(
            "select _source_row, array_to_string(violations, '; ') from _validated "
            "where len(violations) > 0 order by _source_row"
        ).fetchall()
        report.rejected = sorted(
            [f"{records.places[row]}: {reason}" for row, reason in rejected] + records.unreadable,
            key=lambda message: int(message.split(":")[0].split()[-1]),
        )
        columns = ", ".join(quote_identifier(name) for name in EVENTS.column_names)
        days = [
            day
            for (day,) in connection.execute(
                "select distinct cast(received_at as date) from _validated "
                "where len(violations) = 0 order by 1"
            ).fetchall()
        ]
        digest = hashlib.sha256(data).hexdigest()[:12]
        for day in days:
            accepted = connection.sql(
                f"""
                select {columns} from _validated
                where len(violations) = 0 and cast(received_at as date) = date '{day}'
                order by _source_row
                """
            ).to_arrow_table()
            folder = partition_dir(raw_landing_dir, EVENTS, day)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"history-{source.stem}-{digest}.parquet"
            # Timestamps are truncated to the contract's milliseconds.
            pq.write_table(
                accepted.cast(EVENTS.arrow_schema(), safe=False), path, compression="zstd"
            )
            report.files_written[day] = path
            report.rows_accepted += accepted.num_rows
    return report


def record_import(
    connection: duckdb.DuckDBPyConnection,
    report: ImportReport,
    raw_landing_dir: Path,
    *,
    actor: str | None = None,
) -> None:
    """Append the import to the warehouse's audit log."""
    record_action(
        connection,
        "import",
        str(report.source),
        actor=actor,
        rows_affected=report.rows_accepted,
        details={
            "rows_read": report.rows_read,
            "rows_accepted": report.rows_accepted,
            "rows_rejected": report.rows_rejected,
            "files": [
                path.relative_to(raw_landing_dir).as_posix()
                for path in report.files_written.values()
            ],
        },
    )
