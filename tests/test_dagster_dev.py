"""A real `dagster dev` (webserver and daemon), driven through its GraphQL API.

The server runs on 127.0.0.1 with a temporary DAGSTER_HOME, raw_landing/ and warehouse, and the
test stops every process it started.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.contract import EVENTS, METRICS
from orchestration.settings import PROJECT_ROOT
from scripts.processes import stop_process_group
from tests.landing_files import DAY_1, DAY_2, event, metric, utc, write_landing_file

STARTUP_SECONDS = 240
RUN_SECONDS = 600


@dataclass
class DagsterDev:
    url: str
    process: subprocess.Popen
    warehouse_dir: Path

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
        assert "errors" not in body, body["errors"]
        return body["data"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _reset_signals() -> None:
    # A process started in the background inherits ignored SIGINT/SIGTERM; dagster dev must
    # hear them to shut its webserver and daemon down.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


def _location_loaded(server: DagsterDev) -> bool:
    data = server.graphql(
        """
        { workspaceOrError { ... on Workspace { locationEntries {
            name loadStatus locationOrLoadError { __typename ... on PythonError { message } }
        } } } }
        """
    )
    [entry] = data["workspaceOrError"]["locationEntries"]
    error = entry["locationOrLoadError"]
    if error and error["__typename"] == "PythonError":
        raise AssertionError(f"code location failed to load: {error['message']}")
    return entry["loadStatus"] == "LOADED" and error is not None


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterDev]:
    root = tmp_path_factory.mktemp("dagster_dev")
    home, raw_landing, warehouse_dir = root / "home", root / "raw_landing", root / "warehouse"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1"), event("m2")])
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_2,
        "part-0.parquet",
        [event("m3", timestamp=utc("2026-03-02 09:00:00"), received_at=utc("2026-03-02 09:00:01"))],
    )
    write_landing_file(raw_landing, METRICS, DAY_1, "part-0.parquet", [metric("x1")])
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    environment = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "RAW_LANDING_DIR": str(raw_landing),
        "WAREHOUSE_DIR": str(warehouse_dir),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    log = (root / "dagster_dev.log").open("w")
    process = subprocess.Popen(
        [
            str(bin_dir / "dagster"),
            "dev",
            "-w",
            "workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_reset_signals,
    )
    server = DagsterDev(f"http://127.0.0.1:{port}", process, warehouse_dir)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, (root / "dagster_dev.log").read_text()[-5000:]
            assert time.monotonic() < deadline, "dagster dev did not load the code location"
            try:
                if _location_loaded(server):
                    break
            except (urllib.error.URLError, ConnectionError, KeyError, ValueError):
                pass
            time.sleep(2)
        yield server
    finally:
        # dagster dev and everything it started: its process group, by PID.
        stop_process_group(process, timeout=60)
        log.close()


def launch_main_job(server: DagsterDev, partition: str) -> str:
    data = server.graphql(
        """
        mutation Launch($params: ExecutionParams!) {
          launchRun(executionParams: $params) {
            __typename
            ... on LaunchRunSuccess { run { runId } }
            ... on PythonError { message }
            ... on RunConfigValidationInvalid { errors { message } }
          }
        }
        """,
        {
            "params": {
                "selector": {
                    "repositoryLocationName": "analytics_warehouse",
                    "repositoryName": "__repository__",
                    "jobName": "main",
                },
                "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
            }
        },
    )
    result = data["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


def wait_for_runs(server: DagsterDev, run_ids: list[str]) -> dict[str, str]:
    deadline = time.monotonic() + RUN_SECONDS
    statuses: dict[str, str] = {}
    while time.monotonic() < deadline:
        for run_id in run_ids:
            data = server.graphql(
                "query Run($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }",
                {"id": run_id},
            )
            statuses[run_id] = data["runOrError"]["status"]
        if all(status in ("SUCCESS", "FAILURE", "CANCELED") for status in statuses.values()):
            return statuses
        time.sleep(3)
    raise AssertionError(f"runs did not finish in {RUN_SECONDS} s: {statuses}")


def test_ui_lists_assets_with_groups_partitions_and_checks(dagster_dev):
    data = dagster_dev.graphql(
        """
        { assetNodes {
            assetKey { path }
            groupName
            isPartitioned
            assetChecksOrError { ... on AssetChecks { checks { name blocking } } }
        } }
        """
    )
    nodes = {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}

    events = nodes["raw/events"]
    assert (events["groupName"], events["isPartitioned"]) == ("landing", True)
    assert {c["name"]: c["blocking"] for c in events["assetChecksOrError"]["checks"]} == {
        "matches_contract": True,
        "unique_key": True,
        "unchanged_since_load": True,
        "reconciles_with_manifest": True,
        "no_stray_files": False,
        "fresh": False,
        "volume": False,
    }
    assert nodes["marts/sessions"]["groupName"] == "marts"
    assert {n["groupName"] for n in nodes.values()} >= {
        "landing",
        "staging",
        "intermediate",
        "marts",
    }


def test_ui_lists_the_daily_partitions(dagster_dev):
    data = dagster_dev.graphql(
        """
        { assetNodeOrError(assetKey: {path: ["raw", "events"]}) {
            ... on AssetNode { partitionKeys partitionDefinition { type } }
        } }
        """
    )
    node = data["assetNodeOrError"]

    assert node["partitionDefinition"]["type"] == "TIME_WINDOW"
    assert "2026-03-01" in node["partitionKeys"]


def test_two_runs_launched_at_once_both_succeed(dagster_dev):
    run_ids = [launch_main_job(dagster_dev, day) for day in ("2026-03-01", "2026-03-02")]

    statuses = wait_for_runs(dagster_dev, run_ids)

    assert list(statuses.values()) == ["SUCCESS", "SUCCESS"]
    with duckdb.connect(str(dagster_dev.warehouse_dir / "warehouse.duckdb"), read_only=True) as db:
        assert db.execute("select count(*) from raw.events").fetchone() == (3,)
        assert db.execute("select count(*) from marts.sessions").fetchone()[0] > 0
