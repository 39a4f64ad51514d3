"""The blocking checks on the landing tables, run the way Dagster runs them."""

from __future__ import annotations

import dataclasses
import logging
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from dagster import (
    AssetCheckSeverity,
    AssetKey,
    DagsterInstance,
    MaterializeResult,
    asset,
    materialize,
)

from orchestration.checks import (
    build_landing_checks,
    canonical_types,
    declared_contracts,
    events_freshness_problem,
    events_volume_problem,
    reconciliation_failures,
    table_schema_differences,
)
from orchestration.contract import DATASETS, EVENTS, Column, ColumnType
from orchestration.landing.assets import build_landing_asset
from orchestration.landing.tables import create_landing_tables
from orchestration.resources import warehouse_resource
from orchestration.settings import Settings
from orchestration.transform import dbt_project
from tests.landing_files import DAY_1, DAY_2, event, write_landing_file


@pytest.fixture
def settings(tmp_path: Path, raw_landing: Path) -> Settings:
    return dataclasses.replace(
        Settings.from_env(), raw_landing_dir=raw_landing, warehouse_dir=tmp_path / "warehouse"
    )


@asset(deps=[AssetKey(["raw", "events"])])
def downstream_of_events() -> MaterializeResult:
    return MaterializeResult()


def events_checks(settings: Settings):
    return [
        check
        for check in build_landing_checks(settings)
        if all(key.asset_key == AssetKey(["raw", "events"]) for key in check.check_keys)
    ]


def run_landing(settings: Settings, partition: str, extra_assets=(), instance=None):
    return materialize(
        [
            build_landing_asset(DATASETS["events"], settings),
            *events_checks(settings),
            *extra_assets,
        ],
        partition_key=partition,
        resources={"warehouse": warehouse_resource(settings)},
        raise_on_error=False,
        instance=instance,
    )


def check_results(result) -> dict[str, bool]:
    return {
        evaluation.check_name: evaluation.passed
        for evaluation in result.get_asset_check_evaluations()
    }


def test_checks_pass_after_a_clean_load(settings, raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1"), event("m1")])

    result = run_landing(settings, DAY_1.isoformat())

    assert result.success
    assert check_results(result) == {
        "matches_contract": True,
        "unique_key": True,
        "unchanged_since_load": True,
        "reconciles_with_manifest": True,
        "no_stray_files": True,
        # The test data is from March 2026: long since stale, but stale data only warns.
        "fresh": False,
        "volume": True,
    }


def test_materialization_carries_the_manifest_numbers_and_schema(settings, raw_landing):
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [event("m1"), event("m1"), event("m2", event_type="click")],
    )

    result = run_landing(settings, DAY_1.isoformat())

    [materialization] = result.asset_materializations_for_node("raw__events")
    metadata = {key: value.value for key, value in materialization.metadata.items()}
    assert (
        metadata["rows_read"],
        metadata["rows_loaded"],
        metadata["rows_rejected"],
        metadata["rows_duplicate"],
        metadata["dagster/row_count"],
    ) == (3, 1, 1, 1, 1)
    assert [c.name for c in metadata["dagster/column_schema"].columns][:2] == [
        "message_id",
        "tenant_id",
    ]
    assert "event_type: 'click' is not one of" in metadata["rejected_row_examples"]
    assert len(metadata["preview"].records) == 1


def test_a_failing_blocking_check_stops_downstream_assets(settings, raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m2")])
    run_landing(settings, DAY_1.isoformat())
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        # Another day's manifest no longer matches its rows: the table cannot be trusted.
        connection.execute("update raw.load_manifest set rows_read = 7")

    result = run_landing(settings, DAY_2.isoformat(), extra_assets=[downstream_of_events])

    assert check_results(result)["reconciles_with_manifest"] is False
    assert not result.success
    assert result.asset_materializations_for_node("downstream_of_events") == []


def test_stray_files_warn_without_blocking_and_are_named_in_the_run(settings, raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m2")])
    (raw_landing / "events" / "date=2026-03-02").rename(raw_landing / "events" / "2026-03-02")
    instance = DagsterInstance.ephemeral()

    result = run_landing(
        settings, DAY_1.isoformat(), extra_assets=[downstream_of_events], instance=instance
    )

    listed = "- `events/2026-03-02/part-0.parquet`: folder 2026-03-02 is not named date=YYYY-MM-DD"
    [stray_check] = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "no_stray_files"
    ]
    assert (stray_check.passed, stray_check.severity) == (False, AssetCheckSeverity.WARN)
    summary = (
        "1 file under raw_landing/events/ in no partition, not loaded: move each into "
        "raw_landing/events/date=YYYY-MM-DD/ of the day it arrived (or delete it), and load "
        "that day"
    )
    assert stray_check.description == summary
    assert stray_check.metadata["files"].value == listed
    # Not blocking: the day's file loads and what is downstream is built.
    assert result.success
    assert len(result.asset_materializations_for_node("downstream_of_events")) == 1
    [materialization] = result.asset_materializations_for_node("raw__events")
    assert materialization.metadata["rows_loaded"].value == 1
    assert materialization.metadata["stray_files"].value == listed
    warnings = [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if entry.level == logging.WARNING
    ]
    assert (
        f"{summary}:\n"
        "events/2026-03-02/part-0.parquet: folder 2026-03-02 is not named date=YYYY-MM-DD"
    ) in warnings


def test_a_contract_with_a_new_optional_column_migrates_and_passes_the_checks(
    settings, raw_landing, monkeypatch
):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    run_landing(settings, DAY_1.isoformat())
    campaign = Column("campaign_id", ColumnType.STRING, False, "Campaign of the visit.")
    evolved = dataclasses.replace(EVENTS, columns=(*EVENTS.columns, campaign))
    monkeypatch.setitem(DATASETS, "events", evolved)
    write_landing_file(
        raw_landing, evolved, DAY_2, "part-0.parquet", [event("m2", campaign_id="spring")]
    )

    result = run_landing(settings, DAY_2.isoformat())

    assert result.success
    assert check_results(result) == {
        "matches_contract": True,
        "unique_key": True,
        "unchanged_since_load": True,
        "reconciles_with_manifest": True,
        "no_stray_files": True,
        "fresh": False,
        "volume": True,
    }
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        assert connection.execute(
            "select message_id, campaign_id from raw.events order by 1"
        ).fetchall() == [("m1", None), ("m2", "spring")]


def test_a_changed_column_type_fails_the_landing_step_with_what_to_do(
    settings, raw_landing, monkeypatch
):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    run_landing(settings, DAY_1.isoformat())
    columns = tuple(
        dataclasses.replace(c, type=ColumnType.BIGINT) if c.name == "screen_width" else c
        for c in EVENTS.columns
    )
    monkeypatch.setitem(DATASETS, "events", dataclasses.replace(EVENTS, columns=columns))

    result = run_landing(settings, DAY_1.isoformat())

    [failure] = result.get_step_failure_events()
    message = failure.step_failure_data.error.cause.message
    assert not result.success
    assert "- raw.events.screen_width is INTEGER, but declared BIGINT\n" in message
    assert 'alter table raw.events alter column "screen_width" type BIGINT;' in message


def test_schema_differences_ignore_the_column_order(warehouse):
    warehouse.execute("create schema raw")
    warehouse.execute("create table raw.t (c date, a varchar, b integer)")

    expected = [("a", "VARCHAR"), ("b", "INTEGER"), ("c", "DATE")]

    assert table_schema_differences(warehouse, "raw.t", expected) == []


def test_schema_differences_name_the_column(warehouse):
    warehouse.execute("create schema raw")
    warehouse.execute("create table raw.t (a varchar, b integer, c varchar)")

    differences = table_schema_differences(
        warehouse, "raw.t", [("a", "VARCHAR"), ("b", "BIGINT"), ("d", "DATE")]
    )

    assert differences == [
        "missing column d DATE",
        "unexpected column c VARCHAR",
        "column b is INTEGER, the contract says BIGINT",
    ]


def test_reconciliation_names_a_file_whose_rows_changed_behind_the_manifest(settings, raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1"), event("m2")])
    run_landing(settings, DAY_1.isoformat())

    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute("delete from raw.events where message_id = 'm2'")
        failures = reconciliation_failures(connection, EVENTS)

    assert failures == [
        "events/date=2026-03-01/part-0.parquet: manifest read 2 = loaded 2 + rejected 0 + "
        "duplicates 0; tables hold 1 + 0 + 0"
    ]


def test_freshness_warns_when_the_newest_event_is_older_than_the_limit(settings, raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    run_landing(settings, DAY_1.isoformat())

    with duckdb.connect(str(settings.warehouse_path)) as connection:
        fresh = events_freshness_problem(
            connection, datetime(2026, 3, 2, 10, 0, 0), timedelta(hours=36)
        )
        stale = events_freshness_problem(
            connection, datetime(2026, 3, 2, 22, 0, 2), timedelta(hours=36)
        )

    assert fresh is None
    assert stale == "the newest event was received at 2026-03-01 10:00 UTC, 1 day, 12:00:01 ago"


def test_volume_warns_on_a_day_under_half_the_trailing_median(warehouse):
    create_landing_tables(warehouse)
    daily_counts = [10, 12, 8, 10, 11, 9, 10, 4]  # 2026-03-01 .. 2026-03-08
    for offset, count in enumerate(daily_counts):
        warehouse.execute(
            f"""
            insert into raw.events (message_id, tenant_id, _landing_date)
            select 'm' || {offset} || '-' || range, 'acme', date '2026-03-01' + {offset}
            from range({count})
            """
        )

    assert events_volume_problem(warehouse, date(2026, 3, 9)) == (
        "2026-03-08 has 4 events, less than half the median 10 of the 7 days before it"
    )
    # 2026-03-07 (10 events) is in line with the days before it.
    assert events_volume_problem(warehouse, date(2026, 3, 8)) is None


def test_volume_needs_three_days_of_history(warehouse):
    create_landing_tables(warehouse)
    warehouse.execute(
        "insert into raw.events (message_id, tenant_id, _landing_date) values "
        "('a', 'acme', date '2026-03-01'), ('b', 'acme', date '2026-03-01')"
    )

    assert events_volume_problem(warehouse, date(2026, 3, 3)) is None


def test_declared_mart_types_compare_in_duckdb_spelling(warehouse):
    warehouse.execute("create schema marts")
    warehouse.execute("create table marts.t (n integer, counts map(varchar, bigint), s varchar)")
    declared = [("n", "int"), ("counts", "map(varchar, bigint)"), ("s", "text")]

    differences = table_schema_differences(
        warehouse, "marts.t", canonical_types(warehouse, declared)
    )

    assert differences == []


def test_every_contracted_mart_is_checked_against_its_declared_columns():
    contracts = declared_contracts(dbt_project(Settings.from_env().dbt_project_dir).manifest_path)

    relation, columns = contracts[AssetKey(["marts", "sessions"])]
    assert relation == "marts.sessions"
    assert ("session_key", "string") in columns
    assert all(key.path[0] in ("marts", "staging", "intermediate") for key in contracts)
