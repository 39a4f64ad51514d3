"""Runs started by `warehouse run` are recorded as runs launched from the Dagster UI are."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRun, RunsFilter

from orchestration.cli import main
from orchestration.contract import EVENTS
from tests.landing_files import DAY_1, event, write_landing_file

LOCATION = "analytics_warehouse"
"""The code location's name in workspace.yaml."""
REPOSITORY = "__repository__"
"""The repository a `Definitions` object makes."""


@dataclass
class CommandRun:
    exit_code: int
    out: str
    run: DagsterRun


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli_runs")
    write_landing_file(root / "raw_landing", EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    (root / "dagster_home").mkdir()
    return root


def run_command(home: Path) -> CommandRun:
    """`warehouse run` over `home`, and the run it recorded."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as environment, contextlib.redirect_stdout(out):
        environment.setenv("RAW_LANDING_DIR", str(home / "raw_landing"))
        environment.setenv("WAREHOUSE_DIR", str(home / "warehouse"))
        environment.setenv("DAGSTER_HOME", str(home / "dagster_home"))
        environment.delenv("PARTITIONS_START_DATE", raising=False)
        exit_code = main(["run"])
        with DagsterInstance.get() as instance:
            run = instance.get_runs(limit=1)[0]
    return CommandRun(exit_code, out.getvalue(), run)


@pytest.fixture(scope="module")
def first(home: Path) -> CommandRun:
    return run_command(home)


def test_a_command_run_has_the_origin_of_the_code_location(first):
    origin = first.run.remote_job_origin

    assert first.exit_code == 0
    assert origin.job_name == "main"
    assert origin.repository_origin.repository_name == REPOSITORY
    assert origin.location_name == LOCATION


def test_a_command_run_is_listed_under_its_job_as_the_ui_lists_them(first, home):
    # The job page's filter: the job's name and the label of its repository.
    under_the_job = RunsFilter(
        job_name="main", tags={".dagster/repository": f"{REPOSITORY}@{LOCATION}"}
    )

    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("DAGSTER_HOME", str(home / "dagster_home"))
        with DagsterInstance.get() as instance:
            runs = instance.get_runs(filters=under_the_job)

    assert [run.run_id for run in runs] == [first.run.run_id]
