"""`dbt build` on the sample passes every data test and unit test, and the docs generate."""

from __future__ import annotations

import json

import pytest

from orchestration.builds import tables_with_other_columns
from tests.dbt.conftest import Warehouse, make_warehouse
from tests.dbt.sample_events import SAMPLE_EVENTS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The sample loaded and `dbt build` run: models, data tests and unit tests all pass."""
    warehouse = make_warehouse(tmp_path_factory.mktemp("build"))
    warehouse.insert_events(SAMPLE_EVENTS)
    warehouse.dbt("build")
    return warehouse


def test_dbt_docs_generate_describes_every_event_mart(built_warehouse: Warehouse) -> None:
    built_warehouse.dbt("docs", "generate")
    catalog = json.loads((built_warehouse.target_path / "catalog.json").read_text())
    tables = {node["metadata"]["name"] for node in catalog["nodes"].values()}
    assert {"sessions", "page_views", "users", "user_activity_daily", "hourly_rollups"} <= tables


def test_every_incremental_model_declares_exactly_the_columns_of_its_table(
    built_warehouse: Warehouse,
) -> None:
    # What a run compares to find the models a change of the project gave other columns
    # (tests/test_builds.py): a column left undocumented would rebuild every model each time.
    manifest = built_warehouse.target_path / "manifest.json"
    incremental = [
        node["alias"]
        for node in json.loads(manifest.read_text())["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    ]
    assert {"int_event_sessions", "page_views", "sessions", "user_activity_daily"} <= set(
        incremental
    )
    with built_warehouse.connect() as connection:
        assert tables_with_other_columns(connection, manifest) == []


def test_every_intermediate_table_of_events_ages_out_with_its_raw_rows(
    built_warehouse: Warehouse,
) -> None:
    # Cleanup ages an intermediate table out by `_landing_date`, else `received_at`
    # (orchestration/maintenance.py): a table of one row per event or page view without either
    # would keep its anonymous ids after the raw rows are gone.
    with built_warehouse.connect() as connection:
        tables = connection.execute(
            "select table_name, list(column_name) from duckdb_columns() "
            "where schema_name = 'intermediate' and table_name in ("
            "  select table_name from duckdb_tables() where schema_name = 'intermediate')"
            "group by table_name"
        ).fetchall()
    of_events = {name: set(columns) for name, columns in tables if "message_id" in columns}
    assert {"int_event_sessions", "int_page_view_metrics"} <= set(of_events)
    aging = {"_landing_date", "received_at"}
    assert [name for name, columns in of_events.items() if not aging & columns] == []


def test_bot_events_count_in_hourly_rollups_only(built_warehouse: Warehouse) -> None:
    assert built_warehouse.query(
        "select total_events, bot_events, unique_sessions from marts.hourly_rollups "
        "where hour_start = timestamp '2025-03-01 12:00:00'"
    ) == [(1, 1, 0)]
    assert built_warehouse.query(
        "select count(*) from marts.sessions where anonymous_id = 'bot_g'"
    ) == [(0,)]


def test_device_os_and_browser_come_from_the_user_agent(built_warehouse: Warehouse) -> None:
    assert built_warehouse.query(
        "select device_type, os_name, browser_name from marts.sessions "
        "where anonymous_id in ('anon_b', 'anon_d') order by anonymous_id"
    ) == [("mobile", "iOS", "Mobile Safari"), ("tablet", "iOS", "Mobile Safari")]


def test_first_touch_attribution_comes_from_the_first_session(
    built_warehouse: Warehouse,
) -> None:
    assert built_warehouse.query(
        "select first_referrer_host, first_utm_source, first_utm_medium, first_utm_campaign "
        "from marts.users where person_id = 'user_3'"
    ) == [("google.com", "newsletter", "email", "spring sale")]


def test_two_devices_of_one_user_are_one_person(built_warehouse: Warehouse) -> None:
    assert built_warehouse.query(
        "select anonymous_id_count, session_count, latest_traits->>'$.name' from marts.users "
        "where person_id = 'user_2'"
    ) == [(2, 4, "Grace")]
