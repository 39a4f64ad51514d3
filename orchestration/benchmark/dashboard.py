"""The dashboard's pages on a publication: per page, the time its DuckDB queries take with the
default filters and nothing cached, and the time the whole page takes to render.

python -m orchestration.benchmark.dashboard <warehouse dir>

Each page is rendered once with Streamlit's app-testing API, as a first visit renders it: the
sidebar's filters at their defaults (the first tenant and project, the last 30 days), then the
page. Every query goes to DuckDB, none to Streamlit's cache; the query time is the time spent in
the dashboard's query function (opening the read-only connection, running the query, reading the
rows), the sidebar's queries included.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import streamlit.config
import streamlit.logger
from streamlit.testing.v1 import AppTest

from dashboard import PAGES, VIEWS

APP = VIEWS.parent / "app.py"
DEFAULT_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class PageTiming:
    page: str
    """The page's title in the navigation."""
    query_seconds: float
    """Time spent in DuckDB: connecting, querying and reading the rows, summed over queries."""
    queries: int
    slowest_query_seconds: float
    render_seconds: float
    """The whole run of the app for this page: its queries, charts and widgets."""


class PageFailed(RuntimeError):
    """A page raised an exception while rendering."""


class _QueryClock:
    """Stands in for the dashboard's cached read: runs every query uncached and times it."""

    def __init__(self, read: Callable) -> None:
        self.read = read
        self.seconds: list[float] = []

    def __call__(self, *arguments):
        began = time.perf_counter()
        try:
            return self.read(*arguments)
        finally:
            self.seconds.append(time.perf_counter() - began)


@contextmanager
def _timed_queries(warehouse_dir: Path) -> Iterator[_QueryClock]:
    """The dashboard reading the publication of `warehouse_dir`, each query timed and uncached."""
    # Imported once Streamlit is quiet: the cached query function warns that no server runs.
    from dashboard import publication

    # The modules the pages share are imported before any page is timed, so that the first
    # page's render time is not Python importing Altair.
    for module in ("dashboard.charts", "dashboard.filters", "dashboard.kpis"):
        importlib.import_module(module)
    cached_read, warehouse_before = publication._read, os.environ.get("WAREHOUSE_DIR")
    clock = _QueryClock(cached_read.__wrapped__)  # the function under Streamlit's cache
    publication._read = clock
    os.environ["WAREHOUSE_DIR"] = str(warehouse_dir)
    try:
        publication.current_database()
        yield clock
    finally:
        publication._read = cached_read
        if warehouse_before is None:
            os.environ.pop("WAREHOUSE_DIR", None)
        else:
            os.environ["WAREHOUSE_DIR"] = warehouse_before


def _quiet_streamlit() -> None:
    # Headless, Streamlit warns that no server runs the app and that no script context is set.
    # The level is set in Streamlit's config too, as each app test parses the config again.
    streamlit.config.set_option("logger.level", "error")
    streamlit.logger.set_log_level("error")


def time_dashboard_pages(
    warehouse_dir: Path, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> list[PageTiming]:
    """Render every page of the dashboard once on the current publication of `warehouse_dir`;
    raises `dashboard.publication.NoPublication` when it has none, `PageFailed` when a page
    raises."""
    _quiet_streamlit()
    timings = []
    with _timed_queries(warehouse_dir) as clock:
        for file, title, _ in PAGES:
            app = AppTest.from_file(str(APP), default_timeout=timeout_seconds)
            # A new session opens on the default page; any other is opened directly, so that
            # the default page's queries are not counted for it.
            if file != PAGES[0][0]:
                app.switch_page(f"{VIEWS.name}/{file}")
            clock.seconds.clear()
            began = time.perf_counter()
            app.run()
            render_seconds = time.perf_counter() - began
            if app.exception:
                raise PageFailed(
                    f"the dashboard page {title} ({VIEWS / file}) failed on the publication of "
                    f"{warehouse_dir}: " + "; ".join(e.value for e in app.exception)
                )
            timings.append(
                PageTiming(
                    page=title,
                    query_seconds=sum(clock.seconds),
                    queries=len(clock.seconds),
                    slowest_query_seconds=max(clock.seconds, default=0.0),
                    render_seconds=render_seconds,
                )
            )
    return timings


def main(argv: list[str] | None = None) -> int:
    _quiet_streamlit()
    from dashboard.publication import NoPublication
    from orchestration.benchmark.report import render_dashboard_pages

    parser = argparse.ArgumentParser(
        prog="python -m orchestration.benchmark.dashboard",
        description=__doc__.split("\n")[0],
    )
    parser.add_argument(
        "warehouse_dir",
        type=Path,
        help="the warehouse folder whose publication to read (published/current/analytics.duckdb)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help=f"seconds a page may take to render (default {DEFAULT_TIMEOUT_SECONDS:.0f})",
    )
    args = parser.parse_args(argv)
    try:
        timings = time_dashboard_pages(args.warehouse_dir.resolve(), timeout_seconds=args.timeout)
    except (NoPublication, PageFailed) as error:
        sys.exit(str(error))
    print("\n".join(render_dashboard_pages(timings)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
