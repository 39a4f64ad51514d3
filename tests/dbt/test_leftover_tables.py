"""A table that a stopped run left on its way (`<model>__dbt_scope` and the like) is dropped when
the next run starts, so no schema keeps one and no publication copies one."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from tests.dbt.conftest import Warehouse
from tests.dbt.sample_events import ARRIVAL_DAYS, events_received_on


def test_the_next_run_drops_the_tables_a_stopped_run_left(warehouse: Warehouse) -> None:
    with warehouse.connect() as connection:
        connection.execute("create schema if not exists marts")
        connection.execute("create table marts.hourly_rollups__dbt_scope as select 1 as hour_start")
        connection.execute("create table marts.kept_by_hand as select 1 as kept")
    warehouse.dbt("run", "--select", "stg_events")
    assert warehouse.query(
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where schema_name = 'marts' order by 1"
    ) == [("marts.kept_by_hand",)]


def test_a_windowed_run_drops_each_temporary_table_once_its_rows_are_in_the_model(
    warehouse: Warehouse,
) -> None:
    # DuckDB keeps a temporary table until the connection closes, which for dbt is the end of
    # the build: each later model would run with less memory.
    warehouse.dbt("seed")
    first, second = ARRIVAL_DAYS[:2]
    warehouse.insert_events(events_received_on(first))
    warehouse.dbt("run")
    warehouse.insert_events(events_received_on(second))
    log = warehouse.target_path / "logs" / "dbt.log"
    log.unlink()

    warehouse.dbt(
        "run",
        "--log-format-file",
        "json",
        variables={"min_date": second, "max_date": second + timedelta(days=1)},
    )

    statements = [
        " ".join(event["data"]["sql"].split())
        for event in map(json.loads, log.read_text().splitlines())
        if event["info"]["name"] == "SQLQuery"
    ]
    created = {
        name
        for statement in statements
        for name in re.findall(r'create temporary table "(\w+__dbt_tmp\d+)"', statement)
    }
    dropped = {
        name
        for statement in statements
        for name in re.findall(r'drop table if exists temp\.main\."(\w+__dbt_tmp\d+)"', statement)
    }
    assert {name.split("__dbt_tmp")[0] for name in created} >= {
        "int_event_sessions",
        "page_views",
        "sessions",
        "metric_aggregates",
    }
    assert created == dropped
