"""Peak resident memory of this process and every process it starts (dbt runs as a child)."""

from __future__ import annotations

import os
import resource
import threading
from collections import defaultdict
from pathlib import Path

_PROC = Path("/proc")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        # The command name is in parentheses and may hold spaces: the fields follow the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        children[int(fields[1])].append(int(entry.name))
    return children


def _rss_bytes(pid: int) -> int:
    try:
        return int((_PROC / str(pid) / "statm").read_text().split()[1]) * _PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def process_tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants, now."""
    children = _children_by_parent()
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        total += _rss_bytes(pid)
        pending.extend(children.get(pid, ()))
    return total


class PeakMemory:
    """Samples the resident memory of the process tree in a background thread.

    `peak_bytes` is the highest sum seen since the last `reset`. Where /proc is not available,
    it falls back to the peak of this process and of its largest finished child, from
    getrusage.
    """

    def __init__(self, interval_seconds: float = 0.1) -> None:
        self.interval_seconds = interval_seconds
        self.sampled = _PROC.joinpath("self", "statm").exists()
        self._peak = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="peak-memory", daemon=True)

    def __enter__(self) -> PeakMemory:
        if self.sampled:
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self.sampled:
            self._thread.join()

    def _sample(self) -> None:
        root = os.getpid()
        while not self._stop.wait(self.interval_seconds):
            rss = process_tree_rss(root)
            with self._lock:
                self._peak = max(self._peak, rss)

    def reset(self) -> None:
        with self._lock:
            self._peak = process_tree_rss(os.getpid()) if self.sampled else 0

    @property
    def peak_bytes(self) -> int:
        if self.sampled:
            with self._lock:
                return max(self._peak, process_tree_rss(os.getpid()))
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return (own + child) * 1024
