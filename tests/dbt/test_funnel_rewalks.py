"""A windowed run walks a person's funnel events again only from the last attempt that started
before their first changed day, and keeps the attempts before it as they were: the result
equals a full refresh, including when other events share the instant the walk starts again at."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tests.dbt.conftest import (
    Warehouse,
    built_at_once,
    built_day_by_day,
    event_row,
    make_warehouse,
)

pytestmark = pytest.mark.slow

ARRIVAL_DAYS = [date(2026, 3, day) for day in (2, 3, 4)]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute)


def event(message_id: str, name: str, when: datetime, **values: Any) -> dict[str, Any]:
    return event_row(
        message_id, event_name=name, timestamp=when, **{"anonymous_id": "anon_b", **values}
    )


# The booking funnel: booking_page_viewed > appointment_booked, within 7 days, ordered.
EVENTS = [
    # Day 2: attempt 1 starts.
    event("b-01", "booking_page_viewed", at(2, 9)),
    # Day 3, all at 09:00 (walked in message id order): a second booking page view inside
    # attempt 1 fills nothing, the booking completes attempt 1, and the third page view starts
    # attempt 2.
    event("b-02", "booking_page_viewed", at(3, 9)),
    event("b-03", "appointment_booked", at(3, 9)),
    event("b-04", "booking_page_viewed", at(3, 9)),
    # Day 4: attempt 2 completes; another visitor starts and completes one attempt.
    event("b-05", "appointment_booked", at(4, 10)),
    event("c-01", "booking_page_viewed", at(4, 11), anonymous_id="anon_c"),
    event("c-02", "appointment_booked", at(4, 11, 5), anonymous_id="anon_c"),
]

ATTEMPT_STEPS = (
    "select person_id, attempt_number, step_number, message_id, started_at, window_end "
    "from marts.funnel_attempt_steps where funnel_id = 'booking' order by all"
)


@pytest.fixture(scope="module")
def incremental_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return built_day_by_day(tmp_path_factory.mktemp("funnel_rewalks"), EVENTS, ARRIVAL_DAYS)


@pytest.fixture(scope="module")
def full_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return built_at_once(tmp_path_factory.mktemp("funnel_rewalks_full"), EVENTS)


def test_the_attempt_open_before_the_changed_day_is_walked_again_from_its_first_step(
    incremental_warehouse: Warehouse,
) -> None:
    week = timedelta(days=7)
    assert incremental_warehouse.query(ATTEMPT_STEPS) == [
        ("anon_b", 1, 1, "b-01", at(2, 9), at(2, 9) + week),
        ("anon_b", 1, 2, "b-03", at(2, 9), at(2, 9) + week),
        ("anon_b", 2, 1, "b-04", at(3, 9), at(3, 9) + week),
        ("anon_b", 2, 2, "b-05", at(3, 9), at(3, 9) + week),
        ("anon_c", 1, 1, "c-01", at(4, 11), at(4, 11) + week),
        ("anon_c", 1, 2, "c-02", at(4, 11), at(4, 11) + week),
    ]


@pytest.mark.parametrize("mart", ["funnel_attempt_steps", "funnel_conversions", "funnel_results"])
def test_the_funnel_marts_of_windowed_runs_equal_a_full_refresh(
    incremental_warehouse: Warehouse, full_warehouse: Warehouse, mart: str
) -> None:
    query = f"select * from marts.{mart} order by all"
    assert incremental_warehouse.query(query) == full_warehouse.query(query)


def test_a_windowed_run_keeps_the_attempts_that_ended_before_the_one_it_walks_again(
    tmp_path: Any,
) -> None:
    """The day-4 run walks anon_b's events again from attempt 2, which it finds in the rows the
    earlier run wrote: attempt 1 stays as that run wrote it (here, marked by hand)."""
    warehouse = make_warehouse(tmp_path)
    warehouse.dbt("seed")
    warehouse.insert_events([row for row in EVENTS if row["received_at"].date() < ARRIVAL_DAYS[2]])
    warehouse.dbt("run", variables={"min_date": ARRIVAL_DAYS[0], "max_date": ARRIVAL_DAYS[2]})
    with warehouse.connect() as connection:
        # A mark only the first runs could have left: a run that walked attempt 1 again
        # would write the window end back.
        connection.execute(
            "update marts.funnel_attempt_steps set window_end = timestamp '2000-01-01' "
            "where person_id = 'anon_b' and attempt_number = 1"
        )
    warehouse.insert_events([row for row in EVENTS if row["received_at"].date() == ARRIVAL_DAYS[2]])
    warehouse.dbt(
        "run",
        variables={"min_date": ARRIVAL_DAYS[2], "max_date": ARRIVAL_DAYS[2] + timedelta(days=1)},
    )

    rows = warehouse.query(
        "select attempt_number, step_number, window_end from marts.funnel_attempt_steps "
        "where person_id = 'anon_b' order by all"
    )
    assert rows == [
        (1, 1, datetime(2000, 1, 1)),
        (1, 2, datetime(2000, 1, 1)),
        (2, 1, at(3, 9) + timedelta(days=7)),
        (2, 2, at(3, 9) + timedelta(days=7)),
    ]
