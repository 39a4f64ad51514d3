"""`stop_process_group` ends a started process and every process of its group, even one that
ignores SIGTERM."""

from __future__ import annotations

import subprocess
import time

import pytest

from scripts.processes import group_alive, stop_process_group


@pytest.mark.parametrize("child_ignores_sigterm", [False, True])
def test_the_whole_group_is_gone_afterwards(child_ignores_sigterm: bool) -> None:
    # The started shell leaves a child in its group, as dagster dev and Chromium do.
    trap = "trap '' TERM; " if child_ignores_sigterm else ""
    process = subprocess.Popen(
        ["sh", "-c", f'sh -c "{trap}sleep 300" & sleep 300'], start_new_session=True
    )
    time.sleep(0.5)
    assert group_alive(process.pid)
    stop_process_group(process, timeout=2)
    assert process.returncode is not None
    assert not group_alive(process.pid)
