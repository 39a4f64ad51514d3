"""Loading many days in one batch: the files of a batch are validated together, and the result is
the result of loading the days one by one."""

from __future__ import annotations

import struct
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.contract import EVENTS
from orchestration.landing.loader import REJECTED, load_partition, load_partitions
from tests.landing_files import DAY_1, DAY_2, DAY_3, event, utc, write_landing_file

TEXT_TIMESTAMPS = pa.schema(
    [
        field.with_type(pa.string()) if field.name in ("timestamp", "received_at") else field
        for field in EVENTS.arrow_schema()
    ]
    + [pa.field("campaign", pa.string())]
)
WITHOUT_RECEIVED_AT = pa.schema([f for f in EVENTS.arrow_schema() if f.name != "received_at"])


def write_corrupt_pages(raw_landing: Path, day: date, name: str) -> Path:
    """A file whose footer reads (its schema is the contract's) but whose data pages do not."""
    path = write_landing_file(
        raw_landing, EVENTS, day, name, [event(f"c{i}", page_title="x" * 50) for i in range(200)]
    )
    data = bytearray(path.read_bytes())
    footer = struct.unpack("<I", data[-8:-4])[0]
    data[4 : len(data) - footer - 8] = b"\xab" * (len(data) - footer - 12)
    path.write_bytes(bytes(data))
    return path


def write_mixed_days(raw_landing: Path) -> None:
    """Three days of files of three schemas, with a duplicate across days, bad rows, a file
    missing a required column, an unreadable file and a file with corrupt data pages."""
    write_landing_file(
        raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1"), event("m2"), event("m2")]
    )
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-1.parquet",
        [
            event(
                "m3",
                timestamp="2026-03-01T10:00:00+02:00",
                received_at="2026-03-01T08:00:01Z",
                campaign="spring",
            ),
            event("m4", timestamp="yesterday", received_at="2026-03-01T08:00:01Z"),
        ],
        schema=TEXT_TIMESTAMPS,
    )
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_2,
        "part-0.parquet",
        [event("m1", received_at=utc("2026-03-01 09:00:00")), event("m5", event_type="click")],
    )
    write_landing_file(
        raw_landing, EVENTS, DAY_2, "part-1.parquet", [event("m6")], schema=WITHOUT_RECEIVED_AT
    )
    (raw_landing / "events" / "date=2026-03-02" / "part-2.parquet").write_bytes(b"PAR1 no")
    write_corrupt_pages(raw_landing, DAY_3, "part-0.parquet")
    write_landing_file(raw_landing, EVENTS, DAY_3, "part-1.parquet", [event("m7"), event("m3")])


def raw_state(connection: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every landing table, without the load's timestamps."""
    return {
        table: connection.execute(
            f"select * exclude ({lineage}) from {table} order by all"
        ).fetchall()
        for table, lineage in (
            ("raw.events", "_loaded_at"),
            ("raw.events_duplicates", "_loaded_at"),
            ("raw.events_rejected", "_rejected_at"),
            ("raw.load_manifest", "loaded_at"),
        )
    }


def test_a_batch_of_mixed_days_loads_what_loading_them_one_by_one_loads(tmp_path, raw_landing):
    write_mixed_days(raw_landing)
    one_by_one = duckdb.connect(str(tmp_path / "one-by-one.duckdb"))
    singles = [
        load_partition(one_by_one, EVENTS, raw_landing, day) for day in (DAY_3, DAY_1, DAY_2)
    ]
    one_batch = duckdb.connect(str(tmp_path / "one-batch.duckdb"))

    batch = load_partitions(one_batch, EVENTS, raw_landing, [DAY_1, DAY_2, DAY_3])

    assert raw_state(one_batch) == raw_state(one_by_one)
    by_day = {load.landing_date: load for load in singles}
    for load in batch:
        single = by_day[load.landing_date]
        assert [(f.file_path, f.status, f.reason, f.extra_columns) for f in load.files] == [
            (f.file_path, f.status, f.reason, f.extra_columns) for f in single.files
        ]
        assert load.rejected_examples == single.rejected_examples
    assert one_batch.execute(
        "select file_path, status, rows_read, rows_loaded, rows_rejected, rows_duplicate "
        "from raw.load_manifest order by file_path"
    ).fetchall() == [
        ("events/date=2026-03-01/part-0.parquet", "loaded", 3, 1, 0, 2),
        ("events/date=2026-03-01/part-1.parquet", "loaded", 2, 1, 1, 0),
        ("events/date=2026-03-02/part-0.parquet", "loaded", 2, 1, 1, 0),
        ("events/date=2026-03-02/part-1.parquet", REJECTED, 1, 0, 1, 0),
        ("events/date=2026-03-02/part-2.parquet", REJECTED, 0, 0, 0, 0),
        ("events/date=2026-03-03/part-0.parquet", REJECTED, 0, 0, 0, 0),
        ("events/date=2026-03-03/part-1.parquet", "loaded", 2, 1, 0, 1),
    ]


def test_a_file_with_corrupt_pages_rejects_only_itself_among_files_of_its_schema(
    warehouse, raw_landing
):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    write_corrupt_pages(raw_landing, DAY_2, "part-0.parquet")
    write_landing_file(raw_landing, EVENTS, DAY_3, "part-0.parquet", [event("m3")])

    loads = load_partitions(warehouse, EVENTS, raw_landing, [DAY_1, DAY_2, DAY_3])

    corrupt = loads[1].files[0]
    assert corrupt.status == REJECTED
    assert corrupt.reason.startswith("cannot read the file's rows: ")
    assert [load.rows_loaded for load in loads] == [1, 0, 1]
    assert warehouse.execute("select message_id from raw.events order by 1").fetchall() == [
        ("m1",),
        ("m3",),
    ]


def test_rejected_examples_of_a_batch_are_each_days_own(warehouse, raw_landing):
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [event(f"a{i}", event_type="x") for i in range(12)],
    )
    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("b1")])
    write_landing_file(raw_landing, EVENTS, DAY_3, "part-0.parquet", [event("c1", tenant_id=None)])

    day_1, day_2, day_3 = load_partitions(warehouse, EVENTS, raw_landing, [DAY_1, DAY_2, DAY_3])

    assert len(day_1.rejected_examples) == 10
    assert day_1.rejected_examples[0] == (
        "events/date=2026-03-01/part-0.parquet row 0: "
        "event_type: 'x' is not one of track, page, identify"
    )
    assert day_2.rejected_examples == []
    assert day_3.rejected_examples == [
        "events/date=2026-03-03/part-0.parquet row 0: tenant_id: required value is missing"
    ]


def test_days_without_files_cost_nothing(warehouse, raw_landing):
    first = date(2026, 1, 1)
    days = [first + timedelta(days=n) for n in range(300)]
    for day in days[::30]:
        write_landing_file(raw_landing, EVENTS, day, "part-0.parquet", [event(f"m-{day}")])

    loads = load_partitions(warehouse, EVENTS, raw_landing, days)

    assert len(loads) == 300
    assert [load.landing_date for load in loads if not load.nothing_landed] == days[::30]
    assert all(load.files == [] for load in loads if load.nothing_landed)
    assert warehouse.execute("select count(*) from audit.actions").fetchone() == (10,)
    assert warehouse.execute("select count(*) from raw.load_manifest").fetchone() == (10,)


def test_a_day_whose_every_file_was_removed_is_emptied(warehouse, raw_landing):
    path = write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m2")])
    load_partitions(warehouse, EVENTS, raw_landing, [DAY_1, DAY_2])
    path.unlink()

    day_1, day_2 = load_partitions(warehouse, EVENTS, raw_landing, [DAY_1, DAY_2])

    assert (day_1.files, day_1.unchanged, day_1.nothing_landed) == ([], False, False)
    assert day_2.unchanged
    assert warehouse.execute("select message_id from raw.events").fetchall() == [("m2",)]
    assert warehouse.execute(
        "select target, action from audit.actions order by occurred_at, target"
    ).fetchall()[-2:] == [("raw.events 2026-03-01", "reload"), ("raw.events 2026-03-02", "reload")]
