r"""Historical import: a dump of events from an older system, into raw_landing/ as landing files.

A dump is a JSON array of objects, NDJSON (one object per line) or CSV with a header row; its
field names are the contract's column names (extra fields are ignored and reported). Each record
is checked by the loader's own rules (`landing.validation.staging_select`: required values, types,
accepted values, JSON properties, event time against `received_at`), so an imported file loads
exactly as its report says. Accepted rows are written, by the day of their `received_at`, to
`raw_landing/events/date=YYYY-MM-DD/history-<dump>-<hash>.parquet` with the contract's schema (IP
addresses already anonymized); importing the same dump again rewrites the same files.

The dump is read as its format says, and nothing in it is translated: it is UTF-8 (a byte-order
mark is skipped), a line ends at `\n` only (a `\r` before it belongs to the line ending), so
values keep their U+2028, U+2029 and NEL characters, and a CSV value its `\r\n`. CSV follows
RFC 4180: a record ends at a line break outside quotes, and a field may be of any size. A record
is reported by the line it starts on, lines counted from 1 as above: an NDJSON record's line, the
line a JSON array's element starts on, the first line of a CSV record (a quoted field may hold
line breaks; the next record is numbered by its own first line). Line 1 of a CSV is its header.

Nothing is dropped silently, and one bad record never stops the others: every record is imported
or rejected with its line and, where there is one, the column at fault (a contract column, or
the character column where the text stops making sense), so that rows read = rows accepted +
rows rejected. Rejected are: a record that breaks the contract; a line that is not JSON, or JSON
nested too deeply to read; a record that is not an object; a CSV record with too many fields or
broken quoting (a record whose quoted field is never closed is reported on its first line alone,
and reading resumes on the next line); a record holding a byte that is not UTF-8 (named with its
column and its byte offset in the file: a dump with a corrupt byte still imports every other
record) or an unpaired surrogate (`"\ud800"`), which no UTF-8 text can hold.

`record_import` keeps the rejected records in `raw.events_import_rejected` (with the dump's path,
the line, the columns at fault, the reason and the record as it was) and logs the import. They
have a table of their own, not `raw.events_rejected`: that one holds the rows of landing files,
which the load manifest counts, the reconciliation check holds to those counts, and a reload of
their arrival day replaces. The import's table has the same columns but for the line of the dump
and the text of a record whose fields cannot be read; `_landing_date` is the day of the import,
so that retention and forget-a-person treat its rows as they treat the loader's rejects. Then the
days are backfilled with `warehouse run --start <first day> --end <last day>` (or
`warehouse import --backfill`).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from operator import itemgetter
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
from orchestration.sql import create_table_if_missing, quote_identifier, transaction

# Between two elements of a JSON array; where an object starts after a line that does not parse.
_SEPARATOR = re.compile(r"[\s,]*")
_NEXT_OBJECT = re.compile(r"\n[ \t\r]*\{")
_JSON_WHITESPACE = " \t\r\n"
_JSON_SPACE = re.compile(r"[ \t\r\n]*")
# A byte that is not UTF-8 is decoded as one of U+DC80..U+DCFF (`surrogateescape`), which text
# decoded from UTF-8 never holds. A JSON escape can leave a surrogate unpaired (`"\ud800"`).
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_TOO_DEEP = "JSON nested too deeply to read"
# Characters that would break a report's line or a terminal, shown as escapes in messages.
_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


class DumpFormat(StrEnum):
    JSON = "json"
    NDJSON = "ndjson"
    CSV = "csv"


IMPORT_REJECTED_TABLE = "raw.events_import_rejected"
IMPORT_REJECTED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    (
        "_source_file",
        "VARCHAR",
        "The dump, by its absolute path; importing it again replaces its rows.",
    ),
    (
        "_source_line",
        "BIGINT",
        "Line of the dump the record starts on, from 1 (line 1 of a CSV is its header).",
    ),
    ("_landing_date", "DATE", "Day of the import (UTC); retention counts from it."),
    (
        "reject_columns",
        "VARCHAR[]",
        "Columns that broke the contract; empty when the record as a whole cannot be read.",
    ),
    (
        "reject_reason",
        "VARCHAR",
        "What was wrong, as the import's report says: one clause per broken rule, or why the "
        "record cannot be read (with the column of the text where it stops making sense).",
    ),
    (
        "raw_row",
        "JSON",
        "The record's fields as they were (IP address anonymized); NULL when they cannot be read.",
    ),
    (
        "raw_text",
        "VARCHAR",
        "The record's text as it was, when its fields cannot be read (a byte that is not UTF-8 as "
        "\\xNN); NULL when they can, or when the fault is the dump's: not a JSON array, or one "
        "that is not closed.",
    ),
    ("_rejected_at", "TIMESTAMP", "When the record was rejected (UTC)."),
)


@dataclass(frozen=True)
class RejectedRecord:
    line: int
    """The line of the dump the record starts on, from 1."""
    reason: str
    """What is wrong: `<column>: ...` clauses joined by `; `, or why the record cannot be read."""
    columns: tuple[str, ...] = ()
    """The columns at fault; none when the record as a whole cannot be read."""
    fields: str | None = None
    """The record's fields as they were, a JSON object (IP address as in the dump); None when
    they cannot be read."""
    text: str | None = None
    """The record's text as it was when its fields cannot be read (bytes that are not UTF-8 as
    `\\xNN`); None when they can, or when the fault is the dump's."""

    def __str__(self) -> str:
        """`line N: reason`, on one line: line breaks and control characters as escapes."""
        return _UNPRINTABLE.sub(
            lambda match: match.group().encode("unicode_escape").decode("ascii"),
            f"line {self.line}: {self.reason}",
        )


@dataclass
class ImportReport:
    source: Path
    rows_read: int = 0
    """Records found in the dump, readable or not: rows accepted + rows rejected."""
    rows_accepted: int = 0
    rejected_records: list[RejectedRecord] = field(default_factory=list)
    """In the order of the dump."""
    ignored_columns: list[str] = field(default_factory=list)
    files_written: dict[date, Path] = field(default_factory=dict)
    """received_at day -> landing file written."""

    @property
    def rejected(self) -> list[str]:
        """One line per rejected record: `line N: column: what is wrong`."""
        return [str(record) for record in self.rejected_records]

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected_records)

    @property
    def days(self) -> tuple[date, date] | None:
        return (min(self.files_written), max(self.files_written)) if self.files_written else None


@dataclass
class _Records:
    """The records a reader found in the dump's text: each readable one as a dict of field ->
    text with its line, the others already rejected."""

    text: str
    bom: int
    """Bytes of the dump before its text: a UTF-8 byte-order mark, or none."""
    is_csv: bool = False
    rows: list[dict[str, str | None]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    """Where each row's record is in the text."""
    order: list[int] = field(default_factory=list)
    """Each row's place among all the records, readable or not."""
    unreadable: list[tuple[int, RejectedRecord]] = field(default_factory=list)
    """Each rejected record with its place among all the records."""
    columns: list[str] = field(default_factory=list)
    """Every field name seen, in the order first seen."""
    _counted: tuple[int, int] = (0, 0)
    """(position in the text, byte offset in the dump) of the last byte offset asked for."""

    def reject(
        self, line: int, reason: str, span: tuple[int, int] | None, column: str | None = None
    ) -> None:
        """A record that cannot be imported, kept as text[span] (less its line ending)."""
        place = len(self.rows) + len(self.unreadable)
        columns = () if column is None else (column,)
        text = None if span is None else _storable(self.text[span[0] : span[1]].rstrip("\r\n"))
        self.unreadable.append((place, RejectedRecord(line, reason, columns, text=text)))

    def fields(self, row: int) -> str | None:
        """The fields of a readable record as the dump holds them, as JSON text; None when the
        record is nested too deeply to be written out."""
        start, end = self.spans[row]
        try:
            if self.is_csv:
                record = {name: value or "" for name, value in self.rows[row].items()}
            else:
                record = json.loads(self.text[start:end])
            return json.dumps(record, ensure_ascii=False)
        except RecursionError:
            return None

    def add(self, line: int, record: dict[str, Any], start: int, end: int) -> None:
        """A record read from text[start:end], unless it holds what is not Unicode text."""
        bad_byte = _NOT_UTF8.search(self.text, start, end)
        if bad_byte is not None:
            name, _ = _field_holding(record, _NOT_UTF8)
            where = self.not_utf8(bad_byte.start(), line, start)
            self.reject(line, where if name is None else f"{name}: {where}", (start, end), name)
            return
        if _SURROGATE_ESCAPE.search(self.text, start, end):
            name, surrogate = _field_holding(record, _SURROGATE)
            if name is not None:
                escaped = surrogate.encode("unicode_escape").decode("ascii")
                self.reject(
                    line,
                    f"{name}: an unpaired surrogate ({escaped}) is not a Unicode character",
                    (start, end),
                    name,
                )
                return
        row = {name: _text(value) for name, value in record.items()}
        for name in record:
            if name not in self.columns:
                self.columns.append(name)
        self.order.append(len(self.rows) + len(self.unreadable))
        self.rows.append(row)
        self.lines.append(line)
        self.spans.append((start, end))

    def add_json(self, line: int, record: Any, start: int, end: int) -> None:
        """A JSON value read from text[start:end], which must be an object."""
        try:
            if isinstance(record, dict):
                self.add(line, record, start, end)
            elif (bad_byte := _NOT_UTF8.search(self.text, start, end)) is not None:
                self.reject(line, self.not_utf8(bad_byte.start(), line, start), (start, end))
            else:
                self.reject(line, f"not a JSON object but {_json_kind(record)}", (start, end))
        except RecursionError:
            # Parsed just below the interpreter's limit, too deep to be written out again.
            self.reject(line, _TOO_DEEP, (start, end))

    def unparsed(
        self, line: int, start: int, error: ValueError | RecursionError, offset: int = 0
    ) -> str:
        """Why the JSON of the record on `line`, from text position `start`, cannot be read;
        `offset` is the text position of what was parsed, when that was not the whole text."""
        if isinstance(error, RecursionError):
            return _TOO_DEEP
        if not isinstance(error, json.JSONDecodeError):
            return f"not readable JSON: {str(error).split(';')[0]}"
        position = offset + error.pos
        bad_byte = _NOT_UTF8.search(self.text, start, position + 1)
        if bad_byte is not None:
            return self.not_utf8(bad_byte.start(), line, start)
        what = error.msg.removesuffix(" at")
        return f"not valid JSON: {what} at {self.where(position, line, start)}"

    def not_utf8(self, position: int, line: int, start: int) -> str:
        """What is wrong with the text at `position`, a byte that is not UTF-8, in the record on
        `line` from text position `start`."""
        byte = ord(self.text[position]) - 0xDC00
        return (
            f"byte 0x{byte:02x} at {self.where(position, line, start)} "
            f"(byte offset {self.byte_offset(position)}) is not UTF-8"
        )

    def where(self, position: int, line: int, start: int) -> str:
        """`column C` of the text position, or `line L, column C` when it is not on `line`, the
        line of the record from text position `start`."""
        column = position - self.text.rfind("\n", 0, position)
        here = line + self.text.count("\n", start, position)
        return f"column {column}" if here == line else f"line {here}, column {column}"

    def byte_offset(self, position: int) -> int:
        """The offset in the dump's bytes of a text position. Positions are asked for in the
        order of the dump, so its text is encoded again once at most."""
        counted, offset = self._counted if position >= self._counted[0] else (0, 0)
        offset += len(self.text[counted:position].encode("utf-8", "surrogateescape"))
        self._counted = (position, offset)
        return self.bom + offset


def _field_holding(record: dict[str, Any], pattern: re.Pattern[str]) -> tuple[str | None, str]:
    """The first field whose name or value holds a match of `pattern` (as it can be shown), and
    the match."""
    for name, value in record.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        found = pattern.search(name) or pattern.search(text)
        if found is not None:
            return name.encode("utf-8", "backslashreplace").decode("utf-8"), found.group()
    return None, ""


def _storable(text: str) -> str:
    """Text as UTF-8 can hold it: a byte that is not UTF-8 as `\\xNN`."""
    if _NOT_UTF8.search(text) is None:
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


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


def _read_ndjson(records: _Records) -> None:
    text = records.text
    start, number = 0, 0
    while start < len(text):
        newline = text.find("\n", start)
        end = len(text) if newline < 0 else newline
        stop = end - 1 if end > start and text[end - 1] == "\r" else end
        number += 1
        line_text = text[start:stop]
        if line_text.strip(_JSON_WHITESPACE):
            try:
                record = json.loads(line_text)
            except (ValueError, RecursionError) as error:
                reason = records.unparsed(number, start, error, offset=start)
                records.reject(number, reason, (start, stop))
            else:
                records.add_json(number, record, start, stop)
        start = end + 1


def _read_json_array(records: _Records) -> None:
    """The elements of a JSON array. An element that does not parse is reported with its line,
    and reading resumes at the next line that starts an object, so one bad element does not
    lose the rest of the dump."""
    text = records.text
    decoder = json.JSONDecoder()
    position = len(text) - len(text.lstrip(_JSON_WHITESPACE))
    if position == len(text):
        return
    line = 1 + text.count("\n", 0, position)
    if text[position] != "[":
        records.reject(line, "the dump is not a JSON array", None)
        return
    position += 1
    while True:
        separator = _SEPARATOR.match(text, position)
        line += text.count("\n", position, separator.end())
        position = separator.end()
        if position >= len(text):
            records.reject(line, "the array is not closed", None)
            return
        if text[position] == "]":
            break
        try:
            record, end = decoder.raw_decode(text, position)
        except (ValueError, RecursionError) as error:
            resume = error.pos if isinstance(error, json.JSONDecodeError) else position
            next_object = _NEXT_OBJECT.search(text, resume)
            end = len(text) if next_object is None else next_object.start() + 1
            unread = end
            while unread > position and text[unread - 1] in _JSON_WHITESPACE + ",":
                unread -= 1
            records.reject(line, records.unparsed(line, position, error), (position, unread))
            if next_object is None:
                return
        else:
            records.add_json(line, record, position, end)
        line += text.count("\n", position, end)
        position = end
    trailing = _JSON_SPACE.match(text, position + 1).end()
    if trailing < len(text):
        line += text.count("\n", position, trailing)
        records.reject(line, "text after the end of the array is not read", (trailing, len(text)))


def _lines(text: str) -> list[str]:
    r"""The text's lines, each with the `\n` that ends it (the last may have none)."""
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


def _read_csv(records: _Records) -> None:
    text = records.text
    lines = _lines(text)
    starts = list(itertools.accumulate(map(len, lines), initial=0))
    # The csv module's default field size limit (128 KiB) is no limit of the format: no field
    # is longer than the text.
    field_size_limit = csv.field_size_limit()
    csv.field_size_limit(max(field_size_limit, len(text) + 1))
    try:
        csv_records = _csv_records(lines)
        header = next(csv_records, None)
        if header is None:
            return
        _, end, columns = header
        bad_byte = _NOT_UTF8.search(text, 0, starts[end])
        if isinstance(columns, str) or bad_byte is not None:
            problem = columns if bad_byte is None else records.not_utf8(bad_byte.start(), 1, 0)
            reason = f"the header cannot be read, nor any record without it: {problem}"
            records.reject(1, reason, (0, starts[end]))
            return
        records.is_csv, records.columns = True, list(columns)
        for first, end, fields in csv_records:
            line, span = first + 1, (starts[first], starts[end])
            if isinstance(fields, str):
                records.reject(line, fields, span)
            elif not any(value.strip(" \t") for value in fields):
                continue
            elif len(fields) > len(columns):
                reason = f"{len(fields)} fields, but the header names {len(columns)}"
                records.reject(line, reason, span)
            else:
                record = dict(zip(columns, fields, strict=False))
                records.add(line, record, starts[first], starts[end])
    finally:
        csv.field_size_limit(field_size_limit)


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
    # Read as bytes: nothing translates line endings before the format's own rules see them,
    # and a byte that is not UTF-8 rejects the record that holds it, not the dump.
    data = source.read_bytes()
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    records = _Records(data[bom:].decode("utf-8", "surrogateescape"), bom)
    _READERS[dump_format](records)
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
        broken = connection.execute(
            """
            select _source_row, array_to_string(violations, '; '),
                list_sort(list_distinct(
                    list_transform(violations, lambda v: split_part(v, ':', 1))
                ))
            from _validated
            where len(violations) > 0
            """
        ).fetchall()
        rejected = records.unreadable + [
            (
                records.order[row],
                RejectedRecord(
                    records.lines[row], reason, tuple(faulty), fields=records.fields(row)
                ),
            )
            for row, reason, faulty in broken
        ]
        report.rejected_records = [record for _, record in sorted(rejected, key=itemgetter(0))]
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
    """Record the import in the warehouse, in one transaction: its rejected records in
    `raw.events_import_rejected`, in place of those an earlier import of the same dump (the
    same path) left there, and a row of the audit log."""
    create_table_if_missing(connection, IMPORT_REJECTED_TABLE, IMPORT_REJECTED_COLUMNS)
    register_anonymize_ip(connection)
    records = report.rejected_records
    rejected = pa.table(
        {
            "line": pa.array([r.line for r in records], pa.int64()),
            "columns": pa.array([list(r.columns) for r in records], pa.list_(pa.string())),
            "reason": pa.array([r.reason for r in records], pa.string()),
            "fields": pa.array([r.fields for r in records], pa.string()),
            "text": pa.array([r.text for r in records], pa.string()),
        }
    )
    dump = str(report.source.resolve())
    with transaction(connection):
        connection.execute(f"delete from {IMPORT_REJECTED_TABLE} where _source_file = ?", [dump])
        connection.register("_import_rejected", rejected)
        try:
            # A raw IP address is never stored, even in a rejected row (as in the loader's).
            connection.execute(
                f"""
                insert into {IMPORT_REJECTED_TABLE}
                select ?, line, cast(timezone('UTC', now()) as date), columns, reason,
                    case when json_exists(fields, '$.ip_address') then json_merge_patch(
                        fields,
                        json_object('ip_address', anonymize_ip(fields ->> '$.ip_address'))
                    ) else cast(fields as json) end,
                    text, timezone('UTC', now())
                from _import_rejected
                """,
                [dump],
            )
        finally:
            connection.unregister("_import_rejected")
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
