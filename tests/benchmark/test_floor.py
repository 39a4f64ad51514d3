"""The bare-DuckDB floor computes what it claims to, on small explicit data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.benchmark.floor import STAGES, run_floor
from orchestration.contract import EVENTS, METRICS
from tests.landing_files import DAY_1, event, metric, utc, write_landing_file


def track(message_id: str, name: str, at: str, **overrides) -> dict:
    fields = {"event_type": "track", "timestamp": utc(at), "received_at": utc(at)}
    return event(message_id, **{**fields, "event_name": name, **overrides})


@pytest.fixture
def landing(raw_landing: Path) -> Path:
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [
            # anon-1: 30:00 after the first event continues its session, 30:01 after the
            # second starts another; the late copy of m1 is a duplicate.
            track("m1", "product_viewed", "2026-03-01 10:00:00"),
            track("m2", "add_to_cart", "2026-03-01 10:30:00"),
            track("m3", "checkout_started", "2026-03-01 11:00:01"),
            track("m4", "identify", "2026-03-01 11:00:02", event_type="identify", user_id="u1"),
            # anon-2: one client session across two hours; a crawler is left out.
            track("m5", "page_view", "2026-03-01 08:00:00", anonymous_id="anon-2", session_id="s"),
            track("m6", "page_view", "2026-03-01 10:00:00", anonymous_id="anon-2", session_id="s"),
            track("m7", "page_view", "2026-03-01 10:00:00", anonymous_id="bot", device_type="bot"),
        ],
    )
    write_landing_file(
        raw_landing,
        EVENTS,
        date(2026, 3, 2),
        "part-0.parquet",
        [
            track("m1", "product_viewed", "2026-03-01 10:00:00", received_at=utc("2026-03-02")),
            # 15 days after the funnel started: outside its 14-day window.
            track("m8", "purchase", "2026-03-16 10:00:00"),
        ],
    )
    write_landing_file(
        raw_landing,
        METRICS,
        DAY_1,
        "part-0.parquet",
        [metric(f"p{value}", value=float(value)) for value in range(1, 6)],
    )
    return raw_landing


@pytest.fixture
def floor(landing: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """The floor's tables, kept by running its stages on an open connection."""
    connection = duckdb.connect(str(tmp_path / "floor.duckdb"))
    connection.execute("set TimeZone = 'UTC'")
    for stage in STAGES.values():
        stage(connection, landing)
    yield connection
    connection.close()


def test_load_keeps_one_row_per_key(floor):
    rows = floor.execute("select message_id, received_at from events order by 1").fetchall()
    assert [m for m, _ in rows] == [f"m{n}" for n in range(1, 9)]
    assert dict(rows)["m1"] == utc("2026-03-01 10:00:00")
    assert floor.execute("select count(*) from metrics").fetchone() == (5,)


def test_load_breaks_ties_by_file_then_row_and_drops_no_other_row(raw_landing, tmp_path):
    at = "2026-03-01 10:00:00"
    for name, rows in [
        ("part-0.parquet", [track("m1", "first", at), track("m2", "x", at)]),
        ("part-1.parquet", [track("m1", "second", at), track("m1", "third", at)]),
    ]:
        write_landing_file(raw_landing, EVENTS, DAY_1, name, rows)
    for name, value in [("part-0.parquet", 1.0), ("part-1.parquet", 2.0)]:
        write_landing_file(raw_landing, METRICS, DAY_1, name, [metric("p1", value=value)])
    connection = duckdb.connect(str(tmp_path / "floor.duckdb"))

    STAGES["load"](connection, raw_landing)

    assert connection.execute(
        "select message_id, event_name from events order by 1"
    ).fetchall() == [
        ("m1", "first"),
        ("m2", "x"),
    ]
    assert connection.execute("select metric_id, value from metrics").fetchall() == [("p1", 1.0)]
    assert connection.execute(
        "select count(*) from duckdb_tables() where temporary"
    ).fetchone() == (0,)


def test_sessions_split_after_more_than_thirty_minutes(floor):
    sessions = floor.execute(
        """
        select anonymous_id, started_at, ended_at, event_count
        from sessions order by anonymous_id, started_at
        """
    ).fetchall()
    assert sessions == [
        ("anon-1", utc("2026-03-01 10:00:00"), utc("2026-03-01 10:30:00"), 2),
        ("anon-1", utc("2026-03-01 11:00:01"), utc("2026-03-01 11:00:02"), 2),
        ("anon-1", utc("2026-03-16 10:00:00"), utc("2026-03-16 10:00:00"), 1),
        ("anon-2", utc("2026-03-01 08:00:00"), utc("2026-03-01 10:00:00"), 2),
    ]


def test_person_day_activity_belongs_to_the_linked_user(floor):
    rows = floor.execute(
        """
        select person_id, activity_date, session_count, event_count, events_by_name['add_to_cart']
        from person_day_activity order by all
        """
    ).fetchall()
    assert rows == [
        ("anon-2", date(2026, 3, 1), 1, 2, None),
        ("u1", date(2026, 3, 1), 2, 4, 1),
        ("u1", date(2026, 3, 16), 1, 1, None),
    ]


def test_exact_quantiles_per_period(floor):
    rows = floor.execute(
        """
        select period_type, period_start, point_count, value_sum, percentiles
        from metric_aggregates order by period_type
        """
    ).fetchall()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("daily", utc("2026-03-01 00:00:00"), 5, 15.0),
        ("hourly", utc("2026-03-01 10:00:00"), 5, 15.0),
        ("monthly", utc("2026-03-01 00:00:00"), 5, 15.0),
        ("weekly", utc("2026-02-23 00:00:00"), 5, 15.0),
    ]
    assert all(r[4] == pytest.approx([3.0, 4.6, 4.96]) for r in rows)


def test_the_funnel_stops_at_the_window(floor):
    assert floor.execute(
        "select * exclude (tenant_id, project_id) from funnel_attempts"
    ).fetchall() == [
        (
            "u1",
            utc("2026-03-01 10:00:00"),
            utc("2026-03-01 10:30:00"),
            utc("2026-03-01 11:00:01"),
            None,
        )
    ]


def test_run_floor_times_every_stage_and_leaves_no_database(landing, tmp_path):
    database = tmp_path / "floor.duckdb"

    result = run_floor(landing, database, threads=1, memory_limit="1GB")

    assert [stage.name for stage in result.stages] == list(STAGES)
    assert [stage.rows for stage in result.stages] == [8, 4, 3, 4, 1]
    assert result.seconds == sum(stage.seconds for stage in result.stages) > 0
    assert not database.exists()
