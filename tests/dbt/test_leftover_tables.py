"""A table that a stopped run left on its way (`<model>__dbt_scope` and the like) is dropped when
the next run starts, so no schema keeps one and no publication copies one."""

from __future__ import annotations

from tests.dbt.conftest import Warehouse


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
