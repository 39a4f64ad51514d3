"""Every page of the served dashboard in headless Chromium: its charts are drawn. The
screenshots are kept in test-artifacts/dashboard/ (git-ignored) to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.browser import Chromium
from scripts.dashboard_screenshot import serve_dashboard, shoot
from tests.test_dashboard import CHARTS_PER_PAGE
from tests.test_dashboard_publication import MART_ROWS, publish

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts" / "dashboard"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory: pytest.TempPathFactory):
    warehouse_dir = tmp_path_factory.mktemp("warehouse")
    publish(warehouse_dir, "v1", MART_ROWS)
    with serve_dashboard(warehouse_dir) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with Chromium(1440, 1600) as chromium:
        yield chromium


@pytest.mark.parametrize("page", list(CHARTS_PER_PAGE))
def test_each_page_draws_its_charts_in_chromium(dashboard_url, browser, page):
    path = "" if page == "overview.py" else page.removesuffix(".py")
    screenshot = shoot(
        browser, dashboard_url + path, ARTIFACTS / f"{page}.png", CHARTS_PER_PAGE[page]
    )
    assert screenshot.read_bytes().startswith(b"\x89PNG")
