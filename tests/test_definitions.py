"""The code location loads and shows what a data engineer expects to find."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

from dagster import AssetKey, DailyPartitionsDefinition

from orchestration.definitions import build_definitions, defs
from orchestration.settings import PROJECT_ROOT, Settings


def test_landing_assets_are_daily_partitioned_and_in_the_landing_group():
    graph = defs.resolve_asset_graph()

    for name in ("events", "metrics"):
        node = graph.get(AssetKey(["raw", name]))
        assert isinstance(node.partitions_def, DailyPartitionsDefinition)
        assert node.group_name == "landing"
        assert node.owners == ["team:data-engineering"]
        assert node.pools == {"duckdb_warehouse"}


def landing_checks(name: str) -> dict[str, bool]:
    graph = defs.resolve_asset_graph()
    return {
        key.name: graph.get_check_spec(key).blocking
        for key in graph.asset_check_keys
        if key.asset_key == AssetKey(["raw", name])
    }


def test_landing_assets_have_blocking_contract_checks():
    contract_checks = {
        "matches_contract": True,
        "unique_key": True,
        "unchanged_since_load": True,
        "reconciles_with_manifest": True,
        "no_stray_files": False,
    }

    assert landing_checks("metrics") == contract_checks
    assert landing_checks("events") == {**contract_checks, "fresh": False, "volume": False}


def test_workspace_loads_with_the_dagster_cli():
    result = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "dagster"),
            "definitions",
            "validate",
            "-w",
            "workspace.yaml",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DAGSTER_HOME": str(PROJECT_ROOT / "dagster_home")},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_lineage_runs_from_landing_through_staging_and_intermediate_to_marts():
    graph = defs.resolve_asset_graph()
    groups = {key: graph.get(key).group_name for key in graph.get_all_asset_keys()}

    def upstream_groups(key: AssetKey) -> set[str]:
        return {groups[parent] for parent in graph.get(key).parent_keys}

    assert "landing" in upstream_groups(AssetKey(["staging", "stg_events"]))
    assert "staging" in upstream_groups(AssetKey(["intermediate", "int_events"]))
    assert "intermediate" in upstream_groups(AssetKey(["marts", "sessions"]))


def test_the_parsed_user_agents_map_to_the_events_landing_that_writes_them():
    # The events landing parses raw.user_agents in each load's transaction: the dbt source
    # names raw/events as its asset, so stg_events depends on it and no external asset appears.
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()

    assert AssetKey(["raw", "user_agents"]) not in keys
    assert graph.get(AssetKey(["staging", "stg_events"])).parent_keys == {
        AssetKey(["raw", "events"])
    }
    assert [key.to_user_string() for key in keys if not graph.get(key).is_materializable] == []


def test_no_asset_is_an_orphan():
    graph = defs.resolve_asset_graph()

    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        is_seed = node.metadata.get("dagster_dbt/unique_id", "").startswith("seed.")
        if node.group_name not in ("landing", "maintenance") and not is_seed:
            assert node.parent_keys, f"{key.to_user_string()} has no upstream asset"
        if node.group_name not in ("marts", "serving", "maintenance"):
            assert node.child_keys, f"{key.to_user_string()} feeds nothing"


def test_only_the_landing_is_partitioned_and_one_step_builds_every_model():
    # A run over many days records one event per landing partition, not per model and day:
    # what the models build is read from the load manifest (orchestration/builds.py).
    graph = defs.resolve_asset_graph()
    dbt_steps = {
        assets_def.node_def.name
        for assets_def in defs.assets
        if any(graph.get(key).group_name in ("staging", "marts") for key in assets_def.keys)
    }

    assert graph.get(AssetKey(["raw", "events"])).partitions_def is not None
    for key in (["marts", "sessions"], ["intermediate", "int_events"], ["marts", "users"]):
        assert graph.get(AssetKey(key)).partitions_def is None
    assert dbt_steps == {"dbt_models"}


def test_every_model_has_owners_kinds_and_a_description():
    graph = defs.resolve_asset_graph()

    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.group_name in ("landing", "serving", "maintenance"):
            continue
        assert node.owners == ["team:analytics-engineering"]
        assert "dbt" in node.kinds
        assert node.description, f"{key.to_user_string()} has no description"


def test_every_step_that_opens_the_warehouse_shares_one_pool():
    for assets_def in defs.assets:
        assert assets_def.op.pool == "duckdb_warehouse", assets_def.node_def.name
    for checks_def in defs.asset_checks:
        assert checks_def.op.pool == "duckdb_warehouse", checks_def.node_def.name


def test_backfill_job_rebuilds_every_model_without_reloading_files():
    graph = defs.resolve_asset_graph()
    selected = defs.resolve_job_def("backfill").asset_layer.selected_asset_keys
    built = {
        key for key in graph.get_all_asset_keys() if graph.get(key).group_name != "maintenance"
    }
    models = {key for key in built if graph.get(key).group_name != "landing"}

    assert selected == models
    assert defs.resolve_job_def("main").asset_layer.selected_asset_keys == built


def test_maintenance_runs_only_when_asked_for():
    cleanup = AssetKey(["maintenance", "cleanup"])

    assert defs.resolve_job_def("cleanup").asset_layer.selected_asset_keys == {cleanup}
    assert cleanup not in defs.resolve_job_def("main").asset_layer.selected_asset_keys


def test_relationship_tests_are_blocking_checks_of_their_model():
    # They run in the one dbt step that builds both of their models, so they gate publication
    # as every other error-severity test does.
    relationships = {
        (spec.asset_key.to_user_string(), spec.blocking)
        for assets_def in defs.assets
        for spec in assets_def.check_specs
        if spec.name.startswith("relationships_")
    }

    assert relationships == {
        ("intermediate/int_event_sessions", True),
        ("marts/conversions", True),
        ("marts/page_views", True),
        ("marts/sessions", True),
        ("marts/user_activity_daily", True),
        ("marts/user_preferences_by_session", True),
    }


def test_on_spark_the_same_assets_run_dbt_against_the_spark_target():
    settings = dataclasses.replace(Settings.from_env(), warehouse_engine="spark")
    on_spark = build_definitions(settings)
    graph, spark_graph = defs.resolve_asset_graph(), on_spark.resolve_asset_graph()

    assert spark_graph.get_all_asset_keys() == graph.get_all_asset_keys()
    assert on_spark.resources["dbt"].target == "spark"
    assert defs.resources["dbt"].target is None

    def contract_checks(asset_graph) -> set[AssetKey]:
        return {
            key.asset_key for key in asset_graph.asset_check_keys if key.name == "matches_contract"
        }

    # A view has no files on Spark: dbt checks its contract when it creates it. The contracted
    # view is stg_metrics; every contracted table keeps its check.
    view = AssetKey(["staging", "stg_metrics"])
    assert view in contract_checks(graph)
    assert contract_checks(spark_graph) == contract_checks(graph) - {view}
    assert AssetKey(["marts", "sessions"]) in contract_checks(spark_graph)
