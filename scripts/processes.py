"""Ending a server or browser the scripts and tests started in a process group of its own
(`start_new_session=True`): `dagster dev` with its webserver, daemon and code server, Chromium
with its helpers. Ending only the process that was started leaves the others running (or, for
Chromium, still writing into a profile about to be removed)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time


def stop_process_group(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """End `process` and every process of its group: SIGTERM to the group; SIGKILL to what is
    left of it after `timeout` seconds. Returns once the process is reaped and no process of
    the group is left."""
    group = process.pid
    _signal_group(group, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)
    while group_alive(group) and time.monotonic() < deadline:
        time.sleep(0.2)
    _signal_group(group, signal.SIGKILL)
    process.wait()
    # Killed processes of the group still go away: their parent, or init, reaps them.
    deadline = time.monotonic() + 10
    while group_alive(group) and time.monotonic() < deadline:
        time.sleep(0.1)


def _signal_group(group: int, signal_number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal_number)


def group_alive(group: int) -> bool:
    """Whether any process of the process group `group` is left (zombies included)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
