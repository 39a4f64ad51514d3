"""The dashboard's pages timed on a publication: one entry per page, each page's queries counted
and timed uncached, on the small publication of tests/test_dashboard_publication.py."""

from __future__ import annotations

import os

import pytest

from dashboard import PAGES, publication
from dashboard.publication import NoPublication
from orchestration.benchmark.dashboard import PageTiming, main, time_dashboard_pages
from orchestration.benchmark.run import DASHBOARD_TARGET, _targets
from tests.benchmark.test_targets import FLOOR, RUNS
from tests.test_dashboard_publication import MART_ROWS, publish

cached_read = publication._read


@pytest.fixture(scope="module")
def warehouse_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("warehouse")
    publish(folder, "v1", MART_ROWS)
    return folder


@pytest.fixture(scope="module")
def timings(warehouse_dir):
    return time_dashboard_pages(warehouse_dir)


def test_every_page_of_the_navigation_is_timed_in_its_order(timings):
    assert [timing.page for timing in timings] == [title for _, title, _ in PAGES]


def test_each_page_runs_its_queries_and_the_sidebars_uncached(timings):
    # The sidebar alone runs two queries (projects, latest day); every page adds its own.
    assert all(timing.queries > 2 for timing in timings)


def test_the_times_are_sums_of_the_queries_within_the_render(timings):
    for timing in timings:
        assert 0 < timing.slowest_query_seconds <= timing.query_seconds
        assert timing.query_seconds <= timing.render_seconds


def test_the_command_prints_a_line_per_page(warehouse_dir, capsys):
    assert main([str(warehouse_dir)]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "page",
        "query",
        "s",
        "queries",
        "slowest",
        "query",
        "s",
        "render",
        "s",
    ]
    assert [line.split()[0] for line in lines[2:]] == [title for _, title, _ in PAGES]


def test_a_warehouse_without_a_publication_is_refused(tmp_path):
    with pytest.raises(NoPublication, match="no published marts"):
        time_dashboard_pages(tmp_path)


def test_the_dashboard_reads_cached_from_its_own_warehouse_again_afterwards(tmp_path, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DIR", str(tmp_path / "the dashboard's"))
    with pytest.raises(NoPublication):
        time_dashboard_pages(tmp_path / "measured")

    assert os.environ["WAREHOUSE_DIR"] == str(tmp_path / "the dashboard's")
    assert publication._read is cached_read


def page(title: str, query_seconds: float) -> PageTiming:
    return PageTiming(title, query_seconds, 3, query_seconds / 2, query_seconds + 0.5)


def test_the_dashboard_target_is_judged_on_the_slowest_page():
    met = _targets(RUNS, FLOOR, [page("Overview", 0.4), page("Funnels", 1.0)])
    missed = _targets(RUNS, FLOOR, [page("Overview", 0.4), page("Funnels", 1.2)])

    assert met.slowest_dashboard_page_query_seconds == 1.0
    assert met.met[DASHBOARD_TARGET] is True
    assert missed.met[DASHBOARD_TARGET] is False


def test_without_dashboard_timings_the_dashboard_target_is_not_judged():
    assert DASHBOARD_TARGET not in _targets(RUNS, FLOOR).met
