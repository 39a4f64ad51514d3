"""One writer of the warehouse at a time, and what is left of runs that died.

DuckDB lets one process open the warehouse file for writing, and a writer blocks even read-only
opens from other processes. Two things keep the processes that use it apart:

- **The warehouse lock**, an exclusive `flock` on `warehouse.duckdb.lock` beside the warehouse.
  Every `warehouse` command holds it from start to end, and every step of a run launched from
  the Dagster UI holds it while it has the warehouse open. Whoever comes second waits for it
  asleep, saying who holds it, and stops on Ctrl-C or SIGTERM. The kernel releases the lock when
  its holder exits, however it exits (a crash, `kill -9`, an out-of-memory kill, a reboot), so a
  dead holder never blocks anyone.
- **Dead runs.** A run whose process died stays STARTED in the Dagster instance, where it keeps
  the UI's queue of the `duckdb_warehouse` pool waiting. Every run records the process that
  executes it in the run's tags; `release_dead_runs` marks the runs whose process is gone as
  failed. Every `warehouse` command calls it first, and so does the `dead_run_sensor` under
  `dagster dev`.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter

WORKER_TAG = "warehouse/worker"
"""The process executing a run: `host:pid:start`, the start read from /proc where there is one."""
_UNFINISHED = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
_POLL_SECONDS = 0.5
_REMIND_SECONDS = 60.0


def lock_path(warehouse_path: Path) -> Path:
    return warehouse_path.with_name(warehouse_path.name + ".lock")


@dataclass
class _Held:
    fd: int
    depth: int


_held: dict[Path, _Held] = {}
_registry_lock = threading.Lock()


def _holder_text(path: Path) -> str:
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        holder = {}
    if not holder:
        return "another process"
    purpose, pid, since = holder.get("purpose", "a process"), holder.get("pid"), holder.get("since")
    return f"{purpose} (pid {pid}, since {since})"


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def warehouse_lock(
    warehouse_path: Path,
    purpose: str,
    *,
    wait: bool = True,
    say: Callable[[str], None] | None = None,
) -> AbstractContextManager[None]:
    """Hold the warehouse lock for the block; re-entrant within a process.

    While another process holds it, wait (checking twice a second) and `say` who holds it, once
    and then every minute; with `wait=False`, raise `WarehouseBusy` instead.
    """
    return file_lock(lock_path(warehouse_path), purpose, wait=wait, say=say)


@contextmanager
def file_lock(
    lock_file: Path,
    purpose: str,
    *,
    wait: bool = True,
    say: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """An exclusive flock on `lock_file` for the block, as `warehouse_lock` describes."""
    path = lock_file.resolve()
    with _registry_lock:
        held = _held.get(path)
        if held is not None:
            held.depth += 1
    if held is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _acquire(fd, path, wait=wait, say=say)
            os.ftruncate(fd, 0)
            since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            os.pwrite(
                fd, json.dumps({"purpose": purpose, "pid": os.getpid(), "since": since}).encode(), 0
            )
        except BaseException:
            os.close(fd)
            raise
        with _registry_lock:
            held = _held[path] = _Held(fd, 1)
    try:
        yield
    finally:
        with _registry_lock:
            held.depth -= 1
            if held.depth == 0:
                del _held[path]
                os.ftruncate(held.fd, 0)
                os.close(held.fd)  # closing the last descriptor releases the flock


class WarehouseBusy(Exception):
    pass


def _acquire(fd: int, path: Path, *, wait: bool, say: Callable[[str], None] | None) -> None:
    if _try_lock(fd):
        return
    if not wait:
        raise WarehouseBusy(f"the warehouse is in use by {_holder_text(path)}")
    said_at = None
    while not _try_lock(fd):
        now = time.monotonic()
        if say is not None and (said_at is None or now - said_at >= _REMIND_SECONDS):
            say(
                f"Waiting for the warehouse: {_holder_text(path)} is using it. "
                "This starts as soon as it is done (Ctrl-C stops waiting)."
            )
            said_at = now
        time.sleep(_POLL_SECONDS)


# Runs and the processes that execute them.


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _process_start(pid: int) -> str:
    """When `pid` started, in clock ticks since boot, with the boot's id ('' where unknown):
    a pid reused by a later process, or after a reboot, reads differently."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # The command name (field 2) is in parentheses and may hold spaces.
    return f"{_boot_id()}/{stat.rsplit(')', 1)[1].split()[19]}"


def worker_tag() -> str:
    """The value of WORKER_TAG for this process."""
    return f"{socket.gethostname()}:{os.getpid()}:{_process_start(os.getpid())}"


def _worker_alive(tag: str) -> bool | None:
    """Whether the process a WORKER_TAG names still runs; None when this host cannot tell."""
    host, pid_text, start = tag.split(":", 2)
    if host != socket.gethostname():
        return None
    pid = int(pid_text)
    if start and Path("/proc").is_dir():
        return _process_start(pid) == start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def record_worker(instance: DagsterInstance, run_id: str) -> None:
    """Tag the run with this process, unless it is tagged with it already."""
    tag = worker_tag()
    run = instance.get_run_by_id(run_id)
    if run is not None and run.tags.get(WORKER_TAG) != tag:
        instance.add_run_tags(run_id, {WORKER_TAG: tag})


@dataclass(frozen=True)
class DeadRun:
    run_id: str
    job_name: str
    started: str

    def describe(self) -> str:
        return (
            f"run {self.run_id} of job {self.job_name} (started {self.started}) died without "
            "finishing: its process is gone (killed, out of memory or a reboot). It is now marked "
            "failed; what it left half-done is redone by this run."
        )


def _started(instance: DagsterInstance, run: DagsterRun) -> str:
    record = instance.get_run_record_by_id(run.run_id)
    moment = record.start_time if record and record.start_time else None
    if moment is None:
        return "at an unknown time"
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def release_dead_runs(instance: DagsterInstance) -> list[DeadRun]:
    """Mark failed every unfinished run whose process is known to be gone, and free whatever
    pool slots it held."""
    dead = []
    for run in instance.get_runs(RunsFilter(statuses=_UNFINISHED)):
        tag = run.tags.get(WORKER_TAG)
        if not tag or _worker_alive(tag) is not False:
            continue
        found = DeadRun(run.run_id, run.job_name, _started(instance, run))
        instance.report_run_failed(run, message=found.describe())
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        dead.append(found)
    return dead


def say_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
