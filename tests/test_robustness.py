"""Faults survived: `warehouse run` killed with SIGKILL at each stage and run again, two runs at
once, and a command that waits for the warehouse stopped while it waits.

Each deployment is a folder of its own (landing files, warehouse, Dagster instance), and every
command runs as a user runs it: `.venv/bin/warehouse` in a process of its own.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, DagsterRunStatus

from orchestration.coordination import warehouse_lock
from orchestration.generator.config import GeneratorConfig
from orchestration.generator.generate import generate
from orchestration.publishing import MANIFEST_FILE
from orchestration.settings import PROJECT_ROOT
from scripts.processes import group_alive
from tests.test_pipeline import mart_tables

pytestmark = pytest.mark.slow

LAST_DAY = date(2026, 3, 2)
BIN = Path(sys.executable).parent
RUN_SECONDS = 900


@dataclass
class Deployment:
    root: Path

    @property
    def home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse_dir / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        return self.warehouse_dir / "published"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "DAGSTER_HOME": str(self.home),
            "RAW_LANDING_DIR": str(self.root / "raw_landing"),
            "WAREHOUSE_DIR": str(self.warehouse_dir),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    def start(
        self, command: list[str], log: Path, *, sigint_ignored: bool = False
    ) -> subprocess.Popen:
        """A command in a process group of its own, its output (both streams) in `log`; with
        `sigint_ignored`, started with SIGINT ignored, as a shell script starts a job in the
        background."""

        def ignore_sigint() -> None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

        with log.open("w") as output:
            return subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=self.environment(),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=ignore_sigint if sigint_ignored else None,
            )

    def warehouse(self, *args: str, name: str = "run") -> tuple[int, str]:
        log = self.root / f"{name}.log"
        process = self.start([str(BIN / "warehouse"), *args], log)
        return process.wait(timeout=RUN_SECONDS), log.read_text()

    def runs(self) -> list:
        # The instance's event log finds its folder through DAGSTER_HOME (dagster.yaml).
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DAGSTER_HOME", str(self.home))
            with DagsterInstance.from_config(str(self.home)) as instance:
                return list(instance.get_runs())


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("robustness") / "raw_landing"
    generate(GeneratorConfig(out=raw, days=2, events=1000, seed=21, end_date=LAST_DAY))
    return raw


def new_deployment(root: Path, landing: Path) -> Deployment:
    deployment = Deployment(root)
    deployment.home.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", deployment.home)
    shutil.copytree(landing, root / "raw_landing")
    return deployment


@pytest.fixture
def deployment(tmp_path: Path, landing: Path) -> Deployment:
    return new_deployment(tmp_path, landing)


@dataclass
class TwoRuns:
    deployment: Deployment
    first: subprocess.Popen
    outputs: tuple[str, str]
    returncodes: tuple[int, int]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory, landing: Path) -> TwoRuns:
    """`warehouse run`, and a second `warehouse run` started while the first is running."""
    deployment = new_deployment(tmp_path_factory.mktemp("two_runs"), landing)
    first_log = deployment.root / "first.log"
    first = deployment.start([str(BIN / "warehouse"), "run"], first_log)
    wait_for(lambda: "Running the pipeline" in first_log.read_text(), first, first_log, "its start")
    second_returncode, second_output = deployment.warehouse("run", name="second")
    first_returncode = first.wait(timeout=RUN_SECONDS)
    return TwoRuns(
        deployment,
        first,
        (first_log.read_text(), second_output),
        (first_returncode, second_returncode),
    )


@pytest.fixture(scope="module")
def clean_marts(two_runs: TwoRuns) -> dict:
    """The marts of runs that were never interrupted, over the same files."""
    assert two_runs.returncodes == (0, 0), two_runs.outputs
    marts = mart_tables(two_runs.deployment.warehouse_path)
    assert len(marts["sessions"]) > 50
    return marts


def test_a_second_run_started_during_a_run_waits_for_it_and_says_so(two_runs, clean_marts):
    first_output, second_output = two_runs.outputs

    assert two_runs.returncodes == (0, 0)
    assert f"Waiting for the warehouse: `warehouse run` (pid {two_runs.first.pid}," in second_output
    assert "Traceback" not in first_output + second_output
    # The second run started when the first had built everything: it found nothing to build,
    # and says so without a notice per check of the steps it skipped.
    assert "nothing to build" in second_output
    version = (two_runs.deployment.published / "current").resolve().name
    assert f"Nothing new since the last build: publication {version} stays." in second_output
    assert "emitted no result" not in second_output
    assert "did not yield or return expected outputs" not in second_output
    assert [run.status for run in two_runs.deployment.runs()] == [DagsterRunStatus.SUCCESS] * 2
    assert published_marts(two_runs.deployment) == clean_marts


def published_marts(deployment: Deployment) -> dict:
    """The current publication's marts as the warehouse holds them: the publication types UTC
    instants as TIMESTAMPTZ where the warehouse keeps them naive, in UTC."""

    def naive(value: object) -> object:
        if isinstance(value, list):
            return [naive(item) for item in value]
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    marts = mart_tables(deployment.published / "current" / "analytics.duckdb")
    return {
        name: sorted((tuple(naive(v) for v in row) for row in rows), key=repr)
        for name, rows in marts.items()
    }


def wait_for(predicate, process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + RUN_SECONDS
    while not predicate():
        assert process.poll() is None, f"ended before {what}:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"never reached {what}"
        time.sleep(0.2)


def kill_group(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    # dbt runs in the run's process group: nothing of the run may outlive it.
    deadline = time.monotonic() + 10
    while group_alive(process.pid):
        assert time.monotonic() < deadline, "a process of the killed run is still alive"
        time.sleep(0.1)


def run_and_kill(deployment: Deployment, stage: str) -> str:
    """Start `warehouse run`, SIGKILL its process group once it reaches `stage`; its output."""
    log = deployment.root / f"killed-in-{stage}.log"
    marker = deployment.root / f"{stage}.reached"
    if stage == "dbt":
        process = deployment.start([str(BIN / "warehouse"), "run"], log)
        # dbt reports each model as it finishes: the first incremental one is mid-build.
        reached = lambda: "OK created sql incremental model" in log.read_text()  # noqa: E731
    else:
        command = [sys.executable, "-m", "tests.fault_injection", stage, str(marker)]
        process = deployment.start(command, log)
        reached = marker.exists
    wait_for(reached, process, log, f"the {stage} stage")
    kill_group(process)
    return log.read_text()


def test_runs_killed_in_landing_dbt_and_publication_are_finished_by_the_next_run(
    tmp_path, landing, clean_marts
):
    # Each run is killed at a later stage than the one before, and starts by finding that one
    # dead; the last one runs to the end.
    deployment = new_deployment(tmp_path, landing)
    outputs = [run_and_kill(deployment, stage) for stage in ("landing", "dbt", "publication")]
    half_built = [p.name for p in (deployment.published / "versions").glob(".*.building")]
    killed = deployment.runs()
    returncode, output = deployment.warehouse("run", name="rerun")
    outputs.append(output)
    runs = deployment.runs()

    assert returncode == 0, output[-3000:]
    assert len(half_built) == 1
    # Before the last run, the third run (killed in publication) is the one left STARTED.
    assert [run.status for run in killed] == [DagsterRunStatus.STARTED] + [
        DagsterRunStatus.FAILURE
    ] * 2
    # Runs are listed newest first: each run found the one before it dead.
    oldest_first = list(reversed(runs))
    assert len(oldest_first) == len(outputs) == 4
    for before, found in zip(oldest_first[:-1], outputs[1:], strict=True):
        assert f"Found run {before.run_id} of job main" in found
        assert "died without finishing" in found
    assert [run.status for run in oldest_first] == [DagsterRunStatus.FAILURE] * 3 + [
        DagsterRunStatus.SUCCESS
    ]
    assert "Traceback" not in output
    assert mart_tables(deployment.warehouse_path) == clean_marts
    assert published_marts(deployment) == clean_marts
    assert list((deployment.published / "versions").glob(".*")) == []
    assert (deployment.published / "current" / MANIFEST_FILE).is_file()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize(
    ("command", "stop"),
    [
        (["run"], signal.SIGTERM),
        (["run"], signal.SIGINT),
        (["export", "--mart", "sessions"], signal.SIGTERM),
        (["forget", "--user-id", "u1"], signal.SIGTERM),
    ],
    ids=["run-SIGTERM", "run-SIGINT", "export-SIGTERM", "forget-SIGTERM"],
)
def test_a_command_waiting_for_the_warehouse_sleeps_and_stops_on_a_signal(
    deployment, command, stop
):
    log = deployment.root / "waiting.log"
    deployment.warehouse_dir.mkdir()
    duckdb.connect(str(deployment.warehouse_path)).close()
    with warehouse_lock(deployment.warehouse_path, "a test holding the warehouse"):
        waiting = deployment.start(
            [str(BIN / "warehouse"), *command], log, sigint_ignored=stop == signal.SIGINT
        )
        wait_for(lambda: "Waiting for the warehouse" in log.read_text(), waiting, log, "waiting")
        cpu_before = _cpu_seconds(waiting.pid)
        time.sleep(3)
        cpu_waiting = _cpu_seconds(waiting.pid) - cpu_before
        waiting.send_signal(stop)
        returncode = waiting.wait(timeout=30)
    output = log.read_text()

    assert "Waiting for the warehouse: a test holding the warehouse (pid" in output
    assert cpu_waiting < 0.5
    assert returncode == 130
    assert output.rstrip().endswith("Stopped.")
    assert "Traceback" not in output
    assert deployment.runs() == []
