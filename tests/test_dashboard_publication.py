"""A small publication of hand-written mart rows, laid out as `serving/published_marts` lays
it out (`published/current` -> `versions/<v>/analytics.duckdb`, the marts in schema `marts`), with
every mart's table typed from its contract in dbt_project/models/marts/*.yml."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from orchestration.mart_contracts import declared_models
from orchestration.settings import PROJECT_ROOT

MARTS_YAML = PROJECT_ROOT / "dbt_project" / "models" / "marts"
# The published copy types the instants TIMESTAMPTZ and the JSON as text.
PUBLISHED_TYPES = {"timestamp": "timestamptz", "timestamp[]": "timestamptz[]", "json": "varchar"}

D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
SCOPE = {"tenant_id": "acme", "project_id": "web"}
OTHER = {"tenant_id": "globex", "project_id": "shop"}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def kpi(kpi: str, days: int, current: float | None, previous: float | None, change: float | None):
    return {
        **SCOPE,
        "as_of_date": D3,
        "kpi": kpi,
        "period_days": days,
        "current_value": current,
        "previous_value": previous,
        "change_percent": change,
    }


def session(key: str, person: str, day: date, **columns: Any) -> dict[str, Any]:
    return {**SCOPE, "session_key": key, "person_id": person, "session_date": day, **columns}


def table_rows(columns: str, *rows: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Rows of the project SCOPE, each a tuple of the values of `columns` (names, spaced)."""
    return [{**SCOPE, **dict(zip(columns.split(), row, strict=True))} for row in rows]


ATTRIBUTION_MODELS = ("first_touch", "last_touch", "last_non_direct", "linear", "position_based")
# The conversions of the sessions below, as conversion_attribution credits them: conversion, its
# day and value, model, credited session, that session's channel, credit.
CREDITS = [
    # c1 and c5 in s2, the first session of p2: one touch, all the credit under every model.
    *(("c1", D1, 20.0, model, "s2", "Organic Search", 1.0) for model in ATTRIBUTION_MODELS),
    *(("c5", D1, 10.0, model, "s2", "Organic Search", 1.0) for model in ATTRIBUTION_MODELS),
    # c2 in s3 (Direct), after s2 (Organic Search).
    ("c2", D1, 40.0, "first_touch", "s2", "Organic Search", 1.0),
    ("c2", D1, 40.0, "last_touch", "s3", "Direct", 1.0),
    ("c2", D1, 40.0, "last_non_direct", "s2", "Organic Search", 1.0),
    ("c2", D1, 40.0, "linear", "s2", "Organic Search", 0.5),
    ("c2", D1, 40.0, "linear", "s3", "Direct", 0.5),
    ("c2", D1, 40.0, "position_based", "s2", "Organic Search", 0.5),
    ("c2", D1, 40.0, "position_based", "s3", "Direct", 0.5),
    # c3 in s4 (Referral), after s1 (Email), both of p1.
    ("c3", D2, 10.0, "first_touch", "s1", "Email", 1.0),
    ("c3", D2, 10.0, "last_touch", "s4", "Referral", 1.0),
    ("c3", D2, 10.0, "last_non_direct", "s4", "Referral", 1.0),
    ("c3", D2, 10.0, "linear", "s1", "Email", 0.5),
    ("c3", D2, 10.0, "linear", "s4", "Referral", 0.5),
    ("c3", D2, 10.0, "position_based", "s1", "Email", 0.5),
    ("c3", D2, 10.0, "position_based", "s4", "Referral", 0.5),
    # c4 in s6 (Organic Search), after s2 and s3.
    ("c4", D2, 30.0, "first_touch", "s2", "Organic Search", 1.0),
    ("c4", D2, 30.0, "last_touch", "s6", "Organic Search", 1.0),
    ("c4", D2, 30.0, "last_non_direct", "s6", "Organic Search", 1.0),
    ("c4", D2, 30.0, "linear", "s2", "Organic Search", 1 / 3),
    ("c4", D2, 30.0, "linear", "s3", "Direct", 1 / 3),
    ("c4", D2, 30.0, "linear", "s6", "Organic Search", 1 / 3),
    ("c4", D2, 30.0, "position_based", "s2", "Organic Search", 0.4),
    ("c4", D2, 30.0, "position_based", "s3", "Direct", 0.2),
    ("c4", D2, 30.0, "position_based", "s6", "Organic Search", 0.4),
]


MART_ROWS: dict[str, list[dict[str, Any]]] = {
    "dashboard_metrics": [
        kpi("dau", 1, 3, 2, 50.0),
        kpi("sessions", 1, 4, 4, 0.0),
        kpi("avg_session_duration_seconds", 7, 95.0, None, None),
        kpi("bounce_rate", 7, 0.25, 0.5, -50.0),
        kpi("revenue", 7, 12.5, 10.0, 25.0),
        {**kpi("dau", 1, 100, 50, 100.0), **OTHER},
    ],
    "user_activity_daily": [
        {**SCOPE, "person_id": "p1", "activity_date": D1, "session_count": 1},
        {**SCOPE, "person_id": "p2", "activity_date": D1, "session_count": 2},
        {**SCOPE, "person_id": "p1", "activity_date": D2, "session_count": 1},
        {**OTHER, "person_id": "q1", "activity_date": D1, "session_count": 9},
    ],
    "page_analytics_daily": [
        {
            **SCOPE,
            "view_date": D1,
            "page_path": "/home",
            "device_type": "desktop",
            "page_views": 5,
            "entrances": 3,
            "exits": 2,
            "bounces": 1,
            "avg_time_on_page_seconds": 10.0,
            "avg_engaged_time_seconds": 6.0,
            "avg_scroll_depth": 50.0,
        },
        {
            **SCOPE,
            "view_date": D3,
            "page_path": "/home",
            "device_type": "mobile",
            "page_views": 1,
            "entrances": 1,
            "exits": 1,
            "bounces": 1,
            "avg_time_on_page_seconds": 40.0,
            "avg_engaged_time_seconds": 12.0,
            "avg_scroll_depth": None,
        },
        {
            **SCOPE,
            "view_date": D1,
            "page_path": "/pricing",
            "device_type": "mobile",
            "page_views": 2,
            "entrances": 0,
            "exits": 1,
            "bounces": 0,
            "avg_time_on_page_seconds": None,
            "avg_engaged_time_seconds": 20.0,
            "avg_scroll_depth": 80.0,
        },
        {**OTHER, "view_date": D1, "page_path": "/cart", "device_type": "mobile", "page_views": 50},
    ],
    # The page views of page_analytics_daily, by channel: /home on D1 is 3 + 2 of its 5 views.
    "page_analytics_channels_daily": [
        *table_rows(
            "view_date page_path channel page_views entrances exits bounces "
            "avg_time_on_page_seconds avg_engaged_time_seconds avg_scroll_depth",
            (D1, "/home", "Organic Search", 3, 2, 1, 0, 10.0, 8.0, 50.0),
            (D1, "/home", "Email", 2, 1, 1, 1, 10.0, 3.0, 50.0),
            (D3, "/home", "Organic Search", 1, 1, 1, 1, 40.0, 12.0, None),
            (D1, "/pricing", "Direct", 2, 0, 1, 0, None, 20.0, 80.0),
        ),
        {**OTHER, "view_date": D1, "page_path": "/cart", "channel": "Direct", "page_views": 50},
    ],
    "sessions": [
        session(
            "s1",
            "p1",
            D1,
            referrer_host="google.com",
            utm_source="newsletter",
            utm_medium="email",
            utm_campaign="spring",
            channel_type="web",
            channel="Email",
            device_type="desktop",
            os_name="Linux",
            browser_name="Firefox",
            country_code="DE",
            is_bounce=True,
            converted=False,
            engaged_time_seconds=5.0,
        ),
        session(
            "s2",
            "p2",
            D1,
            referrer_host="google.com",
            channel_type="web",
            channel="Organic Search",
            device_type="mobile",
            os_name="Android",
            browser_name="Chrome",
            country_code="FR",
            is_bounce=False,
            converted=True,
            engaged_time_seconds=60.0,
        ),
        # In the app: no page views, so neither a bounce nor engaged time.
        session(
            "s3",
            "p2",
            D1,
            referrer_host=None,
            channel_type="mobile",
            channel="Direct",
            device_type="mobile",
            os_name="Android",
            browser_name="Chrome",
            country_code="FR",
            is_bounce=None,
            converted=True,
            engaged_time_seconds=None,
        ),
        session(
            "s4",
            "p1",
            D2,
            referrer_host="news.ycombinator.com",
            channel_type="web",
            channel="Referral",
            device_type="desktop",
            os_name="Linux",
            browser_name="Firefox",
            country_code="DE",
            is_bounce=False,
            converted=True,
            engaged_time_seconds=45.0,
        ),
        session(
            "s5",
            "p3",
            D1,
            referrer_host="bing.com",
            channel_type="web",
            channel="Organic Search",
            device_type="desktop",
            os_name="Windows",
            browser_name="Edge",
            country_code="US",
            is_bounce=True,
            converted=False,
            engaged_time_seconds=4.0,
        ),
        session(
            "s6",
            "p2",
            D2,
            referrer_host="google.com",
            channel_type="web",
            channel="Organic Search",
            device_type="mobile",
            os_name="Android",
            browser_name="Chrome",
            country_code="FR",
            is_bounce=False,
            converted=True,
            engaged_time_seconds=30.0,
        ),
        {
            **session(
                "x1",
                "q1",
                D1,
                referrer_host="bing.com",
                channel="Organic Search",
                device_type="tablet",
            ),
            **OTHER,
        },
    ],
    # The sessions above by day and channel, with the conversions of CREDITS.
    "channels_daily": [
        *table_rows(
            "session_date channel sessions visitors engaged_sessions bounces bounce_rate "
            "avg_engaged_time_seconds conversions converting_sessions conversion_rate revenue",
            (D1, "Email", 1, 1, 0, 1, 1.0, 5.0, 0, 0, 0.0, 0.0),  # s1
            (D1, "Organic Search", 2, 2, 1, 1, 0.5, 32.0, 2, 1, 0.5, 30.0),  # s2 (c1, c5), s5
            (D1, "Direct", 1, 1, 1, 0, None, None, 1, 1, 1.0, 40.0),  # s3 (c2)
            (D2, "Organic Search", 1, 1, 1, 0, 0.0, 30.0, 1, 1, 1.0, 30.0),  # s6 (c4)
            (D2, "Referral", 1, 1, 1, 0, 0.0, 45.0, 1, 1, 1.0, 10.0),  # s4 (c3)
        ),
        {**OTHER, "session_date": D1, "channel": "Organic Search", "sessions": 1, "visitors": 1},
    ],
    "conversion_attribution": [
        *(
            {**credit, "attributed_value": credit["credit"] * credit["conversion_value"]}
            for credit in table_rows(
                "message_id conversion_date conversion_value attribution_model session_key "
                "channel credit",
                *CREDITS,
            )
        ),
        {
            **OTHER,
            "message_id": "g1",
            "conversion_date": D1,
            "attribution_model": "last_non_direct",
            "session_key": "x1",
            "channel": "Organic Search",
            "credit": 1.0,
        },
    ],
    "funnel_results": [
        {
            **SCOPE,
            "funnel_id": "signup",
            "funnel_name": "Sign-up",
            "period_type": period_type,
            "period_start": day,
            "step_number": step,
            "step_event_name": name,
            "attempts_started": started,
            "attempts_reached": reached,
            "median_seconds_from_previous_step": median,
        }
        for period_type, day, started, steps in [
            ("daily", D1, 10, [(1, "view_form", 10, None), (2, "submit", 4, 30.0)]),
            ("daily", D2, 10, [(1, "view_form", 10, None), (2, "submit", 6, 60.0)]),
            ("weekly", D1, 20, [(1, "view_form", 20, None), (2, "submit", 10, 45.0)]),
        ]
        for step, name, reached, median in steps
    ],
    "retention_cohorts": [
        {
            **SCOPE,
            "cohort_type": "weekly",
            "cohort_start": cohort,
            "period_number": period,
            "period_start": date.fromordinal(cohort.toordinal() + 7 * period),
            "cohort_size": size,
            "active_persons": active,
            "retention_rate": active / size,
        }
        for cohort, size, period, active in [
            (date(2026, 2, 23), 4, 0, 4),
            (date(2026, 2, 23), 4, 1, 1),
            (D2, 2, 0, 2),
        ]
    ],
    "feature_usage_daily": [
        {
            **SCOPE,
            "feature": feature,
            "usage_date": day,
            "usage_count": count,
            "unique_users": users,
            "success_count": successes,
            "outcome_count": outcomes,
        }
        for feature, day, count, users, successes, outcomes in [
            ("export", D1, 5, 2, 3, 4),
            ("export", D2, 3, 1, 1, 1),
            ("search", D1, 2, 2, 0, 0),
        ]
    ],
    "metric_aggregates": [
        {
            **SCOPE,
            "metric_name": "api.latency",
            "tags": "{}",
            "period_type": "daily",
            "period_start": at(day, 0),
            "point_count": 10,
            "value_p50": p50,
            "value_p90": p90,
            "value_p99": p99,
        }
        for day, p50, p90, p99 in [(D1, 100.0, 180.0, 250.0), (D2, 110.0, 190.0, 400.0)]
    ],
    "deployments": [
        {
            **SCOPE,
            "deployment_id": "d1",
            "version_id": "v1",
            "provider": "vercel",
            "latest_status": "ready",
            "first_event_at": at(D1, 9),
            "pending_at": at(D1, 9),
            "ready_at": at(D1, 9, 2),
            "is_rollback": False,
            "is_rolled_back": False,
        },
        {
            **SCOPE,
            "deployment_id": "d2",
            "version_id": "v2",
            "provider": "vercel",
            "latest_status": "failed",
            "first_event_at": at(D2, 15),
            "pending_at": at(D2, 15),
            "failed_at": at(D2, 15, 5),
            "is_rollback": False,
            "is_rolled_back": False,
        },
    ],
}


def mart_columns() -> dict[str, dict[str, str]]:
    """Mart -> column -> published data type, from the marts' contracts."""
    marts = {}
    for mart, columns in declared_models(MARTS_YAML).items():
        marts[mart] = {
            column["name"]: PUBLISHED_TYPES.get(column["data_type"], column["data_type"])
            for column in columns
        }
    return marts


def publish(warehouse_dir: Path, version: str, rows: dict[str, list[dict[str, Any]]]) -> Path:
    """Write a publication of `rows` (mart -> rows; other marts empty) and make it current."""
    published = warehouse_dir / "published"
    folder = published / "versions" / version
    folder.mkdir(parents=True)
    with duckdb.connect(str(folder / "analytics.duckdb")) as connection:
        connection.execute("create schema marts")
        for mart, columns in mart_columns().items():
            definition = ", ".join(f'"{name}" {data_type}' for name, data_type in columns.items())
            connection.execute(f"create table marts.{mart} ({definition})")
            connection.execute(f"create view main.{mart} as from marts.{mart}")
            if rows.get(mart):
                frame = pl.DataFrame(rows[mart], infer_schema_length=None)  # noqa: F841
                connection.execute(f"insert into marts.{mart} by name select * from frame")
    link = published / "current.new"
    link.symlink_to(Path("versions") / version)
    link.rename(published / "current")
    return folder / "analytics.duckdb"


def test_the_small_publication_holds_every_mart_of_the_contracts_in_main_and_marts(tmp_path):
    database = publish(tmp_path, "v1", MART_ROWS)
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = connection.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
        sessions = connection.execute("select count(*) from main.sessions").fetchone()
    assert {name for schema, name in tables if schema == "marts"} == set(mart_columns())
    assert {name for schema, name in tables if schema == "main"} == set(mart_columns())
    assert sessions == (len(MART_ROWS["sessions"]),)
    assert (tmp_path / "published" / "current").resolve() == database.parent


def test_the_small_publication_credits_each_conversion_once_under_every_model(tmp_path):
    with duckdb.connect(str(publish(tmp_path, "v1", MART_ROWS)), read_only=True) as connection:
        credits = connection.execute(
            "select message_id, attribution_model, sum(credit) from marts.conversion_attribution "
            "where tenant_id = 'acme' group by all having abs(sum(credit) - 1) > 1e-9"
        ).fetchall()
        models = connection.execute(
            "select distinct message_id, attribution_model from marts.conversion_attribution "
            "where tenant_id = 'acme'"
        ).fetchall()
    assert credits == []
    conversions = {conversion for conversion, *_ in CREDITS}
    assert len(models) == len(conversions) * len(ATTRIBUTION_MODELS)
