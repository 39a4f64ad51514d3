"""The product marts (conversions, features, preferences, deployments, funnels, retention,
dashboard) built over three arrival days, one window at a time, equal a full refresh: including
an event that arrives two days late into an open funnel, a login that moves an anonymous
person's preferences and funnel attempt to the user, and a person with nothing after the first
day."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from tests.dbt.conftest import Warehouse, built_at_once, built_day_by_day, event_row

pytestmark = pytest.mark.slow

ARRIVAL_DAYS = [date(2026, 3, day) for day in (2, 3, 4)]
PRODUCT_MARTS = (
    "conversions",
    "feature_usage_daily",
    "user_preferences",
    "user_preferences_by_session",
    "user_preferences_history",
    "deployments",
    "funnel_attempt_steps",
    "funnel_conversions",
    "funnel_results",
    "retention_cohorts",
    "dashboard_metrics",
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute)


def event(
    message_id: str, name: str, when: datetime, properties: str = "{}", **values: Any
) -> dict[str, Any]:
    return event_row(
        message_id,
        event_name=name,
        timestamp=when,
        properties=properties,
        **{"anonymous_id": "anon_p", **values},
    )


EVENTS = [
    # Day 2: anonymous visit with a preference and the first funnel step.
    event("p-01", "page_view", at(2, 9), page_url="https://x.example/pricing?utm_source=ads"),
    event("p-02", "pricing_viewed", at(2, 9, 1)),
    event("p-03", "preferences_updated", at(2, 9, 2), '{"color_scheme": "dark"}'),
    event("p-04", "feature_used", at(2, 9, 3), '{"feature": "search", "duration_ms": 12.5}'),
    event(
        "d-01",
        "deployment",
        at(2, 10),
        '{"deployment_id": "d1", "version_id": "v1", "status": "pending"}',
        anonymous_id="ci",
    ),
    # Day 2: another visitor's two steps of the purchase funnel and a purchase; nothing of
    # theirs arrives later.
    event("r-01", "product_viewed", at(2, 11), anonymous_id="anon_r"),
    event("r-02", "add_to_cart", at(2, 11, 5), anonymous_id="anon_r"),
    event(
        "r-03",
        "purchase",
        at(2, 11, 10),
        '{"value": 20, "currency": "usd"}',
        anonymous_id="anon_r",
    ),
    # Day 3: the person logs in; d1 is ready.
    event("p-05", "identify", at(3, 8), '{"traits": {"plan": "pro"}}', user_id="user_p"),
    event("p-06", "feature_used", at(3, 8, 1), '{"feature": "search", "duration_ms": 0.1}'),
    event(
        "d-02",
        "deployment",
        at(3, 10),
        '{"deployment_id": "d1", "status": "ready"}',
        anonymous_id="ci",
    ),
    # Day 4: signup, a late signup_started sent on day 2 from an offline device, a rollback.
    event("p-07", "signup", at(4, 9), '{"value": 9.99, "currency": "EUR"}', user_id="user_p"),
    event(
        "p-08",
        "signup_started",
        at(2, 9, 30),
        received_at=at(4, 9, 5),
    ),
    event(
        "p-09", "preferences_updated", at(4, 9, 6), '{"color_scheme": "light"}', user_id="user_p"
    ),
    event(
        "d-03",
        "deployment",
        at(4, 11),
        '{"deployment_id": "d1", "status": "rolled_back"}',
        anonymous_id="ci",
    ),
    event(
        "d-04",
        "deployment",
        at(4, 11, 1),
        '{"deployment_id": "d2", "status": "ready", "rollback_of": "d1"}',
        anonymous_id="ci",
    ),
    event("q-01", "page_view", at(4, 12), anonymous_id="anon_q"),
]


@pytest.fixture(scope="module")
def incremental_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return built_day_by_day(tmp_path_factory.mktemp("marts_incremental"), EVENTS, ARRIVAL_DAYS)


@pytest.fixture(scope="module")
def full_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return built_at_once(tmp_path_factory.mktemp("marts_full"), EVENTS)


@pytest.mark.parametrize("mart", PRODUCT_MARTS)
def test_incremental_runs_equal_a_full_refresh(
    incremental_warehouse: Warehouse, full_warehouse: Warehouse, mart: str
) -> None:
    query = f"select * from marts.{mart} order by all"
    assert incremental_warehouse.query(query) == full_warehouse.query(query)
    assert full_warehouse.query(f"select count(*) from marts.{mart}") != [(0,)]


def test_the_late_step_completes_the_attempt_of_the_logged_in_user(
    incremental_warehouse: Warehouse,
) -> None:
    assert incremental_warehouse.query(
        "select person_id, attempt_number, completed, step_reached_at "
        "from marts.funnel_conversions where funnel_id = 'signup'"
    ) == [("user_p", 1, True, [at(2, 9, 1), at(2, 9, 30), at(4, 9)])]


def test_the_anonymous_preference_history_moves_to_the_user(
    incremental_warehouse: Warehouse,
) -> None:
    assert incremental_warehouse.query(
        "select person_id, preference_value, valid_from, valid_to from "
        "marts.user_preferences_history order by valid_from"
    ) == [("user_p", "dark", at(2, 9, 2), at(4, 9, 6)), ("user_p", "light", at(4, 9, 6), None)]


def test_a_person_with_nothing_after_the_first_day_has_their_attempt_and_conversion(
    incremental_warehouse: Warehouse,
) -> None:
    assert incremental_warehouse.query(
        "select funnel_id, attempt_number, step_number, reached_at from marts.funnel_attempt_steps "
        "where person_id = 'anon_r' order by step_number"
    ) == [("purchase", 1, 1, at(2, 11)), ("purchase", 1, 2, at(2, 11, 5))]
    assert incremental_warehouse.query(
        "select message_id, conversion_value, currency, person_conversion_number "
        "from marts.conversions where person_id = 'anon_r'"
    ) == [("r-03", 20.0, "USD", 1)]
