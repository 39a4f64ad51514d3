"""Runs started by `warehouse run` are recorded as runs launched from the Dagster UI are, and a
run with nothing new says so: in one line, and in its assets' events."""

from __future__ import annotations

import contextlib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRun, EventLogEntry, RunsFilter

from orchestration.cli import main
from orchestration.contract import EVENTS
from orchestration.settings import PROJECT_ROOT
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
    # A copy of the dbt project, so that an edit of it during the runs is not "a change since
    # the last build".
    shutil.copytree(
        PROJECT_ROOT / "dbt_project",
        root / "dbt_project",
        ignore=shutil.ignore_patterns("target", "logs"),
    )
    write_landing_file(root / "raw_landing", EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    (root / "dagster_home").mkdir()
    return root


def run_command(home: Path) -> CommandRun:
    """`warehouse run` over `home`, and the run it recorded."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as environment, contextlib.redirect_stdout(out):
        environment.setenv("RAW_LANDING_DIR", str(home / "raw_landing"))
        environment.setenv("WAREHOUSE_DIR", str(home / "warehouse"))
        environment.setenv("DBT_PROJECT_DIR", str(home / "dbt_project"))
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


@pytest.fixture(scope="module")
def nothing_new(first: CommandRun, home: Path) -> CommandRun:
    """`warehouse run` again, with no file changed since the first."""
    return run_command(home)


def run_events(home: Path, run: DagsterRun, event_type: DagsterEventType) -> list[EventLogEntry]:
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("DAGSTER_HOME", str(home / "dagster_home"))
        with DagsterInstance.get() as instance:
            return list(instance.all_logs(run.run_id, of_type=event_type))


def test_a_run_with_nothing_new_says_the_publication_stays(nothing_new, home):
    version = (home / "warehouse" / "published" / "current").resolve().name

    assert nothing_new.exit_code == 0
    assert f"\nNothing new since the last build: publication {version} stays.\n" in nothing_new.out


def test_a_run_with_nothing_new_materializes_no_model_and_skips_publication(nothing_new, home):
    materialized = {
        entry.asset_materialization.asset_key.to_user_string()
        for entry in run_events(home, nothing_new.run, DagsterEventType.ASSET_MATERIALIZATION)
    }
    skipped = {
        entry.step_key for entry in run_events(home, nothing_new.run, DagsterEventType.STEP_SKIPPED)
    }

    assert materialized == {"raw/events", "raw/metrics"}
    assert "serving__published_marts" in skipped


def test_a_run_with_nothing_new_says_why_in_each_assets_observation(nothing_new, home):
    version = (home / "warehouse" / "published" / "current").resolve().name
    reasons = {
        entry.asset_observation.asset_key.to_user_string(): entry.asset_observation.metadata[
            "reason"
        ].value
        for entry in run_events(home, nothing_new.run, DagsterEventType.ASSET_OBSERVATION)
    }

    assert reasons["marts/sessions"] == (
        "Not built: no arrival day's loads changed since the last successful build, the dbt "
        "project is as it was, and the current publication holds that build."
    )
    assert reasons["serving/published_marts"] == (
        f"Not published: nothing new, publication {version} stays."
    )
