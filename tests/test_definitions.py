"""The code location loads and shows what a data engineer expects to find."""

from __future__ import annotations

import os
import subprocess
import sys

from dagster import AssetKey, DailyPartitionsDefinition

from orchestration.definitions import defs
from orchestration.settings import PROJECT_ROOT


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
        "reconciles_with_manifest": True,
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
