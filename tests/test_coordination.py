"""The warehouse lock and the runs whose process died."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    build_sensor_context,
    job,
    op,
)

from orchestration.automation import build_dead_run_sensor
from orchestration.coordination import (
    WORKER_TAG,
    WarehouseBusy,
    lock_path,
    release_dead_runs,
    warehouse_lock,
    worker_tag,
)
from orchestration.settings import PROJECT_ROOT


@op
def nothing() -> None:
    pass


@job
def a_job() -> None:
    nothing()


def started_run(instance: DagsterInstance, worker: str | None):
    """A run left STARTED, as a run whose process died leaves it, tagged with `worker`."""
    return instance.create_run_for_job(
        a_job,
        status=DagsterRunStatus.STARTED,
        tags={WORKER_TAG: worker} if worker is not None else {},
    )


def dead_worker() -> str:
    """The WORKER_TAG of a process that has exited."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from orchestration.coordination import worker_tag; print(worker_tag())",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    tag = child.communicate()[0].strip()
    assert child.returncode == 0
    return tag


def test_a_run_whose_process_died_is_marked_failed_and_frees_its_slots():
    instance = DagsterInstance.ephemeral()
    dead = started_run(instance, dead_worker())
    alive = started_run(instance, worker_tag())
    elsewhere = started_run(instance, "another-host:1:")
    untagged = started_run(instance, None)
    instance.event_log_storage.set_concurrency_slots("duckdb_warehouse", 1)
    instance.event_log_storage.claim_concurrency_slot("duckdb_warehouse", dead.run_id, "step")

    released = release_dead_runs(instance)

    assert [run.run_id for run in released] == [dead.run_id]
    assert "died without finishing" in released[0].describe()
    assert instance.get_run_by_id(dead.run_id).status == DagsterRunStatus.FAILURE
    for run in (alive, elsewhere, untagged):
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.STARTED
    info = instance.event_log_storage.get_concurrency_info("duckdb_warehouse")
    assert info.claimed_slots == []
    assert release_dead_runs(instance) == []


def test_a_reused_pid_is_not_taken_for_the_process_that_died():
    host, pid, start = worker_tag().split(":", 2)
    # This process's pid with another start time: the process the tag names is gone.
    tag = f"{host}:{pid}:{start}0"
    instance = DagsterInstance.ephemeral()
    run = started_run(instance, tag)

    assert [dead.run_id for dead in release_dead_runs(instance)] == [run.run_id]


def test_the_lock_is_re_entrant_in_a_process_and_exclusive_between_processes(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    probe = (
        "import sys; from pathlib import Path; "
        "from orchestration.coordination import warehouse_lock, WarehouseBusy\n"
        "try:\n"
        "    with warehouse_lock(Path(sys.argv[1]), 'probe', wait=False): print('free')\n"
        "except WarehouseBusy as busy: print(busy)"
    )

    def other_process_sees() -> str:
        return subprocess.run(
            [sys.executable, "-c", probe, str(warehouse)], capture_output=True, text=True
        ).stdout.strip()

    with warehouse_lock(warehouse, "the outer block"):
        with warehouse_lock(warehouse, "an inner block"):
            inside = other_process_sees()
        after_inner = other_process_sees()
    after = other_process_sees()

    assert inside.startswith(f"the warehouse is in use by the outer block (pid {os.getpid()}")
    assert after_inner == inside
    assert after == "free"
    assert lock_path(warehouse).read_text() == ""


def test_a_lock_held_by_a_process_that_was_killed_is_free(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from orchestration.coordination import warehouse_lock\n"
            "with warehouse_lock(Path(sys.argv[1]), 'a holder'):\n"
            "    print('held', flush=True); time.sleep(600)",
            str(warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with (
        pytest.raises(WarehouseBusy, match="in use by a holder"),
        warehouse_lock(warehouse, "a second holder", wait=False),
    ):
        pass

    holder.kill()
    holder.wait()

    with warehouse_lock(warehouse, "a second holder", wait=False):
        assert "a second holder" in lock_path(warehouse).read_text()


def test_a_waiting_holder_says_who_it_waits_for_and_gets_the_lock_when_it_is_free(
    tmp_path: Path,
):
    warehouse = tmp_path / "warehouse.duckdb"
    said: list[str] = []
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from orchestration.coordination import warehouse_lock\n"
            "with warehouse_lock(Path(sys.argv[1]), '`warehouse run`'):\n"
            "    print('held', flush=True); sys.stdin.readline()",
            str(warehouse),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    got = threading.Event()

    def wait_for_it() -> None:
        with warehouse_lock(warehouse, "a waiter", say=said.append):
            got.set()

    waiter = threading.Thread(target=wait_for_it)
    waiter.start()
    time.sleep(1)
    waited = not got.is_set()
    holder.stdin.write("\n")
    holder.stdin.flush()
    holder.wait()
    waiter.join(timeout=10)

    assert waited
    assert got.is_set()
    assert said == [
        f"Waiting for the warehouse: `warehouse run` (pid {holder.pid}, since "
        f"{said[0].split('since ')[1].split(')')[0]}) is using it. This starts as soon as it is "
        "done (Ctrl-C stops waiting)."
    ]


def test_the_dead_run_sensor_marks_dead_runs_failed_and_is_on_by_default():
    instance = DagsterInstance.ephemeral()
    dead = started_run(instance, dead_worker())
    sensor = build_dead_run_sensor()

    first = sensor(build_sensor_context(instance=instance))
    second = sensor(build_sensor_context(instance=instance))

    assert sensor.default_status == DefaultSensorStatus.RUNNING
    assert first.skip_message == f"marked failed: {dead.run_id}"
    assert second.skip_message == "no run has lost its process"
    assert instance.get_run_by_id(dead.run_id).status == DagsterRunStatus.FAILURE


@pytest.mark.slow
def test_two_processes_loading_an_unparsed_project_at_once_both_get_a_whole_manifest(
    tmp_path: Path,
):
    # A run and `dagster dev` started together: before, both ran `dbt parse` and one read the
    # other's half-written manifest.json.
    project = tmp_path / "dbt_project"
    shutil.copytree(
        PROJECT_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs")
    )
    load = (
        "import sys, json; from pathlib import Path; "
        "from orchestration.transform import dbt_project\n"
        "manifest = json.loads(dbt_project(Path(sys.argv[1])).manifest_path.read_text())\n"
        "print(len(manifest['nodes']) > 0)"
    )
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "WAREHOUSE_DIR": str(tmp_path / "warehouse"),
    }
    loaders = [
        subprocess.Popen(
            [sys.executable, "-c", load, str(project)],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [loader.communicate(timeout=600) for loader in loaders]

    assert [loader.returncode for loader in loaders] == [0, 0], outputs
    assert [out.strip() for out, _ in outputs] == ["True", "True"]
