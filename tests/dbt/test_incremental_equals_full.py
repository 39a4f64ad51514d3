"""Incremental runs, one arrival day at a time, build exactly the marts of a full refresh."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.dbt.conftest import Warehouse, make_warehouse, mart_tables, rows_only_in_one
from tests.dbt.sample_events import ARRIVAL_DAYS, SAMPLE_EVENTS, events_received_on

pytestmark = pytest.mark.slow

EVENT_MARTS = (
    "sessions",
    "page_views",
    "page_analytics_daily",
    "identities",
    "users",
    "user_activity_daily",
    "hourly_rollups",
)


@pytest.fixture(scope="module")
def incremental_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """Each arrival day loaded, then run with that day's window; then two days re-run.

    Re-running a partition (here day 2, and days 3-4 as one window) must change nothing.
    """
    warehouse = make_warehouse(tmp_path_factory.mktemp("incremental"))
    warehouse.dbt("seed")
    for day in ARRIVAL_DAYS:
        warehouse.insert_events(events_received_on(day))
        warehouse.dbt("run", variables=_window(day, day + timedelta(days=1)))
    warehouse.dbt("run", variables=_window(ARRIVAL_DAYS[1], ARRIVAL_DAYS[2]))
    warehouse.dbt("run", variables=_window(ARRIVAL_DAYS[2], ARRIVAL_DAYS[4]))
    return warehouse


def _window(min_date: date, max_date: date) -> dict[str, object]:
    return {"min_date": min_date, "max_date": max_date}


@pytest.fixture(scope="module")
def full_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    warehouse = make_warehouse(tmp_path_factory.mktemp("full"))
    warehouse.insert_events(SAMPLE_EVENTS)
    warehouse.dbt("seed")
    warehouse.dbt("run", "--full-refresh")
    return warehouse


def test_incremental_runs_build_the_same_mart_tables_as_a_full_refresh(
    incremental_warehouse: Warehouse, full_warehouse: Warehouse
) -> None:
    assert mart_tables(incremental_warehouse.path) == mart_tables(full_warehouse.path)
    assert set(EVENT_MARTS) <= set(mart_tables(full_warehouse.path))


def test_every_mart_of_incremental_runs_equals_a_full_refresh_row_for_row(
    incremental_warehouse: Warehouse, full_warehouse: Warehouse
) -> None:
    differences = {}
    for table in mart_tables(full_warehouse.path):
        only_incremental, only_full = rows_only_in_one(incremental_warehouse, full_warehouse, table)
        if only_incremental or only_full:
            differences[table] = {"only_incremental": only_incremental, "only_full": only_full}
    assert differences == {}


def test_the_late_event_extends_its_day_one_session(incremental_warehouse: Warehouse) -> None:
    rows = incremental_warehouse.query(
        "select session_start, session_end, event_count, person_id from marts.sessions "
        "where anonymous_id = 'anon_a' and session_date = date '2025-03-01'"
    )
    assert [(str(start), str(end), count, person) for start, end, count, person in rows] == [
        ("2025-03-01 10:00:00", "2025-03-01 10:20:10", 5, "user_3")
    ]


def test_the_session_crossing_midnight_belongs_to_its_first_day(
    incremental_warehouse: Warehouse,
) -> None:
    rows = incremental_warehouse.query(
        "select session_date, event_count, page_view_count from marts.sessions "
        "where anonymous_id = 'anon_b'"
    )
    assert [(str(day), events, views) for day, events, views in rows] == [("2025-03-01", 4, 2)]


def test_a_new_login_moves_the_whole_history_to_the_new_person(
    incremental_warehouse: Warehouse,
) -> None:
    rows = incremental_warehouse.query(
        "select person_id, anonymous_id_count, event_count from marts.users "
        "where person_id in ('anon_a', 'user_1', 'user_3') order by person_id"
    )
    assert rows == [("user_1", 1, 1), ("user_3", 1, 11)]


def test_incremental_runs_leave_none_of_their_own_tables_behind(
    incremental_warehouse: Warehouse,
) -> None:
    assert (
        incremental_warehouse.query(
            "select schema_name, table_name from duckdb_tables() "
            "where table_name like '%\\_\\_dbt\\_%' escape '\\'"
        )
        == []
    )
