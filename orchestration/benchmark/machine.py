"""What the benchmark ran on: the machine, the versions of the stack, the code's commit."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "dagster",
    "dagster-dbt",
    "dagster-duckdb",
    "dbt-core",
    "dbt-duckdb",
    "duckdb",
    "polars",
    "pyarrow",
)


def _first_line_with(path: str, prefix: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def machine() -> dict[str, object]:
    memory_kib = _first_line_with("/proc/meminfo", "MemTotal")
    return {
        "system": platform.platform(),
        "cpu": _first_line_with("/proc/cpuinfo", "model name") or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gib": round(int(memory_kib.split()[0]) / 2**20, 1) if memory_kib else None,
        "python": platform.python_version(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def versions() -> dict[str, str]:
    found = {}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def _git(project_root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project_root, capture_output=True, text=True, check=True
    ).stdout.strip()


def commit(project_root: Path) -> str | None:
    """The checked-out commit, with `+changes` when the tree differs from it."""
    try:
        head = _git(project_root, "rev-parse", "--short", "HEAD")
        dirty = _git(project_root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}+changes" if dirty else head
