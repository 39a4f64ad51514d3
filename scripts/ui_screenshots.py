"""The README's screenshots of the Dagster UI, taken by headless Chromium (`make ui-screenshots`).

Over the warehouse and Dagster instance of the settings (RAW_LANDING_DIR, WAREHOUSE_DIR,
DAGSTER_HOME; by default the project's, as `make run` leaves them):

1. if nothing has been published yet, `warehouse run` builds it (after `warehouse-generate`
   writes the sample `make run` uses, if nothing has landed either);
2. `warehouse run` twice more: the first builds what changed since the publication, if
   anything (new files, a changed project); the second is a run with nothing new;
3. `dagster dev` starts on a free port, and Chromium saves, under docs/images/, the lineage of
   the asset groups, the asset graph around marts/sessions, the partitions of raw/events and the
   run with nothing new;
4. `dagster dev` is stopped.

    .venv/bin/python -m scripts.ui_screenshots [--out docs/images]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterInstance

from orchestration.cli import dagster_instance, days_to_run
from orchestration.publishing import current_publication
from orchestration.settings import PROJECT_ROOT, Settings
from scripts.browser import Chromium, Page
from scripts.processes import stop_process_group

BIN = Path(sys.executable).parent
SERVER_TIMEOUT_SECONDS = 300.0
WIDTH, HEIGHT = 1600, 1300


@dataclass(frozen=True)
class Screenshot:
    name: str
    """The PNG's file name under the output folder."""
    path: str
    """The UI's page, from its root."""
    ready: str
    """A JavaScript expression that is true once the page shows what the screenshot is of."""


def _shows(*texts: str) -> str:
    # No body while the next page loads.
    shown = (f"document.body.innerText.includes({text!r})" for text in texts)
    return " && ".join(["document.body !== null", *shown])


def screenshots(run_id: str, partition: str) -> list[Screenshot]:
    """What to capture: `run_id` is the run with nothing new, `partition` a landed day."""
    return [
        Screenshot(
            "ui-lineage.png",
            "/asset-groups",
            # Each group of the graph, collapsed, has a button that unfolds it.
            "document.querySelectorAll('[aria-label=\"unfold_more\"]').length >= 6",
        ),
        Screenshot(
            "ui-asset-graph.png",
            "/assets/marts/sessions?view=lineage",
            _shows("int_events", "published_marts"),
        ),
        Screenshot(
            "ui-partitions.png",
            f"/assets/raw/events?view=partitions&partition={partition}",
            # The partitions' counts by status, and the chosen day's materialization.
            _shows("Partitions Selected", "Materialized (", "rows_loaded"),
        ),
        Screenshot(
            "ui-nothing-new-run.png",
            f"/runs/{run_id}",
            _shows("STEP_SKIPPED", "Not published"),
        ),
    ]


def warehouse(*arguments: str, environment: dict[str, str]) -> None:
    subprocess.run([str(BIN / "warehouse"), *arguments], env=environment, check=True)


def ensure_published(settings: Settings, environment: dict[str, str]) -> None:
    if current_publication(settings).exists():
        return
    if days_to_run(settings) is None:
        subprocess.run(
            [str(BIN / "warehouse-generate"), "--out", str(settings.raw_landing_dir), "--clean"],
            env=environment,
            check=True,
        )
    warehouse("run", environment=environment)


def newest_run_id(instance: DagsterInstance) -> str:
    return instance.get_runs(limit=1)[0].run_id


def free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


def _default_signals() -> None:
    # A process started from a script in the background inherits SIGINT ignored; dagster dev
    # then ignores it (and passes that on to its webserver and code server).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def dagster_dev(environment: dict[str, str], log: Path) -> Iterator[str]:
    """`dagster dev` over the workspace, on a free port, for the block; its root URL."""
    port = free_port()
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                str(BIN / "dagster"),
                "dev",
                "-w",
                str(PROJECT_ROOT / "workspace.yaml"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_default_signals,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_code_location(url, process, log)
        yield url
    finally:
        # dagster dev, its webserver and its code server share the process group.
        stop_process_group(process)


def _wait_for_code_location(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the webserver answers and the code location has loaded."""
    query = (
        b'{"query": "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"}'
    )
    deadline = time.monotonic() + SERVER_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"dagster dev exited with code {process.returncode}; see {log}")
        request = urllib.request.Request(
            f"{url}/graphql", data=query, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                if b'"LOADED"' in response.read():
                    return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"dagster dev did not load the code location in time; see {log}")


def capture(page: Page, url: str, screenshot: Screenshot, out: Path) -> Path:
    page.navigate(url + screenshot.path)
    page.wait_for(screenshot.ready, timeout=120)
    # Layout and fonts settle a moment after the content is there; and the UI's first visit
    # opens an invitation to its community over the page, a moment after it loaded.
    time.sleep(2)
    page.evaluate(
        "[...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Skip')?.click()"
    )
    time.sleep(0.5)
    return page.save_png(out / screenshot.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "images")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    instance = dagster_instance()
    environment = {**os.environ, "DAGSTER_HOME": str(instance.root_directory)}
    ensure_published(settings, environment)
    # The first run builds what changed since the publication (new files, a changed project),
    # if anything; the second then has nothing new.
    warehouse("run", environment=environment)
    warehouse("run", environment=environment)
    run_id = newest_run_id(instance)
    _, last_landed = days_to_run(settings)

    log = Path(instance.root_directory) / "ui_screenshots.log"
    with dagster_dev(environment, log) as url, Chromium(WIDTH, HEIGHT) as browser:
        page = browser.open(url)
        try:
            for screenshot in screenshots(run_id, last_landed.isoformat()):
                print(f"{capture(page, url, screenshot, args.out)}", flush=True)
        finally:
            page.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
