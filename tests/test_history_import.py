"""Historical import: a dump in each format, with bad lines, becomes contract-conformant landing
files of the good rows and a report naming every bad one."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.cli import main
from orchestration.contract import EVENTS
from orchestration.history_import import (
    DumpFormat,
    ImportReport,
    RejectedRecord,
    import_history,
    record_import,
)
from orchestration.landing.loader import load_partition
from orchestration.maintenance import cleanup, forget_person
from orchestration.settings import Settings
from tests.landing_files import DAY_1, DAY_2

GOOD = [
    {
        "message_id": "h1",
        "tenant_id": "acme",
        "project_id": "web",
        "event_type": "page",
        "event_name": "page_view",
        "timestamp": "2026-03-01T10:00:00Z",
        "received_at": "2026-03-01T10:00:01.250Z",
        "anonymous_id": "anon-1",
        "page_path": "/pricing",
        "ip_address": "203.0.113.77",
        "screen_width": "1440",
        "legacy_score": "7",
    },
    {
        "message_id": "h2",
        "tenant_id": "acme",
        "project_id": "web",
        "event_type": "track",
        "event_name": "purchase",
        "timestamp": "2026-03-01 23:59:00",
        "sent_at": "2026-03-01 23:59:30",
        "received_at": "2026-03-02 00:00:05",
        "anonymous_id": "anon-1",
        "user_id": "user-1",
        "properties": '{"value": 9.5, "currency": "EUR", "note": "it\'s \\"quoted\\", ok"}',
    },
    {
        "message_id": "h3",
        "tenant_id": "acme",
        "project_id": "web",
        "event_type": "page",
        "event_name": "page_view",
        "timestamp": "2026-03-02T08:00:00+02:00",
        "received_at": "2026-03-02T06:00:01Z",
        "anonymous_id": "anon-2",
    },
]
BAD_TIMESTAMP = {**GOOD[2], "message_id": "h4", "timestamp": "yesterday"}
NO_ANONYMOUS_ID = {k: v for k, v in GOOD[2].items() if k != "anonymous_id"} | {"message_id": "h5"}


def write_dump(path: Path, dump_format: DumpFormat) -> Path:
    """Three good records, a broken line (third), then two records breaking the contract."""
    if dump_format is DumpFormat.CSV:
        columns = list(dict.fromkeys(k for record in GOOD for k in record))
        lines = [",".join(columns)]
        for record in [GOOD[0], GOOD[1], None, GOOD[2], BAD_TIMESTAMP, NO_ANONYMOUS_ID]:
            if record is None:
                lines.append("h9,acme,web,page,page_view" + "," * len(columns))
                continue
            fields = [str(record.get(column, "")) for column in columns]
            lines.append(",".join('"' + f.replace('"', '""') + '"' for f in fields))
        text = "\n".join(lines) + "\n"
    else:
        records = [json.dumps(r) for r in GOOD[:2]]
        records += ['{"message_id": "h9", "tenant_id": acme}']
        records += [json.dumps(r) for r in (GOOD[2], BAD_TIMESTAMP, NO_ANONYMOUS_ID)]
        if dump_format is DumpFormat.NDJSON:
            text = "\n".join(records) + "\n"
        else:
            text = "[\n" + ",\n".join(records) + "\n]\n"
    path.write_text(text)
    return path


EXPECTED_REJECTED = [
    "line 5: timestamp: 'yesterday' is not a timestamp",
    "line 6: anonymous_id: required value is missing",
]


@pytest.mark.parametrize("dump_format", list(DumpFormat))
def test_an_import_reports_each_bad_line_and_loads_the_rest(
    tmp_path, raw_landing, warehouse, dump_format
):
    # Line 1 of a JSON array is `[`, of a CSV the header: the records sit one line lower.
    offset = 0 if dump_format is DumpFormat.NDJSON else 1
    dump = write_dump(tmp_path / f"old.{dump_format}", dump_format)

    report = import_history(dump, dump_format, raw_landing)

    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (6, 3, 3)
    broken_line = report.rejected[0]
    assert broken_line.startswith(f"line {3 + offset}: ")
    shifted = [
        f"line {int(m.split(':')[0].split()[1]) + offset}:{m.split(':', 1)[1]}"
        for m in EXPECTED_REJECTED
    ]
    assert report.rejected[1:] == shifted
    assert report.ignored_columns == ["legacy_score"]
    assert sorted(report.files_written) == [DAY_1, DAY_2]
    for day in (DAY_1, DAY_2):
        load = load_partition(warehouse, EVENTS, raw_landing, day)
        assert (load.rows_read, load.rows_rejected) == (load.rows_loaded, 0)
    assert warehouse.execute(
        "select message_id, received_at, timestamp, ip_address, screen_width, _landing_date "
        "from raw.events order by message_id"
    ).fetchall() == [
        (
            "h1",
            _ts("2026-03-01 10:00:01.250"),
            _ts("2026-03-01 10:00:00"),
            "203.0.113.0",
            1440,
            DAY_1,
        ),
        ("h2", _ts("2026-03-02 00:00:05"), _ts("2026-03-01 23:59:00"), None, None, DAY_2),
        ("h3", _ts("2026-03-02 06:00:01"), _ts("2026-03-02 06:00:00"), None, None, DAY_2),
    ]


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("dump_format", "message"),
    [
        (DumpFormat.NDJSON, "line 3: not valid JSON: Expecting value at column 35"),
        (DumpFormat.JSON, "line 4: not valid JSON: Expecting value at column 35"),
        (DumpFormat.CSV, "line 4: 20 fields, but the header names 15"),
    ],
)
def test_a_broken_line_says_where_and_what(tmp_path, raw_landing, dump_format, message):
    dump = write_dump(tmp_path / f"old.{dump_format}", dump_format)

    report = import_history(dump, dump_format, raw_landing)

    assert report.rejected[0] == message


def test_files_have_the_contract_schema_and_values_are_data(tmp_path, raw_landing):
    dump = write_dump(tmp_path / "old.ndjson", DumpFormat.NDJSON)

    report = import_history(dump, DumpFormat.NDJSON, raw_landing)

    path = report.files_written[DAY_2]
    assert path.parent == raw_landing / "events" / "date=2026-03-02"
    table = pq.read_table(path)
    assert table.schema == EVENTS.arrow_schema()
    assert table.column("properties").to_pylist()[0] == GOOD[1]["properties"]


def test_importing_the_same_dump_again_rewrites_the_same_files(tmp_path, raw_landing):
    dump = write_dump(tmp_path / "old.json", DumpFormat.JSON)

    first = import_history(dump, DumpFormat.JSON, raw_landing)
    second = import_history(dump, DumpFormat.JSON, raw_landing)

    assert first.files_written == second.files_written
    assert len(list(raw_landing.rglob("*.parquet"))) == 2


def test_a_dump_without_a_required_column_rejects_every_row_naming_it(tmp_path, raw_landing):
    dump = tmp_path / "old.ndjson"
    dump.write_text(json.dumps({"message_id": "x", "tenant_id": "acme"}) + "\n")

    report = import_history(dump, DumpFormat.NDJSON, raw_landing)

    assert report.rows_accepted == 0
    assert report.rejected[0].startswith(
        "line 1: project_id: required column is missing from the file"
    )
    assert report.files_written == {}


def test_an_import_has_its_audit_row(tmp_path, raw_landing, warehouse):
    dump = write_dump(tmp_path / "old.csv", DumpFormat.CSV)
    report = import_history(dump, DumpFormat.CSV, raw_landing)

    record_import(warehouse, report, raw_landing, actor="tester")

    target, actor, rows, details = warehouse.execute(
        "select target, actor, rows_affected, details from audit.actions where action = 'import'"
    ).fetchone()
    assert (target, actor, rows) == (str(dump), "tester", 3)
    assert json.loads(details) == {
        "rows_read": 6,
        "rows_accepted": 3,
        "rows_rejected": 3,
        "files": [
            f"events/date=2026-03-01/{report.files_written[DAY_1].name}",
            f"events/date=2026-03-02/{report.files_written[DAY_2].name}",
        ],
    }


def test_import_command_reports_and_says_how_to_backfill(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAW_LANDING_DIR", str(tmp_path / "raw_landing"))
    monkeypatch.setenv("WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    dump = write_dump(tmp_path / "old.ndjson", DumpFormat.NDJSON)

    assert main(["import", str(dump)]) == 0

    out = capsys.readouterr().out
    assert f"{dump}: 6 rows read, 3 accepted, 3 rejected." in out
    assert "  rejected line 5: timestamp: 'yesterday' is not a timestamp\n" in out
    assert "with: warehouse run --start 2026-03-01 --end 2026-03-02\n" in out
    with duckdb.connect(str(tmp_path / "warehouse" / "warehouse.duckdb")) as connection:
        assert connection.execute(
            "select rows_affected from audit.actions where action = 'import'"
        ).fetchall() == [(3,)]
        assert connection.execute(
            "select _source_file, _source_line from raw.events_import_rejected order by all"
        ).fetchall() == [(str(dump.resolve()), line) for line in (3, 5, 6)]


def test_import_command_asks_for_a_format_it_cannot_tell(tmp_path, capsys):
    dump = tmp_path / "old.txt"
    dump.write_text("{}\n")

    assert main(["import", str(dump)]) == 2
    assert "pass --format json|ndjson|csv" in capsys.readouterr().err


def record(message_id: str, **fields: Any) -> dict[str, Any]:
    """A valid page view of DAY_1 as a dump holds it, with `fields` changed or added."""
    return {
        "message_id": message_id,
        "tenant_id": "acme",
        "project_id": "web",
        "event_type": "page",
        "event_name": "page_view",
        "timestamp": "2026-03-01T10:00:00Z",
        "received_at": "2026-03-01T10:00:01Z",
        "anonymous_id": "anon-1",
        **fields,
    }


CSV_COLUMNS = [*record("x"), "page_title", "properties"]


def csv_line(values: dict[str, Any]) -> str:
    """One CSV record of CSV_COLUMNS; a value is quoted only when it holds `,`, `"`, CR or LF."""
    fields = [str(values.get(column, "")) for column in CSV_COLUMNS]
    return ",".join(
        '"' + field.replace('"', '""') + '"' if any(c in field for c in ',"\r\n') else field
        for field in fields
    )


def messages(report: ImportReport) -> list[str]:
    return [str(rejected) for rejected in report.rejected]


def landed(report: ImportReport, *columns: str) -> list[tuple[Any, ...]]:
    """The values of `columns` in the landing files the import wrote, by message_id."""
    tables = [pq.read_table(path, columns=list(columns)) for path in report.files_written.values()]
    rows = [row for table in tables for row in zip(*table.to_pydict().values(), strict=True)]
    return sorted(rows)


def test_ndjson_values_may_hold_unicode_line_separators(tmp_path, raw_landing):
    titles = ["up\u2028down", "para\u2029graph", "next\x85line"]
    lines = [
        json.dumps(record(f"n{number}", page_title=title), ensure_ascii=False)
        for number, title in enumerate(titles, start=1)
    ]
    lines.append(json.dumps(record("n4", timestamp="yesterday")))
    dump = tmp_path / "old.ndjson"
    dump.write_bytes("\n".join(lines).encode() + b"\n")

    report = import_history(dump, DumpFormat.NDJSON, raw_landing)

    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (4, 3, 1)
    assert messages(report) == ["line 4: timestamp: 'yesterday' is not a timestamp"]
    assert landed(report, "message_id", "page_title") == [
        ("n1", "up\u2028down"),
        ("n2", "para\u2029graph"),
        ("n3", "next\x85line"),
    ]


def test_a_csv_field_of_any_size_is_read_and_checked(tmp_path, raw_landing):
    title, timestamp = "t" * 200_000, "9" * 200_000
    dump = tmp_path / "old.csv"
    dump.write_text(
        ",".join(CSV_COLUMNS)
        + "\n"
        + csv_line(record("c1", page_title=title))
        + "\n"
        + csv_line(record("c2", timestamp=timestamp))
        + "\n"
    )

    report = import_history(dump, DumpFormat.CSV, raw_landing)

    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (2, 1, 1)
    assert messages(report) == [f"line 3: timestamp: '{'9' * 80}...' is not a timestamp"]
    assert landed(report, "message_id", "page_title") == [("c1", title)]


def test_an_unquoted_csv_field_keeps_unicode_line_separators(tmp_path, raw_landing):
    dump = tmp_path / "old.csv"
    lines = [
        ",".join(CSV_COLUMNS),
        csv_line(record("c1", page_title="up\u2028down")),
        csv_line(record("c2", page_title="next\x85line")),
        csv_line(record("c3", page_title="para\u2029graph", timestamp="yesterday")),
    ]
    dump.write_bytes("\n".join(lines).encode() + b"\n")

    report = import_history(dump, DumpFormat.CSV, raw_landing)

    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (3, 2, 1)
    assert messages(report) == ["line 4: timestamp: 'yesterday' is not a timestamp"]
    assert landed(report, "message_id", "page_title") == [
        ("c1", "up\u2028down"),
        ("c2", "next\x85line"),
    ]


def test_a_csv_record_is_numbered_by_the_line_it_starts_on(tmp_path, raw_landing):
    # Lines 2-4 are one record, its title quoted over three lines; line 6 holds a U+2028.
    dump = tmp_path / "old.csv"
    lines = [
        ",".join(CSV_COLUMNS),
        csv_line(record("c1", page_title="first\nsecond\r\nthird")),
        csv_line(record("c2", timestamp="yesterday")),
        csv_line(record("c3", page_title="up\u2028down")),
        csv_line(record("c4", received_at="never")),
    ]
    dump.write_bytes("\r\n".join(lines).encode() + b"\r\n")

    report = import_history(dump, DumpFormat.CSV, raw_landing)

    assert messages(report) == [
        "line 5: timestamp: 'yesterday' is not a timestamp",
        "line 7: received_at: 'never' is not a timestamp",
    ]
    assert landed(report, "message_id", "page_title") == [
        ("c1", "first\nsecond\r\nthird"),
        ("c3", "up\u2028down"),
    ]


def js(values: dict[str, Any]) -> bytes:
    """A record as JSON text, non-ASCII characters as they are (escapes only where JSON must)."""
    return json.dumps(values, ensure_ascii=False).encode()


def csv_dump(*lines: bytes) -> bytes:
    return b"\n".join([CSV_HEADER, *lines]) + b"\n"


CSV_HEADER = ",".join(CSV_COLUMNS).encode()


def csv_bytes(values: dict[str, Any]) -> bytes:
    return csv_line(values).encode()


def json_array(*elements: bytes) -> bytes:
    return b"[\n" + b",\n".join(elements) + b"\n]\n"


def ndjson(*lines: bytes) -> bytes:
    return b"\n".join(lines) + b"\n"


@dataclass
class Hostile:
    """A hostile dump and what its import must give: rows read, the report's lines, and the
    (message_id, page_title) of the rows that landed."""

    name: str
    dump_format: DumpFormat
    data: bytes
    rows_read: int
    rejected: list[str]
    landed: list[tuple[str, str | None]] = field(default_factory=list)


SEPARATORS = "up\u2028down\u2029and\x85on"
LONG = "t" * 200_000
DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_PROPERTIES = '{"a":' * 100_000 + "1" + "}" * 100_000
FIRST = js(record("r1"))  # the first line, whose length the byte offsets after it count
LONG_TIMESTAMP = f"timestamp: '{'9' * 80}...' is not a timestamp"
NOT_OBJECTS = [b"[1, 2]", b"42", b"null", b'"text"', b"true"]
NOT_OBJECT_REASONS = [
    f"not a JSON object but {kind}" for kind in ("an array", "a number", "null", "a string")
] + ["not a JSON object but a boolean"]

HOSTILE = [
    Hostile(
        "ndjson-separators-and-nul",
        DumpFormat.NDJSON,
        ndjson(
            js(record("r1", page_title=SEPARATORS)),
            js(record("r2", page_title="nul\x00escaped")),
            b'{"message_id": "r3", "page_title": "raw\x00nul"}',
        ),
        3,
        ["line 3: not valid JSON: Invalid control character at column 40"],
        [("r1", SEPARATORS), ("r2", "nul\x00escaped")],
    ),
    Hostile(
        "ndjson-not-utf8",
        DumpFormat.NDJSON,
        ndjson(
            FIRST, b'{"page_title": "caf\xe9", "message_id": "r2"}', b'{"message_id": \xff"r3"}'
        ),
        3,
        [
            f"line 2: page_title: byte 0xe9 at column 20 (byte offset {len(FIRST) + 1 + 19}) "
            "is not UTF-8",
            f"line 3: byte 0xff at column 16 (byte offset {len(FIRST) + 1 + 42 + 1 + 15}) "
            "is not UTF-8",
        ],
        [("r1", None)],
    ),
    Hostile(
        "ndjson-surrogates",
        DumpFormat.NDJSON,
        ndjson(
            json.dumps(record("r1", page_title="\ud800 alone")).encode(),
            json.dumps(record("r2", page_title="\U0001f600 paired")).encode(),
            json.dumps(record("r3", properties={"note": "\udfff"})).encode(),
        ),
        3,
        [
            "line 1: page_title: an unpaired surrogate (\\ud800) is not a Unicode character",
            "line 3: properties: an unpaired surrogate (\\udfff) is not a Unicode character",
        ],
        [("r2", "\U0001f600 paired")],
    ),
    Hostile(
        "ndjson-huge-and-deep",
        DumpFormat.NDJSON,
        ndjson(
            js(record("r1", page_title=LONG)),
            js(record("r2", timestamp="9" * 200_000)),
            DEEP,
            b'{"message_id": "r4", "screen_width": ' + b"9" * 5000 + b"}",
            js(record("r5", properties={"a": {"b": {"c": {"d": [[[[1]]]]}}}})),
        ),
        5,
        [
            f"line 2: {LONG_TIMESTAMP}",
            "line 3: JSON nested too deeply to read",
            "line 4: not readable JSON: Exceeds the limit (4300 digits) for integer string "
            "conversion: value has 5000 digits",
        ],
        [("r1", LONG), ("r5", None)],
    ),
    Hostile("ndjson-empty", DumpFormat.NDJSON, b"", 0, []),
    Hostile("ndjson-only-blank-lines", DumpFormat.NDJSON, b"\n \r\n\t\n", 0, []),
    Hostile(
        "ndjson-bom-and-mixed-line-endings",
        DumpFormat.NDJSON,
        b"\xef\xbb\xbf"
        + FIRST
        + b"\r\n"
        + js(record("r2", timestamp="yesterday"))
        + b"\n"
        + js(record("r3"))
        + b"\r\n\n"
        + js(record("r5", received_at="never")),
        4,
        [
            "line 2: timestamp: 'yesterday' is not a timestamp",
            "line 5: received_at: 'never' is not a timestamp",
        ],
        [("r1", None), ("r3", None)],
    ),
    Hostile(
        "ndjson-unterminated-and-not-objects",
        DumpFormat.NDJSON,
        ndjson(b'{"message_id": "r1", "page_title": "open', *NOT_OBJECTS, js(record("r7"))),
        7,
        ["line 1: not valid JSON: Unterminated string starting at column 36"]
        + [f"line {number}: {reason}" for number, reason in enumerate(NOT_OBJECT_REASONS, 2)],
        [("r7", None)],
    ),
    Hostile(
        "json-separators-and-nul",
        DumpFormat.JSON,
        json_array(
            js(record("r1", page_title=SEPARATORS)),
            js(record("r2", page_title="nul\x00escaped")),
            b'{"message_id": "r3", "page_title": "raw\x00nul"}',
        ),
        3,
        ["line 4: not valid JSON: Invalid control character at column 40"],
        [("r1", SEPARATORS), ("r2", "nul\x00escaped")],
    ),
    Hostile(
        "json-not-utf8",
        DumpFormat.JSON,
        json_array(FIRST, b'{"page_title": "caf\xe9", "message_id": "r2"}', js(record("r3"))),
        3,
        [
            f"line 3: page_title: byte 0xe9 at column 20 (byte offset {2 + len(FIRST) + 2 + 19})"
            " is not UTF-8"
        ],
        [("r1", None), ("r3", None)],
    ),
    Hostile(
        "json-not-utf8-between-tokens",
        DumpFormat.JSON,
        json_array(b'{"message_id": \xff"r1"}', FIRST),
        2,
        ["line 2: byte 0xff at column 16 (byte offset 17) is not UTF-8"],
        [("r1", None)],
    ),
    Hostile(
        "json-surrogates",
        DumpFormat.JSON,
        json_array(
            json.dumps(record("r1", page_title="\ud800 alone")).encode(),
            json.dumps(record("r2", page_title="\U0001f600 paired")).encode(),
            json.dumps({"\udfff": "in a name", **record("r3")}).encode(),
        ),
        3,
        [
            "line 2: page_title: an unpaired surrogate (\\ud800) is not a Unicode character",
            "line 4: \\udfff: an unpaired surrogate (\\udfff) is not a Unicode character",
        ],
        [("r2", "\U0001f600 paired")],
    ),
    Hostile(
        "json-huge-and-deep",
        DumpFormat.JSON,
        json_array(
            js(record("r1", page_title=LONG)),
            js(record("r2", timestamp="9" * 200_000)),
            DEEP,
            js(record("r4")),
        ),
        4,
        [f"line 3: {LONG_TIMESTAMP}", "line 4: JSON nested too deeply to read"],
        [("r1", LONG), ("r4", None)],
    ),
    Hostile("json-empty", DumpFormat.JSON, b"", 0, []),
    Hostile("json-empty-array", DumpFormat.JSON, b"[\r\n]\r\n", 0, []),
    Hostile(
        "json-bom-and-mixed-line-endings",
        DumpFormat.JSON,
        b"\xef\xbb\xbf[\r\n"
        + FIRST
        + b",\r\n"
        + js(record("r2", timestamp="yesterday"))
        + b",\n"
        + js(record("r3"))
        + b"\r\n]",
        3,
        ["line 3: timestamp: 'yesterday' is not a timestamp"],
        [("r1", None), ("r3", None)],
    ),
    Hostile(
        "json-unterminated-and-unclosed",
        DumpFormat.JSON,
        b"[\n"
        + FIRST
        + b',\n{"message_id": "r2", "page_title": "open\n'
        + js(record("r3"))
        + b"\n",
        4,
        [
            "line 3: not valid JSON: Invalid control character at column 41",
            "line 5: the array is not closed",
        ],
        [("r1", None), ("r3", None)],
    ),
    Hostile(
        "json-not-objects",
        DumpFormat.JSON,
        json_array(*NOT_OBJECTS, js(record("r6"))),
        6,
        [f"line {number}: {reason}" for number, reason in enumerate(NOT_OBJECT_REASONS, 2)],
        [("r6", None)],
    ),
    Hostile(
        "json-not-an-array", DumpFormat.JSON, FIRST, 1, ["line 1: the dump is not a JSON array"]
    ),
    Hostile(
        "json-text-after-the-array",
        DumpFormat.JSON,
        json_array(FIRST) + js(record("r2")),
        2,
        ["line 4: text after the end of the array is not read"],
        [("r1", None)],
    ),
    Hostile(
        "csv-separators-and-nul",
        DumpFormat.CSV,
        csv_dump(
            csv_bytes(record("r1", page_title="up\u2028down")),
            csv_bytes(record("r2", page_title="next\x85line\u2029")),
            csv_bytes(record("r3", page_title="nul\x00byte")),
            csv_bytes(record("r4", timestamp="2026\x00")),
        ),
        4,
        ["line 5: timestamp: '2026\\x00' is not a timestamp"],
        [("r1", "up\u2028down"), ("r2", "next\x85line\u2029"), ("r3", "nul\x00byte")],
    ),
    Hostile(
        "csv-not-utf8",
        DumpFormat.CSV,
        csv_dump(
            b"r1,acme,web,page,page_view,2026-03-01T10:00:00Z,2026-03-01T10:00:01Z,anon-1,caf\xe9,",
            csv_bytes(record("r2")),
        ),
        2,
        [
            f"line 2: page_title: byte 0xe9 at column 80 (byte offset {len(CSV_HEADER) + 1 + 79})"
            " is not UTF-8"
        ],
        [("r2", None)],
    ),
    Hostile(
        "csv-not-utf8-in-the-header",
        DumpFormat.CSV,
        b"message_id,page_\xfftitle\nr1,a\n",
        1,
        [
            "line 1: the header cannot be read, nor any record without it: byte 0xff at column 17"
            " (byte offset 16) is not UTF-8"
        ],
    ),
    Hostile(
        "csv-surrogate-escapes-are-text",
        DumpFormat.CSV,
        csv_dump(
            csv_bytes(record("r1", page_title="\\ud800")),
            csv_bytes(record("r2", properties='{"note": "\\ud800"}')),
        ),
        2,
        ['line 3: properties: \'{"note": "\\ud800"}\' is not a JSON object'],
        [("r1", "\\ud800")],
    ),
    Hostile(
        "csv-huge-and-deep",
        DumpFormat.CSV,
        csv_dump(
            csv_bytes(record("r1", page_title=LONG + "\n" + LONG)),
            csv_bytes(record("r2", timestamp="9" * 200_000)),
            csv_bytes(record("r3", properties=DEEP_PROPERTIES)),
        ),
        3,
        [f"line 4: {LONG_TIMESTAMP}"],
        [("r1", LONG + "\n" + LONG), ("r3", None)],
    ),
    Hostile("csv-empty", DumpFormat.CSV, b"", 0, []),
    Hostile("csv-only-a-header", DumpFormat.CSV, CSV_HEADER, 0, []),
    Hostile(
        "csv-bom-and-mixed-line-endings",
        DumpFormat.CSV,
        b"\xef\xbb\xbf"
        + CSV_HEADER
        + b"\r\n"
        + csv_bytes(record("r1"))
        + b"\n"
        + csv_bytes(record("r2", page_title="a\r\nb"))
        + b"\r\n"
        + csv_bytes(record("r3", timestamp="yesterday"))
        + b"\n",
        3,
        ["line 5: timestamp: 'yesterday' is not a timestamp"],
        [("r1", None), ("r2", "a\r\nb")],
    ),
    Hostile(
        "csv-unterminated-quote",
        DumpFormat.CSV,
        csv_dump(
            csv_bytes(record("r1")),
            b'r2,acme,web,page,page_view,2026-03-01T10:00:00Z,2026-03-01T10:00:01Z,anon-1,"open,',
            csv_bytes(record("r3")),
            csv_bytes(record("r4")),
        ),
        4,
        ["line 3: a quoted field of this record is never closed"],
        [("r1", None), ("r3", None), ("r4", None)],
    ),
    Hostile(
        "csv-broken-records",
        DumpFormat.CSV,
        csv_dump(
            csv_bytes(record("r1")) + b",extra",
            b'r2,acme,web,page,page_view,2026-03-01T10:00:00Z,2026-03-01T10:00:01Z,anon-1,"a"b,',
            csv_bytes(record("r3", page_title="a#b")).replace(b"#", b"\r"),
            csv_bytes(record("r4")),
        ),
        4,
        [
            "line 2: 11 fields, but the header names 10",
            'line 3: a quoted field is followed by more text: a quote inside a field is written ""',
            "line 4: a carriage return (\\r) without \\n inside an unquoted field: quote the field",
        ],
        [("r4", None)],
    ),
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda hostile: hostile.name)
def test_hostile_input_is_imported_or_rejected_with_its_line(
    tmp_path, raw_landing, warehouse, hostile
):
    dump = tmp_path / f"hostile.{hostile.dump_format}"
    dump.write_bytes(hostile.data)

    report = import_history(dump, hostile.dump_format, raw_landing)
    record_import(warehouse, report, raw_landing)

    assert messages(report) == hostile.rejected
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (
        hostile.rows_read,
        len(hostile.landed),
        len(hostile.rejected),
    )
    assert landed(report, "message_id", "page_title") == hostile.landed
    kept = kept_rejects(warehouse)
    assert [str(RejectedRecord(line, reason)) for _, line, _, reason, _, _ in kept] == messages(
        report
    )
    whole_dump = ("the dump is not a JSON array", "the array is not closed")
    assert all(
        (raw_row is None) != (raw_text is None) or reason in whole_dump
        for *_, reason, raw_row, raw_text in kept
    )


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda hostile: hostile.name)
def test_import_command_reports_hostile_input(tmp_path, monkeypatch, capsys, hostile):
    monkeypatch.setenv("RAW_LANDING_DIR", str(tmp_path / "raw_landing"))
    monkeypatch.setenv("WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    dump = tmp_path / f"hostile.{hostile.dump_format}"
    dump.write_bytes(hostile.data)

    status = main(["import", str(dump), "--report", str(tmp_path / "rejected.txt")])

    assert status == (1 if hostile.rows_read and not hostile.landed else 0)
    assert (
        f"{dump}: {hostile.rows_read} rows read, {len(hostile.landed)} accepted, "
        f"{len(hostile.rejected)} rejected.\n"
    ) in capsys.readouterr().out
    report_lines = (tmp_path / "rejected.txt").read_text(encoding="utf-8").splitlines()
    assert [line for line in report_lines if line] == hostile.rejected


def test_json_nested_to_any_depth_is_imported_or_rejected(tmp_path, raw_landing):
    # Python parses JSON nested up to about its recursion limit (1,000 levels, less what the
    # stack holds then: a test runner's worker process holds more), and writing a parsed value
    # out again takes a few levels more.
    depths = range(700, 1010)
    lines = []
    for depth in depths:
        nested = '{"a":' * depth + "1" + "}" * depth
        lines.append(json.dumps(record(f"d{depth}"))[:-1] + f', "properties": {nested}}}')
        lines.append(
            json.dumps(record(f"s{depth}", page_title="\ud800"))[:-1] + f', "x": {nested}}}'
        )
    dump = tmp_path / "deep.ndjson"
    dump.write_text("\n".join(lines) + "\n")

    report = import_history(dump, DumpFormat.NDJSON, raw_landing)

    lines_written = 2 * len(depths)
    assert (report.rows_read, report.rows_accepted + report.rows_rejected) == (
        lines_written,
        lines_written,
    )
    reasons = {str(rejected).split(": ", 1)[1] for rejected in report.rejected_records}
    assert reasons == {
        "JSON nested too deeply to read",
        "page_title: an unpaired surrogate (\\ud800) is not a Unicode character",
    }
    # Line 2k + 1 holds d<700 + k>, nested only; line 2k + 2 holds its twin with a surrogate.
    imported = [int(message_id[1:]) for (message_id,) in landed(report, "message_id")]
    too_deep = [
        depths.start + rejected.line // 2
        for rejected in report.rejected_records
        if rejected.line % 2
    ]
    assert imported and too_deep
    assert sorted(imported) == list(range(depths.start, min(too_deep)))


def kept_rejects(warehouse: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """The rejects the warehouse keeps, their raw_row parsed."""
    rows = warehouse.execute(
        """
        select _source_file, _source_line, reject_columns, reject_reason, raw_row, raw_text
        from raw.events_import_rejected
        order by _source_file, _source_line
        """
    ).fetchall()
    return [(*row[:4], None if row[4] is None else json.loads(row[4]), row[5]) for row in rows]


def test_rejected_records_are_kept_in_the_warehouse(tmp_path, raw_landing, warehouse):
    dump = write_dump(tmp_path / "old.ndjson", DumpFormat.NDJSON)
    report = import_history(dump, DumpFormat.NDJSON, raw_landing)

    record_import(warehouse, report, raw_landing, actor="tester")

    dump_path = str(dump.resolve())
    assert kept_rejects(warehouse) == [
        (
            dump_path,
            3,
            [],
            "not valid JSON: Expecting value at column 35",
            None,
            '{"message_id": "h9", "tenant_id": acme}',
        ),
        (
            dump_path,
            5,
            ["timestamp"],
            "timestamp: 'yesterday' is not a timestamp",
            BAD_TIMESTAMP,
            None,
        ),
        (
            dump_path,
            6,
            ["anonymous_id"],
            "anonymous_id: required value is missing",
            NO_ANONYMOUS_ID,
            None,
        ),
    ]
    landing_date, rejected_at = warehouse.execute(
        "select distinct _landing_date, _rejected_at from raw.events_import_rejected"
    ).fetchone()
    assert landing_date == rejected_at.date()
    assert abs(rejected_at - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=1)


def test_a_kept_reject_has_its_ip_address_anonymized(tmp_path, raw_landing, warehouse):
    dump = tmp_path / "old.ndjson"
    dump.write_text(
        json.dumps(record("r1", ip_address="203.0.113.77", timestamp="yesterday"))
        + "\n"
        + json.dumps(record("r2", ip_address="not an address"))
        + "\n"
    )
    report = import_history(dump, DumpFormat.NDJSON, raw_landing)

    record_import(warehouse, report, raw_landing)

    assert [raw_row for *_, raw_row, _ in kept_rejects(warehouse)] == [
        record("r1", ip_address="203.0.113.0", timestamp="yesterday"),
        record("r2"),
    ]


def test_importing_a_dump_again_replaces_its_kept_rejects(tmp_path, raw_landing, warehouse):
    other = write_dump(tmp_path / "other.csv", DumpFormat.CSV)
    record_import(warehouse, import_history(other, DumpFormat.CSV, raw_landing), raw_landing)
    dump = write_dump(tmp_path / "old.ndjson", DumpFormat.NDJSON)
    for _ in range(2):
        record_import(warehouse, import_history(dump, DumpFormat.NDJSON, raw_landing), raw_landing)
    assert [line for _, line, *_ in kept_rejects(warehouse)] == [3, 5, 6, 4, 6, 7]

    # The dump, fixed but for its missing anonymous_id, imported once more.
    lines = dump.read_text().splitlines()
    dump.write_text("\n".join(line for number, line in enumerate(lines, 1) if number in (1, 6)))
    record_import(warehouse, import_history(dump, DumpFormat.NDJSON, raw_landing), raw_landing)

    assert [(path, line) for path, line, *_ in kept_rejects(warehouse)] == [
        (str(dump.resolve()), 2),
        (str(other.resolve()), 4),
        (str(other.resolve()), 6),
        (str(other.resolve()), 7),
    ]


def test_a_kept_reject_that_cannot_be_read_keeps_its_text(tmp_path, raw_landing, warehouse):
    dump = tmp_path / "old.csv"
    dump.write_bytes(
        csv_dump(
            b"r1,acme,web,page,page_view,2026-03-01T10:00:00Z,2026-03-01T10:00:01Z,anon-1,caf\xe9,",
            csv_bytes(record("r2", page_title="two\r\nlines")) + b",extra",
            b'r3,acme,web,page,page_view,2026-03-01T10:00:00Z,2026-03-01T10:00:01Z,anon-1,"open,',
            csv_bytes(record("r4")),
        )
    )
    report = import_history(dump, DumpFormat.CSV, raw_landing)

    record_import(warehouse, report, raw_landing)

    assert [
        (line, columns, raw_text) for _, line, columns, _, _, raw_text in kept_rejects(warehouse)
    ] == [
        (
            2,
            ["page_title"],
            "r1,acme,web,page,page_view,2026-03-01T10:00:00Z,2026-03-01T10:00:01Z,anon-1,caf\\xe9,",
        ),
        (3, [], csv_line(record("r2", page_title="two\r\nlines")) + ",extra"),
        (
            5,
            [],
            'r3,acme,web,page,page_view,2026-03-01T10:00:00Z,2026-03-01T10:00:01Z,anon-1,"open,',
        ),
    ]


def settings_at(root: Path) -> Settings:
    return dataclasses.replace(
        Settings.from_env(), raw_landing_dir=root / "raw_landing", warehouse_dir=root / "warehouse"
    )


def test_kept_rejects_are_forgotten_with_their_person(tmp_path, raw_landing, warehouse):
    dump = tmp_path / "old.ndjson"
    dump.write_bytes(
        ndjson(
            js(record("r1", user_id="ada", timestamp="yesterday")),
            js(record("r2", anonymous_id="ada-phone", user_id="ada", received_at="never")),
            js(record("r3", anonymous_id="bob-laptop", timestamp="yesterday")),
        )
    )
    record_import(warehouse, import_history(dump, DumpFormat.NDJSON, raw_landing), raw_landing)

    forget_person(warehouse, settings_at(tmp_path), user_id="ada")

    assert [line for _, line, *_ in kept_rejects(warehouse)] == [3]


def test_kept_rejects_go_when_past_retention(tmp_path, raw_landing, warehouse):
    dump = write_dump(tmp_path / "old.ndjson", DumpFormat.NDJSON)
    record_import(warehouse, import_history(dump, DumpFormat.NDJSON, raw_landing), raw_landing)
    settings = settings_at(tmp_path)
    (imported_on,) = warehouse.execute(
        "select distinct _landing_date from raw.events_import_rejected"
    ).fetchone()
    last_day_kept = datetime.combine(imported_on, time(12)) + timedelta(settings.raw_retention_days)

    kept = cleanup(warehouse, settings, now=last_day_kept)
    gone = cleanup(warehouse, settings, now=last_day_kept + timedelta(days=1))

    assert kept.rows_removed["raw.events_import_rejected"] == 0
    assert gone.rows_removed["raw.events_import_rejected"] == 3
