"""The blocking checks on the landing tables, run the way Dagster runs them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, MaterializeResult, asset, materialize

from orchestration.checks import (
    build_landing_checks,
    reconciliation_failures,
    table_schema_differences,
)
from orchestration.contract import EVENTS
from orchestration.landing.assets import build_landing_asset
from orchestration.resources import warehouse_resource
from orchestration.settings import Settings
from tests.landing_files import DAY_1, DAY_2, event, write_landing_file


@pytest.fixture
def settings(tmp_path: Path, raw_landing: Path) -> Settings:
    return dataclasses.replace(
        Settings.from_env(), raw_landing_dir=raw_landing, warehouse_dir=tmp_path / "warehouse"
    )


@asset(deps=[AssetKey(["raw", "events"])])
def downstream_of_events() -> MaterializeResult:
    return MaterializeResult()


def run_landing(settings: Settings, partition: str, extra_assets=()):
    return materialize(
        [build_landing_asset(EVENTS, settings), *build_landing_checks(EVENTS), *extra_assets],
        partition_key=partition,
        resources={"warehouse": warehouse_resource(settings)},
        raise_on_error=False,
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
        "reconciles_with_manifest": True,
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
