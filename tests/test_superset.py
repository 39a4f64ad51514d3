"""Superset with the overview bundle, over a small publication of hand-written mart rows.

One Superset (its own venv, made by `make superset-install`; a fresh metadata database in a tmp
folder) serves the module's tests, started as `make superset` starts it: superset/local.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from orchestration.publishing import DATABASE_FILE, current_publication, publish
from orchestration.settings import Settings
from scripts.browser import Chromium
from superset.overview import CHARTS, DASHBOARD_TITLE, DATASETS, mart_columns

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SUPERSET_PYTHON = ROOT / ".superset-venv" / "bin" / "python"
ARTIFACTS = ROOT / "test-artifacts"
STARTUP_SECONDS = 240

# Two projects of two tenants: six sessions over two days, their pages and the KPI tiles. No two
# rows of a ranking tie, so that each chart's order is the SQL's.
MART_ROWS = {
    "sessions": """
        (session_key, tenant_id, project_id, person_id, session_start, session_date,
         duration_seconds, page_view_count, referrer_host, utm_source, utm_medium,
         utm_campaign, device_type, country_code, is_bounce)
        values
        ('s1', 't1', 'p1', 'u1', '2026-03-01 10:00:00', '2026-03-01', 120, 3,
         'www.google.com', 'newsletter', 'email', 'spring', 'desktop', 'DE', false),
        ('s2', 't1', 'p1', 'u2', '2026-03-01 11:00:00', '2026-03-01', 5, 1,
         null, null, null, null, 'mobile', 'FR', true),
        ('s3', 't1', 'p1', 'u1', '2026-03-02 09:00:00', '2026-03-02', 60, 2,
         'news.ycombinator.com', 'hn', null, null, 'desktop', 'DE', false),
        ('s4', 't2', 'p2', 'v1', '2026-03-02 12:00:00', '2026-03-02', 0, 0,
         null, null, null, null, 'tablet', null, null),
        ('s5', 't1', 'p1', 'u3', '2026-03-02 13:00:00', '2026-03-02', 30, 2,
         'www.google.com', 'newsletter', 'email', 'spring', 'mobile', 'FR', false),
        ('s6', 't1', 'p1', 'u2', '2026-03-02 15:00:00', '2026-03-02', 8, 1,
         'www.google.com', null, null, null, 'desktop', 'DE', true)
    """,
    "page_analytics_daily": """
        (view_date, tenant_id, project_id, page_path, device_type, page_views, unique_visitors,
         entrances, exits, bounces, bounce_rate)
        values
        ('2026-03-01', 't1', 'p1', '/', 'desktop', 2, 1, 1, 0, 0, 0.0),
        ('2026-03-01', 't1', 'p1', '/pricing', 'desktop', 1, 1, 0, 1, 0, null),
        ('2026-03-01', 't1', 'p1', '/', 'mobile', 1, 1, 1, 1, 1, 1.0),
        ('2026-03-02', 't1', 'p1', '/docs', 'desktop', 2, 1, 1, 1, 0, 0.0)
    """,
    "dashboard_metrics": """
        (tenant_id, project_id, as_of_date, kpi, period_days, period_start, period_end,
         current_value, previous_period_start, previous_period_end, previous_value,
         change_percent)
        values
        ('t1', 'p1', '2026-03-02', 'wau', 7, '2026-02-24', '2026-03-02', 2, '2026-02-17',
         '2026-02-23', 1, 100.0),
        ('t1', 'p1', '2026-03-02', 'sessions', 7, '2026-02-24', '2026-03-02', 3, '2026-02-17',
         '2026-02-23', 0, null),
        ('t1', 'p1', '2026-03-02', 'new_users', 7, '2026-02-24', '2026-03-02', 2, '2026-02-17',
         '2026-02-23', 0, null),
        ('t1', 'p1', '2026-03-02', 'revenue', 7, '2026-02-24', '2026-03-02', 49.5, '2026-02-17',
         '2026-02-23', 99, -50.0),
        ('t1', 'p1', '2026-03-02', 'bounce_rate', 1, '2026-03-02', '2026-03-02', 0, '2026-03-01',
         '2026-03-01', 0.5, -100.0),
        ('t2', 'p2', '2026-03-02', 'wau', 7, '2026-02-24', '2026-03-02', 1, '2026-02-17',
         '2026-02-23', null, null),
        ('t2', 'p2', '2026-03-02', 'sessions', 7, '2026-02-24', '2026-03-02', 1, '2026-02-17',
         '2026-02-23', null, null)
    """,
    "user_activity_daily": """
        (tenant_id, project_id, person_id, activity_date, session_count, is_new_user)
        values
        ('t1', 'p1', 'u1', '2026-03-01', 1, true),
        ('t1', 'p1', 'u2', '2026-03-01', 1, true),
        ('t1', 'p1', 'u1', '2026-03-02', 1, false),
        ('t2', 'p2', 'v1', '2026-03-02', 1, true)
    """,
}

# What each chart shows, as SQL on the published marts; rows in the chart's order.
EXPECTED_SQL = {
    "Visitors, last 7 days": (
        "select sum(current_value) as value from dashboard_metrics "
        "where kpi = 'wau' and period_days = 7"
    ),
    "Sessions, last 7 days": (
        "select sum(current_value) as value from dashboard_metrics "
        "where kpi = 'sessions' and period_days = 7"
    ),
    "New users, last 7 days": (
        "select sum(current_value) as value from dashboard_metrics "
        "where kpi = 'new_users' and period_days = 7"
    ),
    "Revenue, last 7 days": (
        "select sum(current_value) as value from dashboard_metrics "
        "where kpi = 'revenue' and period_days = 7"
    ),
    "KPIs against the previous period": """
        select tenant_id, project_id, kpi, period_days, current_value, previous_value,
            change_percent, as_of_date
        from dashboard_metrics order by tenant_id, project_id, kpi, period_days
    """,
    "Daily visitors, sessions and page views": """
        select session_date, count(distinct person_id) as visitors, count(*) as sessions,
            sum(page_view_count) as page_views
        from sessions group by session_date order by session_date
    """,
    "Daily active and new users": """
        select activity_date, count(distinct person_id) as active_persons,
            count(distinct person_id) filter (where is_new_user) as new_users
        from user_activity_daily group by activity_date order by activity_date
    """,
    "Top pages": """
        select page_path, sum(page_views) as page_views, sum(entrances) as entrances,
            sum(exits) as exits, sum(bounces) / nullif(sum(entrances), 0) as bounce_rate
        from page_analytics_daily group by page_path order by page_views desc limit 10
    """,
    "Top referrers": """
        select coalesce(referrer_host, '(direct or none)') as source, count(*) as sessions,
            count(distinct person_id) as visitors,
            avg(case when is_bounce then 1.0 when not is_bounce then 0.0 end) as bounce_rate
        from sessions group by source order by sessions desc limit 10
    """,
    "UTM campaigns": """
        select utm_source, utm_medium, utm_campaign, count(*) as sessions,
            count(distinct person_id) as visitors
        from sessions where utm_source is not null
        group by all order by sessions desc limit 10
    """,
    "Devices": """
        select device_type, count(*) as sessions from sessions
        group by device_type order by sessions desc
    """,
    "Countries": """
        select coalesce(country_code, '(unknown)') as country, count(*) as sessions,
            count(distinct person_id) as visitors
        from sessions group by country order by sessions desc limit 10
    """,
}


def create_marts(connection: duckdb.DuckDBPyConnection) -> None:
    """The marts the bundle reads, in the types their contracts declare, with MART_ROWS."""
    connection.execute("create schema marts")
    for dataset in DATASETS:
        columns = ", ".join(f'"{c["name"]}" {c["data_type"]}' for c in mart_columns(dataset.mart))
        connection.execute(f"create table marts.{dataset.mart} ({columns})")
        connection.execute(f"insert into marts.{dataset.mart} {MART_ROWS[dataset.mart]}")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Any]]:
    """A warehouse of hand-written marts and its first publication."""
    root = tmp_path_factory.mktemp("superset")
    settings = dataclasses.replace(
        Settings.from_env(), raw_landing_dir=root / "raw_landing", warehouse_dir=root / "warehouse"
    )
    settings.warehouse_dir.mkdir()
    connection = duckdb.connect(str(settings.warehouse_path))
    create_marts(connection)
    publish(connection, settings, actor="test")
    yield settings, connection
    connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def superset(
    warehouse: tuple[Settings, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """A fresh Superset serving the bundle over the publication: its URL and admin password."""
    subprocess.run(["make", "--no-print-directory", "superset-install"], cwd=ROOT, check=True)
    settings, _ = warehouse
    home = tmp_path_factory.mktemp("superset-home")
    port = free_port()
    server = subprocess.Popen(
        [
            str(SUPERSET_PYTHON),
            str(ROOT / "superset" / "local.py"),
            "--home",
            str(home),
            "--port",
            str(port),
            "--publication",
            str(current_publication(settings) / DATABASE_FILE),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        printed = ""
        while "login:" not in printed:
            line = server.stdout.readline()
            assert line or server.poll() is None, f"make superset stopped:\n{printed}"
            assert time.monotonic() < deadline, f"no dashboard in {STARTUP_SECONDS} s:\n{printed}"
            printed += line
        yield f"http://127.0.0.1:{port}", (home / "admin_password").read_text().strip()
    finally:
        server.terminate()
        server.wait(timeout=60)


@pytest.fixture(scope="module")
def api(superset: tuple[str, str]) -> requests.Session:
    base_url, password = superset
    session = requests.Session()
    response = session.post(
        f"{base_url}/api/v1/security/login",
        json={"username": "admin", "password": password, "provider": "db", "refresh": True},
        timeout=30,
    )
    response.raise_for_status()
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    response = session.get(f"{base_url}/api/v1/security/csrf_token/", timeout=30)
    session.headers.update({"X-CSRFToken": response.json()["result"], "Referer": base_url})
    return session


def chart_ids(api: requests.Session, base_url: str) -> dict[str, int]:
    response = api.get(f"{base_url}/api/v1/dashboard/product-analytics-overview/charts")
    response.raise_for_status()
    return {chart["slice_name"]: chart["id"] for chart in response.json()["result"]}


def chart_rows(api: requests.Session, base_url: str, title: str) -> list[dict[str, Any]]:
    """The rows Superset answers for the chart's saved query."""
    chart_id = chart_ids(api, base_url)[title]
    response = api.get(f"{base_url}/api/v1/chart/{chart_id}/data/", timeout=60)
    assert response.status_code == 200, response.text
    (result,) = response.json()["result"]
    return result["data"]


def marts_rows(settings: Settings, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(current_publication(settings) / DATABASE_FILE), True) as connection:
        cursor = connection.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def comparable(value: Any) -> Any:
    """A value as Superset's JSON carries it: days as epoch milliseconds, numbers as floats."""
    if isinstance(value, dt.date):
        midnight = dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
        return int(midnight.timestamp() * 1000)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def same_rows(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> bool:
    def close(a: Any, e: Any) -> bool:
        if isinstance(e, float) and isinstance(a, int | float):
            return math.isclose(a, e, rel_tol=1e-9)
        return a == e

    return len(actual) == len(expected) and all(
        a.keys() == e.keys() and all(close(a[k], comparable(e[k])) for k in e)
        for a, e in zip(actual, expected, strict=True)
    )


def test_the_dashboard_has_every_chart_of_the_bundle(api, superset):
    assert set(chart_ids(api, superset[0])) == {chart.title for chart in CHARTS}


@pytest.mark.parametrize("title", [chart.title for chart in CHARTS])
def test_each_chart_shows_what_sql_on_the_marts_says(api, superset, warehouse, title):
    expected = marts_rows(warehouse[0], EXPECTED_SQL[title])
    actual = chart_rows(api, superset[0], title)
    assert expected, "the small publication has rows for every chart"
    assert same_rows(actual, expected), f"{title}:\n{actual}\n!=\n{expected}"


def test_sql_lab_cannot_read_files_of_the_server(api, superset):
    base_url = superset[0]
    (database,) = api.get(f"{base_url}/api/v1/database/").json()["result"]
    response = api.post(
        f"{base_url}/api/v1/sqllab/execute/",
        json={"database_id": database["id"], "sql": "select * from read_text('/etc/hostname')"},
        timeout=60,
    )
    assert response.status_code != 200
    assert "file system operations are disabled by configuration" in response.text


# The login page is a React form: a value typed in reaches it as an input event.
LOG_IN = """
(() => {
  const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  for (const [id, value] of [['username', 'admin'], ['password', %s]]) {
    const input = document.getElementById(id);
    setValue.call(input, value);
    input.dispatchEvent(new Event('input', {bubbles: true}));
  }
  document.querySelector('[data-test=login-button]').click();
})()
"""
# A chart has drawn when it holds an ECharts canvas, a table or a big number, or has failed
# when it shows an alert.
CHARTS_SETTLED = """
[...document.querySelectorAll('.dashboard-chart')].filter(chart =>
  chart.querySelector('canvas, table, .header-line, [role=alert]')).length
"""


def test_the_dashboard_renders_every_chart_in_headless_chromium(superset):
    base_url, password = superset
    with Chromium(width=1440, height=2200) as browser:
        page = browser.open(f"{base_url}/login/")
        try:
            page.wait_for("document.getElementById('username')")
            page.evaluate(LOG_IN % json.dumps(password))
            page.wait_for("!location.pathname.startsWith('/login')")
            page.navigate(f"{base_url}/superset/dashboard/product-analytics-overview/")
            page.wait_for(f"({CHARTS_SETTLED}) === {len(CHARTS)}", timeout=90)
            title = page.evaluate("document.title")
            drawn = page.evaluate(
                "[...document.querySelectorAll('.dashboard-chart')].filter(chart =>"
                "chart.querySelector('canvas, table, .header-line')).length"
            )
            errors = page.evaluate(
                "[...document.querySelectorAll('.dashboard-chart [role=alert]')]"
                ".map(alert => alert.innerText)"
            )
        finally:
            page.save_png(ARTIFACTS / "superset-overview.png")
            page.close()
    assert title == DASHBOARD_TITLE
    assert errors == []
    assert drawn == len(CHARTS)


def test_the_next_chart_query_after_a_new_publication_reads_it(api, superset, warehouse):
    settings, connection = warehouse
    before = chart_rows(api, superset[0], "Sessions, last 7 days")
    connection.execute(
        "update marts.dashboard_metrics set current_value = current_value + 10 "
        "where kpi = 'sessions' and period_days = 7"
    )
    publish(connection, settings, actor="test")
    after = chart_rows(api, superset[0], "Sessions, last 7 days")
    assert [before[0]["value"], after[0]["value"]] == [4, 24]
