"""The loader: validation, dedup, idempotent partition replacement and the load manifest."""

from __future__ import annotations

import hashlib
import math
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from orchestration.contract import EVENTS, METRICS
from orchestration.landing import fingerprints, key_hashes, loader
from orchestration.landing.loader import REJECTED, PartitionLoad, load_partition, load_partitions
from tests.landing_files import DAY_1, DAY_2, DAY_3, event, metric, utc, write_landing_file


def load(connection: duckdb.DuckDBPyConnection, raw_landing: Path, day: date) -> PartitionLoad:
    return load_partition(connection, EVENTS, raw_landing, day)


def rejected(connection: duckdb.DuckDBPyConnection, table: str = "raw.events_rejected"):
    return connection.execute(
        f"select _source_file, _source_row, reject_columns, reject_reason from {table} "
        "order by _source_file, _source_row"
    ).fetchall()


def table_snapshot(connection: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    tables = [
        "raw.events",
        "raw.events_duplicates",
        "raw.events_rejected",
        "raw.load_manifest",
    ]
    return {
        table: connection.execute(f"select * from {table} order by all").fetchall()
        for table in tables
    }


def test_valid_rows_are_loaded_with_lineage(warehouse, raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1"), event("m2")])

    result = load(warehouse, raw_landing, DAY_1)

    rows = warehouse.execute(
        "select message_id, timestamp, _source_file, _source_row, _landing_date "
        "from raw.events order by message_id"
    ).fetchall()
    assert rows == [
        (
            "m1",
            utc("2026-03-01 10:00:00").replace(tzinfo=None),
            "events/date=2026-03-01/part-0.parquet",
            0,
            DAY_1,
        ),
        (
            "m2",
            utc("2026-03-01 10:00:00").replace(tzinfo=None),
            "events/date=2026-03-01/part-0.parquet",
            1,
            DAY_1,
        ),
    ]
    assert (result.rows_read, result.rows_loaded, result.rows_rejected, result.rows_duplicate) == (
        2,
        2,
        0,
        0,
    )


def test_rerunning_a_partition_three_times_leaves_identical_tables(warehouse, raw_landing):
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [event("m1"), event("m1"), event("bad", event_type="click")],
    )
    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m1"), event("m2")])
    load(warehouse, raw_landing, DAY_1)
    load(warehouse, raw_landing, DAY_2)
    first = table_snapshot(warehouse)

    for _ in range(3):
        load(warehouse, raw_landing, DAY_2)
        load(warehouse, raw_landing, DAY_1)

    assert table_snapshot(warehouse) == first


def test_duplicate_in_another_file_and_day_keeps_the_earliest_received(warehouse, raw_landing):
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_2,
        "part-0.parquet",
        [event("m1", received_at=utc("2026-03-02 08:00:00"), page_title="retry")],
    )
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-1.parquet",
        [event("m1", received_at=utc("2026-03-01 23:59:00"), page_title="first")],
    )

    day_2 = load(warehouse, raw_landing, DAY_2)
    day_1 = load(warehouse, raw_landing, DAY_1)

    assert warehouse.execute("select page_title, _landing_date from raw.events").fetchall() == [
        ("first", DAY_1)
    ]
    assert warehouse.execute(
        "select page_title, _kept_source_file from raw.events_duplicates"
    ).fetchall() == [("retry", "events/date=2026-03-01/part-1.parquet")]
    assert (day_1.rows_loaded, day_1.rows_duplicate) == (1, 0)
    # Loading the earlier day afterwards demoted the copy day 2 had kept; its manifest says so.
    assert day_2.rows_loaded == 1
    assert warehouse.execute(
        "select landing_date, rows_read, rows_loaded, rows_duplicate from raw.load_manifest "
        "order by landing_date"
    ).fetchall() == [(DAY_1, 1, 1, 0), (DAY_2, 1, 0, 1)]


def test_dedup_choice_is_the_same_in_any_load_order(tmp_path, raw_landing):
    deliveries = {
        DAY_1: [event("m1", received_at=utc("2026-03-01 12:00:00"), sent_at=None, city="a")],
        DAY_2: [
            event(
                "m1",
                received_at=utc("2026-03-01 12:00:00"),
                sent_at=utc("2026-03-01 11:59:00"),
                city="b",
            ),
            event("m2", city="c"),
        ],
        DAY_3: [event("m2", city="d"), event("m2", city="e")],
    }
    for day, rows in deliveries.items():
        write_landing_file(raw_landing, EVENTS, day, "part-0.parquet", rows)

    results = []
    for order in ([DAY_1, DAY_2, DAY_3], [DAY_3, DAY_2, DAY_1], [DAY_2, DAY_3, DAY_1]):
        connection = duckdb.connect(str(tmp_path / f"{order[0]}.duckdb"))
        for day in order:
            load(connection, raw_landing, day)
        results.append(
            connection.execute(
                "select message_id, city from raw.events order by message_id"
            ).fetchall()
        )
        connection.close()

    # Ties on received_at go to the earlier sent_at (a null sent_at sorts last), then the file
    # that sorts first, then the earlier row.
    assert results == [[("m1", "b"), ("m2", "c")]] * 3


def test_duplicates_within_one_file_keep_the_earlier_row(warehouse, raw_landing):
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [event("m1", city="first"), event("m1", city="second")],
    )

    result = load(warehouse, raw_landing, DAY_1)

    assert warehouse.execute("select city from raw.events").fetchall() == [("first",)]
    assert (result.rows_read, result.rows_loaded, result.rows_duplicate) == (2, 1, 1)


def test_the_same_message_id_in_two_tenants_is_not_a_duplicate(warehouse, raw_landing):
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [event("m1", tenant_id="acme"), event("m1", tenant_id="globex")],
    )

    assert load(warehouse, raw_landing, DAY_1).rows_loaded == 2


def test_corrupt_file_is_rejected_and_the_partitions_other_files_load(warehouse, raw_landing):
    folder = raw_landing / "events" / "date=2026-03-01"
    folder.mkdir(parents=True)
    (folder / "part-0.parquet").write_bytes(b"PAR1 this is not a parquet file")
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-1.parquet", [event("m1")])

    result = load(warehouse, raw_landing, DAY_1)

    corrupt = result.files[0]
    assert corrupt.status == REJECTED
    assert corrupt.reason.startswith("cannot read the file as Parquet")
    assert corrupt.file_size_bytes == 31
    assert result.rows_loaded == 1
    assert warehouse.execute(
        "select file_path, status, rows_read from raw.load_manifest order by file_path"
    ).fetchall() == [
        ("events/date=2026-03-01/part-0.parquet", "rejected", 0),
        ("events/date=2026-03-01/part-1.parquet", "loaded", 1),
    ]


def test_file_missing_a_required_column_is_rejected_with_its_rows_kept(warehouse, raw_landing):
    schema = pa.schema([f for f in EVENTS.arrow_schema() if f.name != "received_at"])
    write_landing_file(
        raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1"), event("m2")], schema=schema
    )

    result = load(warehouse, raw_landing, DAY_1)

    assert result.files[0].status == REJECTED
    assert result.files[0].reason == "missing required column(s): received_at"
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 0, 2)
    assert rejected(warehouse) == [
        (
            "events/date=2026-03-01/part-0.parquet",
            0,
            ["received_at"],
            "received_at: required column is missing from the file",
        ),
        (
            "events/date=2026-03-01/part-0.parquet",
            1,
            ["received_at"],
            "received_at: required column is missing from the file",
        ),
    ]


def test_wrong_type_rejects_only_the_rows_whose_value_does_not_cast(warehouse, raw_landing):
    schema = pa.schema(
        [
            pa.field("screen_width", pa.string()) if f.name == "screen_width" else f
            for f in EVENTS.arrow_schema()
        ]
    )
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [event("m1", screen_width="1280"), event("m2", screen_width="wide")],
        schema=schema,
    )

    result = load(warehouse, raw_landing, DAY_1)

    assert warehouse.execute("select message_id, screen_width from raw.events").fetchall() == [
        ("m1", 1280)
    ]
    assert rejected(warehouse) == [
        (
            "events/date=2026-03-01/part-0.parquet",
            1,
            ["screen_width"],
            "screen_width: 'wide' is not an integer",
        )
    ]
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)


def test_timestamps_given_as_text_with_offsets_load_as_utc(warehouse, raw_landing):
    schema = pa.schema(
        [
            pa.field("timestamp", pa.string()) if f.name == "timestamp" else f
            for f in EVENTS.arrow_schema()
        ]
    )
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [event("m1", timestamp="2026-03-01T11:00:00+01:00"), event("m2", timestamp="yesterday")],
        schema=schema,
    )

    load(warehouse, raw_landing, DAY_1)

    assert warehouse.execute("select cast(timestamp as varchar) from raw.events").fetchall() == [
        ("2026-03-01 10:00:00",)
    ]
    assert rejected(warehouse)[0][3] == "timestamp: 'yesterday' is not a timestamp"


@pytest.mark.parametrize(
    "arrow_type",
    [pa.timestamp("us", tz="UTC"), pa.timestamp("us"), pa.timestamp("ms"), pa.timestamp("ns")],
    ids=["instant", "naive", "milliseconds", "nanoseconds"],
)
def test_every_timestamp_type_loads_as_utc_and_an_infinite_one_is_rejected(
    warehouse, raw_landing, arrow_type
):
    schema = pa.schema(
        [
            pa.field("received_at", arrow_type) if f.name == "received_at" else f
            for f in EVENTS.arrow_schema()
        ]
    )
    # In the type's unit since the epoch: 2026-03-01 10:00:01.25, and the largest 64-bit value,
    # which is how Parquet (and DuckDB) write an infinite timestamp.
    per_second = {"ms": 10**3, "us": 10**6, "ns": 10**9}[arrow_type.unit]
    finite = utc("2026-03-01 10:00:01.250").timestamp()
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [
            event("m1", received_at=round(finite * per_second)),
            event("m2", received_at=2**63 - 1),
        ],
        schema=schema,
    )

    load(warehouse, raw_landing, DAY_1)

    assert warehouse.execute(
        "select message_id, cast(received_at as varchar) from raw.events"
    ).fetchall() == [("m1", "2026-03-01 10:00:01.25")]
    assert rejected(warehouse) == [
        (
            "events/date=2026-03-01/part-0.parquet",
            1,
            ["received_at"],
            "received_at: 'infinity' is not a timestamp",
        )
    ]


def test_file_columns_named_like_the_validations_own_do_not_disturb_it(warehouse, raw_landing):
    schema = (
        EVENTS.arrow_schema()
        .append(pa.field("_violations", pa.string()))
        .append(pa.field("_anonymized_ip", pa.string()))
    )
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [
            event("m1", ip_address="203.0.113.7", _violations="x", _anonymized_ip="y"),
            event("m2", event_type="click", _violations=None, _anonymized_ip=None),
        ],
        schema=schema,
    )

    result = load(warehouse, raw_landing, DAY_1)

    assert result.files[0].extra_columns == ["_anonymized_ip", "_violations"]
    assert warehouse.execute("select message_id, ip_address from raw.events").fetchall() == [
        ("m1", "203.0.113.0")
    ]
    assert warehouse.execute(
        "select reject_reason, raw_row ->> '_violations', raw_row ->> 'message_id' "
        "from raw.events_rejected"
    ).fetchall() == [("event_type: 'click' is not one of track, page, identify", None, "m2")]


@pytest.mark.parametrize(
    ("overrides", "columns", "reason"),
    [
        ({"anonymous_id": None}, ["anonymous_id"], "anonymous_id: required value is missing"),
        ({"message_id": "  "}, ["message_id"], "message_id: required value is missing"),
        (
            {"event_type": "click"},
            ["event_type"],
            "event_type: 'click' is not one of track, page, identify",
        ),
        (
            {"properties": '{"feature": "export"'},
            ["properties"],
            """properties: '{"feature": "export"' is not a JSON object""",
        ),
        ({"properties": "[1, 2]"}, ["properties"], "properties: '[1, 2]' is not a JSON object"),
        (
            {"properties": '{"scroll_depth": 50,}'},
            ["properties"],
            "properties: '{\"scroll_depth\": 50,}' is not strict JSON "
            "(a trailing comma, NaN or Infinity)",
        ),
        (
            {"properties": '{"value": NaN}'},
            ["properties"],
            "properties: '{\"value\": NaN}' is not strict JSON (a trailing comma, NaN or Infinity)",
        ),
        # Inside strings, a comma before a brace and the words NaN and Infinity are text.
        ({"properties": '{"note": "a,}", "label": "NaN", "x": "-Infinity"}'}, None, None),
        (
            {"device_type": "fridge"},
            ["device_type"],
            "device_type: 'fridge' is not one of desktop, mobile, tablet, bot, unknown",
        ),
        (
            {"country_code": "Germany"},
            ["country_code"],
            "country_code: 'Germany' does not match [A-Z]{2}",
        ),
        (
            {"ip_address": "not-an-ip"},
            ["ip_address"],
            "ip_address: not an IPv4 or IPv6 address",
        ),
        (
            {"timestamp": utc("2026-03-02 10:00:02"), "received_at": utc("2026-03-01 10:00:01")},
            ["timestamp"],
            "timestamp: event time 2026-03-02 10:00:02 is more than 24 hours after "
            "received_at 2026-03-01 10:00:01",
        ),
        (
            # The device clock is 3 days ahead, but sent_at shows it: skew-corrected, it is fine.
            {
                "timestamp": utc("2026-03-04 10:00:00"),
                "sent_at": utc("2026-03-04 10:00:05"),
                "received_at": utc("2026-03-01 10:00:06"),
            },
            None,
            None,
        ),
        (
            # An event from an offline device, days old on arrival, is kept.
            {"timestamp": utc("2026-02-20 10:00:00"), "received_at": utc("2026-03-01 10:00:00")},
            None,
            None,
        ),
    ],
)
def test_bad_event_row_is_rejected_with_its_reason(
    warehouse, raw_landing, overrides, columns, reason
):
    write_landing_file(
        raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("good"), event("m1") | overrides]
    )

    result = load(warehouse, raw_landing, DAY_1)

    expected = (
        [] if reason is None else [("events/date=2026-03-01/part-0.parquet", 1, columns, reason)]
    )
    assert rejected(warehouse) == expected
    assert result.rows_read == result.rows_loaded + result.rows_rejected == 2


def test_a_row_breaking_several_rules_names_every_column(warehouse, raw_landing):
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [event("m1", tenant_id=None, event_type="click", properties="oops")],
    )

    load(warehouse, raw_landing, DAY_1)

    [(_, _, columns, reason)] = rejected(warehouse)
    assert columns == ["event_type", "properties", "tenant_id"]
    assert reason == (
        "tenant_id: required value is missing; "
        "event_type: 'click' is not one of track, page, identify; "
        "properties: 'oops' is not a JSON object"
    )


def test_rejected_row_is_kept_as_it_was_with_the_ip_anonymized(warehouse, raw_landing):
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [event("m1", event_type="click", ip_address="198.51.100.23", page_title="Ünïcode")],
    )

    load(warehouse, raw_landing, DAY_1)

    row = warehouse.execute(
        "select raw_row->>'event_type', raw_row->>'ip_address', raw_row->>'page_title', "
        "raw_row->>'received_at' from raw.events_rejected"
    ).fetchone()
    assert row == ("click", "198.51.100.0", "Ünïcode", "2026-03-01 10:00:01+00")


@pytest.mark.parametrize(
    ("overrides", "columns", "reason"),
    [
        (
            {"metric_type": "summary"},
            ["metric_type"],
            "metric_type: 'summary' is not one of counter, gauge, histogram, timer",
        ),
        ({"value": math.inf}, ["value"], "value: inf is not a finite number"),
        ({"value": math.nan}, ["value"], "value: nan is not a finite number"),
        ({"value": None}, ["value"], "value: required value is missing"),
        ({"tags": '{"region": 1}'}, ["tags"], "tags: every value must be a string"),
        ({"tags": "region=eu"}, ["tags"], "tags: 'region=eu' is not a JSON object"),
    ],
)
def test_bad_metric_row_is_rejected_with_its_reason(
    warehouse, raw_landing, overrides, columns, reason
):
    write_landing_file(
        raw_landing, METRICS, DAY_1, "part-0.parquet", [metric("ok"), metric("m1") | overrides]
    )

    result = load_partition(warehouse, METRICS, raw_landing, DAY_1)

    assert rejected(warehouse, "raw.metrics_rejected") == [
        ("metrics/date=2026-03-01/part-0.parquet", 1, columns, reason)
    ]
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)


def test_metric_value_given_as_text_is_parsed(warehouse, raw_landing):
    schema = pa.schema(
        [pa.field("value", pa.string()) if f.name == "value" else f for f in METRICS.arrow_schema()]
    )
    write_landing_file(
        raw_landing,
        METRICS,
        DAY_1,
        "part-0.parquet",
        [metric("m1", value="12.25"), metric("m2", value="twelve"), metric("m3", value="Infinity")],
        schema=schema,
    )

    load_partition(warehouse, METRICS, raw_landing, DAY_1)

    assert warehouse.execute("select metric_id, value from raw.metrics").fetchall() == [
        ("m1", 12.25)
    ]
    assert [r[3] for r in rejected(warehouse, "raw.metrics_rejected")] == [
        "value: 'twelve' is not a number",
        "value: inf is not a finite number",
    ]


def test_strings_with_quotes_sql_and_control_characters_are_stored_verbatim(warehouse, raw_landing):
    nasty = 'it\'s "quoted"; drop table raw.events; --\x00\x07\t\n\r\u202e end'
    properties = '{"feature": "O\'Brien\\"s \\u0000 export", "sql": "1; delete from x"}'
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [event("m'1", event_name=nasty, page_url=nasty, page_title=nasty, properties=properties)],
    )

    load(warehouse, raw_landing, DAY_1)

    assert warehouse.execute(
        "select message_id, event_name, page_url, page_title, properties from raw.events"
    ).fetchall() == [("m'1", nasty, nasty, nasty, properties)]


@pytest.mark.parametrize(
    ("ip", "anonymized"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"),
        ("2001:0DB8:0000::1", "2001:db8::"),
        ("::ffff:192.0.2.1", "::"),
        (None, None),
    ],
)
def test_ip_address_is_anonymized_on_load(warehouse, raw_landing, ip, anonymized):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1", ip_address=ip)])

    load(warehouse, raw_landing, DAY_1)

    assert warehouse.execute("select ip_address from raw.events").fetchall() == [(anonymized,)]


def test_rows_sharing_an_ip_address_each_get_its_anonymized_form(warehouse, raw_landing):
    addresses = ["203.0.113.77", "2001:db8:85a3::1", "203.0.113.77", None, "203.0.113.9", "x"]
    rows = [event(f"m{n}", ip_address=ip) for n, ip in enumerate(addresses)]
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", rows[:3])
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-1.parquet", rows[3:])

    load(warehouse, raw_landing, DAY_1)

    assert warehouse.execute(
        "select message_id, ip_address from raw.events order by message_id"
    ).fetchall() == [
        ("m0", "203.0.113.0"),
        ("m1", "2001:db8:85a3::"),
        ("m2", "203.0.113.0"),
        ("m3", None),
        ("m4", "203.0.113.0"),
    ]
    assert rejected(warehouse) == [
        (
            "events/date=2026-03-01/part-1.parquet",
            2,
            ["ip_address"],
            "ip_address: not an IPv4 or IPv6 address",
        )
    ]


def test_unknown_extra_columns_are_ignored_and_reported(warehouse, raw_landing):
    schema = EVENTS.arrow_schema().append(pa.field("campaign_cost", pa.float64()))
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [event("m1", campaign_cost=1.5)],
        schema=schema,
    )

    result = load(warehouse, raw_landing, DAY_1)

    assert result.files[0].extra_columns == ["campaign_cost"]
    assert result.rows_loaded == 1
    assert warehouse.execute("select extra_columns from raw.load_manifest").fetchall() == [
        (["campaign_cost"],)
    ]


def test_missing_optional_columns_load_as_null(warehouse, raw_landing):
    schema = pa.schema([f for f in EVENTS.arrow_schema() if f.name in EVENTS.required_columns])
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")], schema=schema)

    load(warehouse, raw_landing, DAY_1)

    assert warehouse.execute(
        "select message_id, page_url, screen_width from raw.events"
    ).fetchall() == [("m1", None, None)]


def test_manifest_reconciles_every_file(warehouse, raw_landing):
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [event("m1"), event("m1"), event("m2", event_type="x"), event("m3")],
    )
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-1.parquet", [event("m3"), event("m4")])

    load(warehouse, raw_landing, DAY_1)

    assert warehouse.execute(
        "select file_path, rows_read, rows_loaded, rows_rejected, rows_duplicate, status, "
        "length(file_sha256) from raw.load_manifest order by file_path"
    ).fetchall() == [
        ("events/date=2026-03-01/part-0.parquet", 4, 2, 1, 1, "loaded", 64),
        ("events/date=2026-03-01/part-1.parquet", 2, 1, 0, 1, "loaded", 64),
    ]


def test_the_manifest_has_each_files_sha256(warehouse, raw_landing):
    paths = [
        write_landing_file(raw_landing, EVENTS, DAY_1, f"part-{n}.parquet", [event(f"m{n}")])
        for n in range(3)
    ]

    load(warehouse, raw_landing, DAY_1)

    assert warehouse.execute(
        "select file_sha256 from raw.load_manifest order by file_path"
    ).fetchall() == [(hashlib.sha256(path.read_bytes()).hexdigest(),) for path in paths]


def test_a_file_removed_from_the_partition_takes_its_rows_with_it(warehouse, raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    second = write_landing_file(raw_landing, EVENTS, DAY_1, "part-1.parquet", [event("m2")])
    load(warehouse, raw_landing, DAY_1)
    second.unlink()

    load(warehouse, raw_landing, DAY_1)

    assert warehouse.execute("select message_id from raw.events").fetchall() == [("m1",)]
    assert warehouse.execute("select count(*) from raw.load_manifest").fetchone() == (1,)


def test_an_empty_partition_loads_nothing(warehouse, raw_landing):
    result = load(warehouse, raw_landing, DAY_1)

    assert result.files == []
    assert warehouse.execute("select count(*) from raw.events").fetchone() == (0,)


def test_removing_a_winning_file_promotes_the_other_delivery(warehouse, raw_landing):
    first = write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_2,
        "part-0.parquet",
        [event("m1", received_at=utc("2026-03-02 09:00:00"))],
    )
    load(warehouse, raw_landing, DAY_1)
    load(warehouse, raw_landing, DAY_2)
    first.unlink()

    load(warehouse, raw_landing, DAY_1)

    assert warehouse.execute("select _landing_date from raw.events").fetchall() == [(DAY_2,)]
    assert warehouse.execute("select count(*) from raw.events_duplicates").fetchone() == (0,)
    assert warehouse.execute(
        "select landing_date, rows_loaded, rows_duplicate from raw.load_manifest"
    ).fetchall() == [(DAY_2, 1, 0)]


def write_three_deliveries_of_m1(raw_landing: Path) -> None:
    """m1 on day 1 and day 2, and on day 3 with the earliest received_at of the three."""
    for day, received_at in (
        (DAY_1, "2026-03-01 10:00:00"),
        (DAY_2, "2026-03-01 11:00:00"),
        (DAY_3, "2026-03-01 09:00:00"),
    ):
        rows = [event("m1", received_at=utc(received_at), city=day.isoformat())]
        write_landing_file(raw_landing, EVENTS, day, "part-0.parquet", rows)


def test_an_earlier_delivery_loaded_last_wins_and_every_other_delivery_points_to_it(
    warehouse, raw_landing
):
    write_three_deliveries_of_m1(raw_landing)
    load(warehouse, raw_landing, DAY_1)
    load(warehouse, raw_landing, DAY_2)

    load(warehouse, raw_landing, DAY_3)

    assert warehouse.execute("select city, _landing_date from raw.events").fetchall() == [
        ("2026-03-03", DAY_3)
    ]
    assert warehouse.execute(
        "select city, _kept_source_file, _kept_source_row from raw.events_duplicates order by 1"
    ).fetchall() == [
        ("2026-03-01", "events/date=2026-03-03/part-0.parquet", 0),
        ("2026-03-02", "events/date=2026-03-03/part-0.parquet", 0),
    ]
    assert warehouse.execute(
        "select landing_date, rows_read, rows_loaded, rows_duplicate from raw.load_manifest "
        "order by landing_date"
    ).fetchall() == [(DAY_1, 1, 0, 1), (DAY_2, 1, 0, 1), (DAY_3, 1, 1, 0)]


def test_a_load_fingerprints_again_the_other_days_whose_loaded_rows_changed(warehouse, raw_landing):
    write_three_deliveries_of_m1(raw_landing)
    load(warehouse, raw_landing, DAY_1)
    load(warehouse, raw_landing, DAY_2)
    before = dict(
        warehouse.execute(
            "select landing_date, recorded_at from raw.landing_fingerprints"
        ).fetchall()
    )

    load(warehouse, raw_landing, DAY_3)

    after = {
        day: (count, recorded_at)
        for day, count, recorded_at in warehouse.execute(
            "select landing_date, row_count, recorded_at from raw.landing_fingerprints"
        ).fetchall()
    }
    assert {day: count for day, (count, _) in after.items()} == {DAY_1: 0, DAY_2: 0, DAY_3: 1}
    # Day 1 lost its row to day 3; day 2's duplicate only points to another winner.
    assert after[DAY_1][1] > before[DAY_1]
    assert after[DAY_2][1] == before[DAY_2]
    assert fingerprints.verify(warehouse, EVENTS).passed


def test_every_load_and_reload_is_in_the_audit_log(warehouse, raw_landing):
    write_landing_file(
        raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1"), event("m1"), event("m2")]
    )

    load_partition(warehouse, EVENTS, raw_landing, DAY_1, actor="dagster run abc")
    load_partition(warehouse, EVENTS, raw_landing, DAY_1, actor="user ops")

    rows = warehouse.execute(
        "select action, target, actor, rows_affected, details->>'rows_duplicate' "
        "from audit.actions order by occurred_at, action"
    ).fetchall()
    assert rows == [
        ("load", "raw.events 2026-03-01", "dagster run abc", 3, "1"),
        ("reload", "raw.events 2026-03-01", "user ops", 3, "1"),
    ]


def _rows_without_lineage(
    connection: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]
) -> list[list[tuple]]:
    """Every row of each table, in order, without its `(table, lineage column)` timestamp."""
    return [
        connection.execute(f"select * exclude ({lineage}) from {table} order by all").fetchall()
        for table, lineage in tables
    ]


def _raw_state(connection: duckdb.DuckDBPyConnection) -> list[list[tuple]]:
    return [
        connection.execute(f"select * from {table} order by all").fetchall()
        for table in ("raw.events", "raw.events_duplicates", "raw.events_rejected")
    ] + [
        connection.execute(
            "select * exclude (loaded_at) from raw.load_manifest order by file_path"
        ).fetchall()
    ]


def test_a_partition_whose_files_did_not_change_is_left_as_it_is(warehouse, raw_landing):
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [event("m1"), event("m1"), event("m2", event_type="click")],
    )
    first = load(warehouse, raw_landing, DAY_1)
    before = _raw_state(warehouse)

    again = load(warehouse, raw_landing, DAY_1)

    assert not first.unchanged
    assert again.unchanged
    assert (again.rows_read, again.rows_loaded, again.rows_duplicate, again.rows_rejected) == (
        3,
        1,
        1,
        1,
    )
    assert again.rejected_examples == [
        "events/date=2026-03-01/part-0.parquet row 2: "
        "event_type: 'click' is not one of track, page, identify"
    ]
    assert _raw_state(warehouse) == before
    assert warehouse.execute(
        "select action, details->>'unchanged' from audit.actions order by occurred_at"
    ).fetchall() == [("load", "false"), ("reload", "true")]


@pytest.mark.parametrize("change", ["rewritten", "added", "removed"])
def test_a_changed_file_set_is_loaded_again(warehouse, raw_landing, change):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    second = write_landing_file(raw_landing, EVENTS, DAY_1, "part-1.parquet", [event("m2")])
    load(warehouse, raw_landing, DAY_1)
    if change == "rewritten":
        write_landing_file(raw_landing, EVENTS, DAY_1, "part-1.parquet", [event("m3")])
    elif change == "added":
        write_landing_file(raw_landing, EVENTS, DAY_1, "part-2.parquet", [event("m3")])
    else:
        second.unlink()

    result = load(warehouse, raw_landing, DAY_1)

    expected = {"rewritten": ["m1", "m3"], "added": ["m1", "m2", "m3"], "removed": ["m1"]}
    assert not result.unchanged
    assert [
        m for (m,) in warehouse.execute("select message_id from raw.events order by 1").fetchall()
    ] == expected[change]


def test_a_reload_hashes_each_file_once(warehouse, raw_landing, monkeypatch):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-1.parquet", [event("m2")])
    load(warehouse, raw_landing, DAY_1)
    rewritten = write_landing_file(raw_landing, EVENTS, DAY_1, "part-1.parquet", [event("m3")])
    hashed = []
    real_sha256 = loader._sha256
    monkeypatch.setattr(loader, "_sha256", lambda path: hashed.append(path) or real_sha256(path))

    result = load(warehouse, raw_landing, DAY_1)

    assert not result.unchanged
    assert rewritten.stat().st_size == result.files[1].file_size_bytes
    assert sorted(path.name for path in hashed) == ["part-0.parquet", "part-1.parquet"]


def test_force_validates_unchanged_files_again(warehouse, raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    load(warehouse, raw_landing, DAY_1)

    result = load_partition(warehouse, EVENTS, raw_landing, DAY_1, force=True)

    assert not result.unchanged
    assert result.rows_loaded == 1


def test_loading_days_in_batches_is_loading_them_one_by_one(tmp_path, raw_landing):
    for day, rows in (
        (DAY_1, [event("m1"), event("m2"), event("m2")]),
        (DAY_2, [event("m1", received_at=utc("2026-03-01 09:00:00")), event("m3")]),
        (DAY_3, [event("m3"), event("m4", event_type="click")]),
    ):
        write_landing_file(raw_landing, EVENTS, day, "part-0.parquet", rows)
    states = []
    for batch_rows in (None, 1, 1_000):
        connection = duckdb.connect(str(tmp_path / f"warehouse-{batch_rows}.duckdb"))
        if batch_rows is None:
            loads = [load(connection, raw_landing, day) for day in (DAY_3, DAY_1, DAY_2)]
        else:
            reported = []
            loads = load_partitions(
                connection,
                EVENTS,
                raw_landing,
                [DAY_3, DAY_1, DAY_2],
                batch_rows=batch_rows,
                on_loaded=reported.extend,
            )
            assert reported == loads
        states.append(
            (
                _rows_without_lineage(
                    connection,
                    [
                        ("raw.events", "_loaded_at"),
                        ("raw.events_duplicates", "_loaded_at"),
                        ("raw.events_rejected", "_rejected_at"),
                    ],
                ),
                connection.execute(
                    "select landing_date, rows_loaded, rows_duplicate, rows_rejected "
                    "from raw.load_manifest order by landing_date"
                ).fetchall(),
                connection.execute(
                    "select target, action from audit.actions order by target"
                ).fetchall(),
            )
        )
        connection.close()

    one_by_one, day_batches, one_batch = states
    assert day_batches == one_by_one == one_batch
    assert one_batch[1] == [(DAY_1, 1, 2, 0), (DAY_2, 2, 0, 0), (DAY_3, 0, 1, 1)]
    assert len(loads) == 3
    assert [action for _, action in one_batch[2]] == ["load"] * 3


def test_loads_in_one_session_find_the_keys_of_the_loads_before_them(tmp_path, raw_landing):
    # Loads large enough to fill several row groups, in one session: a new warehouse's first
    # load (its index built from empty tables), and a load that moves an earlier row to the
    # duplicates (and none back). Each later load still finds every key held before it.
    rows = 130_000
    write_landing_file(
        raw_landing, EVENTS, DAY_1, "part-0.parquet", [event(f"m{i}") for i in range(rows)]
    )
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_2,
        "part-0.parquet",
        [event("m0", received_at=utc("2026-03-01 09:00:00"))]
        + [event(f"n{i}") for i in range(rows)],
    )
    write_landing_file(
        raw_landing, EVENTS, DAY_3, "part-0.parquet", [event("m1"), event("n1"), event("o1")]
    )
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    for day in (DAY_1, DAY_2, DAY_3):
        load_partitions(connection, EVENTS, raw_landing, [day])
    assert connection.execute(
        "select count(*), count(distinct (tenant_id, message_id)) from raw.events"
    ).fetchone() == (2 * rows + 1, 2 * rows + 1)
    assert connection.execute(
        "select message_id, _landing_date from raw.events_duplicates order by all"
    ).fetchall() == [("m0", DAY_1), ("m1", DAY_3), ("n1", DAY_3)]


def _index_and_tables(connection: duckdb.DuckDBPyConnection) -> tuple[list[tuple], list[tuple]]:
    """The key hash index's rows, and the (day, key hash) of every row of the two tables."""
    tables = connection.execute(
        "select _landing_date, hash(tenant_id, message_id) from raw.events union all "
        "select _landing_date, hash(tenant_id, message_id) from raw.events_duplicates "
        "order by all"
    ).fetchall()
    return connection.execute("select * from raw.events_key_hashes order by all").fetchall(), tables


def test_the_key_hash_index_follows_every_load_and_is_built_again_when_it_cannot_be_trusted(
    tmp_path, raw_landing
):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1"), event("m2")])
    write_landing_file(
        raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m2"), event("m3"), event("m3")]
    )
    for day in (DAY_1, DAY_2):
        load(connection, raw_landing, day)
    index, tables = _index_and_tables(connection)
    assert index == tables and len(index) == 5
    (probe,) = connection.execute(
        "select hash_probe from raw.key_hash_indexes where dataset = 'events'"
    ).fetchone()

    # DAY_1 delivered again without m2: its index rows are replaced with the day's rows.
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    load(connection, raw_landing, DAY_1)
    assert _index_and_tables(connection)[0] == _index_and_tables(connection)[1]

    # A warehouse loaded before the index existed, or by a DuckDB whose hash() differs: the
    # next load builds the index from the tables, and still finds m1 held on DAY_1.
    for new_event, stale in (
        ("m4", "delete from raw.key_hash_indexes; delete from raw.events_key_hashes"),
        (
            "m5",
            "update raw.key_hash_indexes set hash_probe = hash_probe + 1; "
            "update raw.events_key_hashes set key_hash = key_hash + 1",
        ),
    ):
        connection.execute(stale)
        write_landing_file(
            raw_landing,
            EVENTS,
            DAY_3,
            "part-0.parquet",
            [event("m1", received_at=utc("2026-03-01 09:00:00")), event(new_event)],
        )
        load(connection, raw_landing, DAY_3)
        index, tables = _index_and_tables(connection)
        assert index == tables and len(index) == 6
        assert connection.execute(
            "select message_id, _landing_date from raw.events order by all"
        ).fetchall() == [("m1", DAY_3), ("m2", DAY_2), ("m3", DAY_2), (new_event, DAY_3)]
        assert connection.execute(
            "select message_id, _landing_date from raw.events_duplicates order by all"
        ).fetchall() == [("m1", DAY_1), ("m3", DAY_2)]
        assert connection.execute(
            "select hash_probe from raw.key_hash_indexes where dataset = 'events'"
        ).fetchall() == [(probe,)]


@pytest.mark.parametrize(
    "colliding_hash", ["cast(0 as ubigint)", "cast(length(message_id) as ubigint)"]
)
def test_keys_sharing_a_hash_are_still_ranked_by_their_keys(
    tmp_path, raw_landing, monkeypatch, colliding_hash
):
    # The same deliveries loaded with DuckDB's hash of the keys, and with a hash that every key
    # (or every key of one length) shares: the contested keys are found by the hash, but a
    # winner is always the first delivery of its own key.
    for day, rows in (
        (DAY_1, [event("m1"), event("m2"), event("m2", city="later row")]),
        (DAY_2, [event("m1", received_at=utc("2026-03-01 09:00:00")), event("m3")]),
        (DAY_3, [event("m3", tenant_id="globex"), event("m10"), event("m4", event_type="x")]),
    ):
        write_landing_file(raw_landing, EVENTS, day, "part-0.parquet", rows)
    states = []
    for key_hash in (key_hashes.key_hash, lambda key: colliding_hash):
        monkeypatch.setattr(key_hashes, "key_hash", key_hash)
        connection = duckdb.connect(str(tmp_path / f"warehouse-{len(states)}.duckdb"))
        for day in (DAY_2, DAY_3, DAY_1):
            load(connection, raw_landing, day)
        states.append(
            _rows_without_lineage(
                connection,
                [
                    ("raw.events", "_loaded_at"),
                    ("raw.events_duplicates", "_loaded_at"),
                    ("raw.load_manifest", "loaded_at"),
                ],
            )
        )
        connection.close()

    hashed, colliding = states
    assert colliding == hashed
    check = duckdb.connect(str(tmp_path / "warehouse-0.duckdb"))
    assert check.execute(
        "select tenant_id, message_id, _landing_date from raw.events order by all"
    ).fetchall() == [
        ("acme", "m1", DAY_2),
        ("acme", "m10", DAY_3),
        ("acme", "m2", DAY_1),
        ("acme", "m3", DAY_2),
        ("globex", "m3", DAY_3),
    ]
    assert check.execute(
        "select message_id, _source_row, _kept_source_file, _kept_source_row "
        "from raw.events_duplicates order by all"
    ).fetchall() == [
        ("m1", 0, "events/date=2026-03-02/part-0.parquet", 0),
        ("m2", 2, "events/date=2026-03-01/part-0.parquet", 1),
    ]
