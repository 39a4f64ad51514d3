"""`warehouse run` that stops dead at a chosen point, for the robustness tests.

    python -m tests.fault_injection <point> <marker-file> [warehouse run arguments]

runs the `warehouse` command line in this process with one function wrapped so that, when the
run reaches <point>, it writes <marker-file> and sleeps until killed:

- `landing`: inside the landing transaction, rows of a partition inserted but not committed;
- `publication`: a new version written in full under its `.building` name, not yet renamed.

(A run stopped in its dbt step needs no wrapping: the test kills it when dbt reports a model.)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any


def _stop_here(marker: Path) -> None:
    marker.write_text("reached\n")
    while True:
        time.sleep(60)


def main(argv: list[str]) -> int:
    point, marker, *command = argv
    marker_path = Path(marker)
    if point == "landing":
        from orchestration.landing import loader

        recorded = loader.record_action

        def record_action(*args: Any, **kwargs: Any) -> None:
            recorded(*args, **kwargs)
            _stop_here(marker_path)

        loader.record_action = record_action
    elif point == "publication":
        from orchestration import publishing

        write_copy = publishing._write_copy

        def _write_copy(*args: Any, **kwargs: Any) -> Any:
            written = write_copy(*args, **kwargs)
            _stop_here(marker_path)
            return written

        publishing._write_copy = _write_copy
    else:
        raise SystemExit(f"unknown point {point!r}")

    from orchestration.cli import main as warehouse

    return warehouse(["run", *command])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
