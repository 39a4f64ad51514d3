"""Screenshot of the dashboard's overview, for the README: serves the app over the current
publication on a free port, waits in headless Chromium until its charts are drawn, saves a PNG.

    .venv/bin/python -m scripts.dashboard_screenshot [--out docs/images/dashboard-overview.png]

(`make dashboard-screenshot`; after `make run`). The tests serve and shoot every page the same way.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from scripts.browser import Chromium

DEFAULT_OUT = Path("docs/images/dashboard-overview.png")
# Drawn: the page's script has finished (no "running" status), and every Vega-Lite chart on it
# has its SVG marks (or canvas).
CHARTS_DRAWN = """(() => {
    const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
    return charts.length >= %d
        && charts.every((chart) => chart.querySelector('svg.marks, canvas'))
        && document.querySelector('[data-testid="stStatusWidget"]') === null;
})()"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serve_dashboard(
    warehouse_dir: Path | None = None, port: int | None = None, timeout: float = 60.0
) -> Iterator[str]:
    """Serve the dashboard on 127.0.0.1 for as long as the `with` block lasts; yields its URL."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}/"
    environment = dict(os.environ)
    if warehouse_dir is not None:
        environment["WAREHOUSE_DIR"] = str(warehouse_dir)
    # Its log goes to a file: a pipe nobody reads would block the server once full.
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "--port", str(port)],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_healthy(server, url, log, timeout)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_until_healthy(
    server: subprocess.Popen[bytes], url: str, log: IO[bytes], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(
                f"the dashboard exited with code {server.returncode}: {log.read().decode()}"
            )
        try:
            with urllib.request.urlopen(f"{url}_stcore/health", timeout=2):
                return
        except OSError as error:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the dashboard did not answer on {url} in {timeout:.0f} s"
                ) from error
            time.sleep(0.3)


def shoot(browser: Chromium, url: str, path: Path, min_charts: int = 1) -> Path:
    """Load `url`, wait until its charts are drawn, save a PNG to `path`."""
    page = browser.open(url)
    try:
        page.wait_for(CHARTS_DRAWN % min_charts, timeout=90)
        return page.save_png(path)
    finally:
        page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=1700)
    arguments = parser.parse_args()
    with serve_dashboard() as url, Chromium(arguments.width, arguments.height) as browser:
        print(f"Screenshot of {url}: {shoot(browser, url, arguments.out)}")


if __name__ == "__main__":
    main()
