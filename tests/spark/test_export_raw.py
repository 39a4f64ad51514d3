"""The raw tables as Parquet for Spark: one folder per arrival day, replaced whole."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from orchestration.landing.tables import create_landing_tables
from orchestration.landing.user_agents import record_user_agents
from orchestration.spark import export_raw_parquet
from tests.dbt.conftest import event_row

DAY_1, DAY_2 = date(2026, 3, 1), date(2026, 3, 2)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def _warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(path))
    create_landing_tables(connection)
    rows = [
        event_row(
            "a-1", event_name="page_view", anonymous_id="a", timestamp=datetime(2026, 3, 1, 9)
        ),
        event_row(
            "a-2", event_name="page_view", anonymous_id="a", timestamp=datetime(2026, 3, 1, 10)
        ),
        event_row(
            "b-1",
            event_name="page_view",
            anonymous_id="b",
            timestamp=datetime(2026, 3, 2, 9),
            user_agent=IPHONE,
        ),
    ]
    columns = list(rows[0])
    connection.executemany(
        f"insert into raw.events ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})",
        [tuple(row[column] for column in columns) for row in rows],
    )
    record_user_agents(connection)
    return connection


def _read(pattern: Path) -> list[tuple]:
    return duckdb.sql(
        f"select message_id, _landing_date "
        f"from read_parquet('{pattern}', hive_partitioning = true) "
        "order by message_id"
    ).fetchall()


def test_every_arrival_day_gets_a_folder_spark_reads_as_a_partition(tmp_path: Path) -> None:
    connection = _warehouse(tmp_path / "warehouse.duckdb")

    exported = export_raw_parquet(connection, tmp_path / "raw")

    assert {(day.table, day.day, day.rows) for day in exported} == {
        ("raw.events", DAY_1, 2),
        ("raw.events", DAY_2, 1),
    }
    assert _read(tmp_path / "raw" / "events" / "*" / "*.parquet") == [
        ("a-1", DAY_1),
        ("a-2", DAY_1),
        ("b-1", DAY_2),
    ]
    user_agents = duckdb.sql(
        f"select user_agent, device_type from '{tmp_path / 'raw' / 'user_agents' / 'data.parquet'}'"
    ).fetchall()
    assert (IPHONE, "mobile") in user_agents
    assert not list((tmp_path / "raw").rglob(".*"))


def test_a_day_exported_again_is_replaced_and_a_day_without_rows_goes(tmp_path: Path) -> None:
    connection = _warehouse(tmp_path / "warehouse.duckdb")
    export_raw_parquet(connection, tmp_path / "raw")

    connection.execute("delete from raw.events where message_id in ('a-2', 'b-1')")
    export_raw_parquet(connection, tmp_path / "raw", [DAY_1, DAY_2])

    assert _read(tmp_path / "raw" / "events" / "*" / "*.parquet") == [("a-1", DAY_1)]
    assert not (tmp_path / "raw" / "events" / f"_landing_date={DAY_2}").exists()


def test_a_day_aged_out_loses_its_folder_when_other_days_are_exported(tmp_path: Path) -> None:
    connection = _warehouse(tmp_path / "warehouse.duckdb")
    export_raw_parquet(connection, tmp_path / "raw")

    # As cleanup ages out the first day: the next export is of a later day only.
    connection.execute(f"delete from raw.events where _landing_date = date '{DAY_1}'")
    export_raw_parquet(connection, tmp_path / "raw", [DAY_2])

    assert _read(tmp_path / "raw" / "events" / "*" / "*.parquet") == [("b-1", DAY_2)]
