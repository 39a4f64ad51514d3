"""The funnel marts equal a step-by-step reference walk of each person's events, in every mode.

`reference_attempt_steps` follows the spec's rules ("funnels") one event at a time, without the
model's representation: a person's events in event order (event time, received_at, message_id);
an attempt starts at an event that can start one (step 1; any step in any_order) when no attempt
is open (open: not completed and the event at most the window after step 1); inside it an event
fills the next step (ordered), the next step only as the person's very next event after the
previous step (strict) or the first unfilled step of its name (any_order); an exclusion event
ends the attempt's progress. Events are generated on a coarse grid from a fixed seed, so that
ties, repeated step names, window edges and repeated step-1 events are common.
"""

from __future__ import annotations

import json
import random
import statistics
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tests.dbt.conftest import Warehouse, event_row, make_warehouse, rows_only_in_one
from tests.dbt.test_funnel_definitions import write_funnel_definitions

pytestmark = pytest.mark.slow

START = datetime(2026, 1, 4, 18, 0)
EVENT_NAMES = ("a", "a", "b", "b", "c", "x", "page_ping")
FUNNEL_DEFINITIONS = [
    {
        "funnel_id": "ordered",
        "steps": "a > b > a",
        "conversion_window": 90,
        "conversion_window_unit": "minutes",
        "breakdown": "property:plan",
    },
    {
        "funnel_id": "strict",
        "steps": "a > b > c",
        "conversion_window": 2,
        "conversion_window_unit": "hours",
        "order_mode": "strict",
    },
    {
        "funnel_id": "any_order",
        "steps": "c > b > b",
        "conversion_window": 1,
        "conversion_window_unit": "hours",
        "order_mode": "any_order",
    },
    {
        "funnel_id": "exclusion",
        "steps": "a > b > c",
        "conversion_window": 45,
        "conversion_window_unit": "minutes",
        "exclusion_events": "x",
    },
    {"funnel_id": "days", "steps": "b > c", "conversion_window_days": 1},
    {"funnel_id": "paused", "status": "PAUSED", "steps": "a > b"},
]
FUNNEL_MARTS = ("funnel_steps", "funnel_attempt_steps", "funnel_conversions", "funnel_results")


@dataclass(frozen=True)
class Funnel:
    funnel_id: str
    steps: tuple[str, ...]
    window: timedelta
    order_mode: str
    exclusions: frozenset[str]
    breakdown_property: str | None

    @classmethod
    def from_definition(cls, definition: dict[str, Any]) -> Funnel:
        minutes = {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080}
        if definition.get("conversion_window"):
            window = definition["conversion_window"] * minutes[definition["conversion_window_unit"]]
        else:
            window = definition.get("conversion_window_days", 14) * minutes["days"]
        breakdown = definition.get("breakdown") or ""
        return cls(
            funnel_id=definition["funnel_id"],
            steps=tuple(step.strip() for step in definition["steps"].split(">")),
            window=timedelta(minutes=window),
            order_mode=definition.get("order_mode", "ordered"),
            exclusions=frozenset(definition.get("exclusion_events", "").split("|")) - {""},
            breakdown_property=breakdown.removeprefix("property:") or None,
        )


ACTIVE_FUNNELS = [
    Funnel.from_definition(definition)
    for definition in FUNNEL_DEFINITIONS
    if definition.get("status", "ACTIVE") == "ACTIVE"
]


@dataclass
class Attempt:
    number: int
    started_at: datetime
    breakdown_value: str | None
    filled: list[int] = field(default_factory=list)
    last_position: int = -1
    stopped: bool = False


@dataclass(frozen=True)
class ReachedStep:
    funnel_id: str
    person_id: str
    attempt_number: int
    started_at: datetime
    step_number: int
    step_event_name: str
    reached_at: datetime
    message_id: str
    breakdown_value: str | None


def event_order(row: dict[str, Any]) -> tuple[datetime, datetime, str]:
    return row["timestamp"], row["received_at"], row["message_id"]


def next_step(funnel: Funnel, attempt: Attempt, name: str, position: int) -> int | None:
    """The index of the step the event fills in the open attempt, if any."""
    if funnel.order_mode == "any_order":
        unfilled = [i for i, step in enumerate(funnel.steps) if step == name]
        unfilled = [i for i in unfilled if i not in attempt.filled]
        return unfilled[0] if unfilled else None
    following = len(attempt.filled)
    if funnel.steps[following] != name:
        return None
    if funnel.order_mode == "strict" and position != attempt.last_position + 1:
        return None
    return following


def walk_person(funnel: Funnel, person: str, events: list[dict[str, Any]]) -> list[ReachedStep]:
    reached: list[ReachedStep] = []
    attempt: Attempt | None = None
    for position, event in enumerate(sorted(events, key=event_order)):
        name, at = event["event_name"], event["timestamp"]
        is_open = (
            attempt is not None
            and len(attempt.filled) < len(funnel.steps)
            and at <= attempt.started_at + funnel.window
        )
        if not is_open:
            if funnel.order_mode == "any_order":
                can_start = name in funnel.steps
            else:
                can_start = name == funnel.steps[0]
            if not can_start:
                continue
            properties = json.loads(event["properties"])
            attempt = Attempt(
                number=attempt.number + 1 if attempt else 1,
                started_at=at,
                breakdown_value=properties.get(funnel.breakdown_property or ""),
            )
            step = funnel.steps.index(name)
        elif attempt.stopped:
            continue
        elif name in funnel.exclusions:
            attempt.stopped = True
            continue
        else:
            step = next_step(funnel, attempt, name, position)
            if step is None:
                continue
        attempt.filled.append(step)
        attempt.last_position = position
        reached.append(
            ReachedStep(
                funnel.funnel_id,
                person,
                attempt.number,
                attempt.started_at,
                len(attempt.filled),
                name,
                at,
                event["message_id"],
                attempt.breakdown_value,
            )
        )
    return reached


def reference_attempt_steps(
    rows: list[dict[str, Any]], funnels: list[Funnel] = ACTIVE_FUNNELS
) -> list[ReachedStep]:
    by_person: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_person[row["anonymous_id"]].append(row)
    return [
        step
        for funnel in funnels
        for person, events in sorted(by_person.items())
        for step in walk_person(funnel, person, events)
    ]


def reference_results(reached: list[ReachedStep]) -> set[tuple[Any, ...]]:
    """(funnel, period type, period start, breakdown value, step, started, reached, median s)."""
    step_counts = {funnel.funnel_id: len(funnel.steps) for funnel in ACTIVE_FUNNELS}
    with_breakdown = {f.funnel_id for f in ACTIVE_FUNNELS if f.breakdown_property}
    by_attempt: dict[tuple[str, str, int], list[ReachedStep]] = defaultdict(list)
    for step in reached:
        by_attempt[(step.funnel_id, step.person_id, step.attempt_number)].append(step)
    groups: dict[tuple[str, str, date, str], list[list[ReachedStep]]] = defaultdict(list)
    for (funnel_id, _, _), steps in by_attempt.items():
        day = steps[0].started_at.date()
        values = ["(all)"]
        if funnel_id in with_breakdown:
            values.append(steps[0].breakdown_value or "(none)")
        for value in values:
            groups[(funnel_id, "daily", day, value)].append(steps)
            monday = day - timedelta(days=day.weekday())
            groups[(funnel_id, "weekly", monday, value)].append(steps)
    expected = set()
    for (funnel_id, period_type, period_start, value), attempts in groups.items():
        for step_number in range(1, step_counts[funnel_id] + 1):
            seconds = [
                (steps[step_number - 1].reached_at - steps[step_number - 2].reached_at)
                / timedelta(seconds=1)
                for steps in attempts
                if len(steps) >= step_number and step_number > 1
            ]
            expected.add(
                (
                    funnel_id,
                    period_type,
                    period_start,
                    value,
                    step_number,
                    len(attempts),
                    sum(len(steps) >= step_number for steps in attempts),
                    round(statistics.median(seconds), 3) if seconds else None,
                )
            )
    return expected


def generated_journeys() -> list[dict[str, Any]]:
    rng = random.Random(20261205)
    rows = []
    for person in range(60):
        for number in range(rng.randint(1, 30)):
            at = START + timedelta(minutes=5 * rng.randint(0, 12 * 8))
            plan = rng.choice(["free", "pro", None])
            rows.append(
                event_row(
                    f"p{person:02d}_{number:02d}",
                    anonymous_id=f"anon_{person:02d}",
                    event_name=rng.choice(EVENT_NAMES),
                    timestamp=at,
                    received_at=at + timedelta(seconds=rng.choice([0, 0, 1, 3])),
                    properties=json.dumps({"plan": plan} if plan else {}),
                )
            )
    return rows


@pytest.fixture(scope="module")
def funnel_warehouse(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Warehouse, list[dict[str, Any]]]:
    rows = generated_journeys()
    warehouse = make_warehouse(tmp_path_factory.mktemp("funnels"))
    warehouse.insert_events(rows)
    warehouse.dbt("seed")
    write_funnel_definitions(warehouse, FUNNEL_DEFINITIONS)
    warehouse.dbt("run", "--select", "+funnel_results", "+funnel_conversions")
    return warehouse, rows


def test_attempt_steps_equal_the_reference_walk_in_every_mode(
    funnel_warehouse: tuple[Warehouse, list[dict[str, Any]]],
) -> None:
    warehouse, rows = funnel_warehouse
    reached = reference_attempt_steps(rows)
    actual = warehouse.query(
        "select funnel_id, person_id, attempt_number, started_at, step_number, step_event_name, "
        "reached_at, message_id, breakdown_value from marts.funnel_attempt_steps"
    )
    assert sorted((ReachedStep(*row) for row in actual), key=_step_key) == sorted(
        reached, key=_step_key
    )


def _step_key(step: ReachedStep) -> tuple[Any, ...]:
    return step.funnel_id, step.person_id, step.attempt_number, step.step_number


def test_the_generated_journeys_exercise_every_rule(
    funnel_warehouse: tuple[Warehouse, list[dict[str, Any]]],
) -> None:
    _, rows = funnel_warehouse
    reached = reference_attempt_steps(rows)
    step_counts = {funnel.funnel_id: len(funnel.steps) for funnel in ACTIVE_FUNNELS}
    completed = {
        step.funnel_id for step in reached if step.step_number == step_counts[step.funnel_id]
    }
    assert completed == set(step_counts)
    assert any(step.attempt_number > 1 for step in reached)
    assert any(
        step.step_number > 1 and step.reached_at == previous.reached_at
        for step, previous in zip(reached[1:], reached, strict=False)
    )
    assert {step.breakdown_value for step in reached if step.funnel_id == "ordered"} == {
        "free",
        "pro",
        None,
    }
    relaxed_rules = {
        "strict as ordered": [
            replace(funnel, order_mode="ordered") if funnel.order_mode == "strict" else funnel
            for funnel in ACTIVE_FUNNELS
        ],
        "any_order as ordered": [
            replace(funnel, order_mode="ordered") if funnel.order_mode == "any_order" else funnel
            for funnel in ACTIVE_FUNNELS
        ],
        "no exclusions": [replace(funnel, exclusions=frozenset()) for funnel in ACTIVE_FUNNELS],
        "window end exclusive": [
            replace(funnel, window=funnel.window - timedelta(seconds=1))
            for funnel in ACTIVE_FUNNELS
        ],
    }
    unchanged = [
        rule
        for rule, funnels in relaxed_rules.items()
        if reference_attempt_steps(rows, funnels) == reached
    ]
    assert unchanged == []


def test_results_per_period_and_breakdown_value_equal_the_reference(
    funnel_warehouse: tuple[Warehouse, list[dict[str, Any]]],
) -> None:
    warehouse, rows = funnel_warehouse
    reached = reference_attempt_steps(rows)
    actual = warehouse.query(
        "select funnel_id, period_type, period_start, breakdown_value, step_number, "
        "attempts_started, attempts_reached, round(median_seconds_from_previous_step, 3) "
        "from marts.funnel_results"
    )
    assert set(actual) == reference_results(reached)
    assert len(actual) == len(set(actual))


def test_every_attempt_is_summarized_once_with_its_furthest_step(
    funnel_warehouse: tuple[Warehouse, list[dict[str, Any]]],
) -> None:
    warehouse, rows = funnel_warehouse
    reached = reference_attempt_steps(rows)
    furthest: dict[tuple[str, str, int], int] = {}
    for step in reached:
        furthest[(step.funnel_id, step.person_id, step.attempt_number)] = step.step_number
    step_counts = {funnel.funnel_id: len(funnel.steps) for funnel in ACTIVE_FUNNELS}
    assert sorted(
        warehouse.query(
            "select funnel_id, person_id, attempt_number, furthest_step, completed "
            "from marts.funnel_conversions"
        )
    ) == sorted(
        (*attempt, step, step == step_counts[attempt[0]]) for attempt, step in furthest.items()
    )


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute)


def late_event(message_id: str, name: str, when: datetime, **values: Any) -> dict[str, Any]:
    """An event received on day 4 at 09:00, whatever its time."""
    return event_row(message_id, event_name=name, timestamp=when, received_at=at(4, 9), **values)


def on_time(message_id: str, name: str, when: datetime, **values: Any) -> dict[str, Any]:
    return event_row(message_id, event_name=name, timestamp=when, **values)


ARRIVAL_DAYS = [date(2026, 3, day) for day in (2, 3, 4)]
LATE_EVENTS = [
    # The late b completes the ordered, strict, exclusion and days funnels of a day-2 attempt,
    # and is the second step of the any_order one.
    on_time("l-1", "a", at(2, 10), anonymous_id="anon_late", properties='{"plan": "pro"}'),
    late_event("l-2", "b", at(2, 10, 5), anonymous_id="anon_late"),
    on_time("l-3", "c", at(2, 10, 10), anonymous_id="anon_late"),
    on_time("l-4", "a", at(2, 10, 15), anonymous_id="anon_late"),
    # An anonymous step 1 on day 3 whose person logs in the next day.
    on_time("g-1", "a", at(3, 9), anonymous_id="anon_login"),
    on_time("g-2", "b", at(3, 9, 1), anonymous_id="anon_login"),
    on_time("g-3", "identify", at(4, 8), anonymous_id="anon_login", user_id="user_g"),
    on_time("g-4", "c", at(4, 8, 1), anonymous_id="anon_login", user_id="user_g"),
]


@pytest.fixture(scope="module")
def incremental_and_full(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Warehouse, Warehouse]:
    incremental = make_warehouse(tmp_path_factory.mktemp("funnels_incremental"))
    incremental.dbt("seed")
    write_funnel_definitions(incremental, FUNNEL_DEFINITIONS)
    for day in ARRIVAL_DAYS:
        incremental.insert_events([row for row in LATE_EVENTS if row["received_at"].date() == day])
        incremental.dbt("run", variables={"min_date": day, "max_date": day + timedelta(days=1)})
    full = make_warehouse(tmp_path_factory.mktemp("funnels_full"))
    full.insert_events(LATE_EVENTS)
    full.dbt("seed")
    write_funnel_definitions(full, FUNNEL_DEFINITIONS)
    full.dbt("run", "--full-refresh")
    return incremental, full


@pytest.mark.parametrize("mart", FUNNEL_MARTS)
def test_incremental_runs_build_the_funnel_marts_of_a_full_refresh(
    incremental_and_full: tuple[Warehouse, Warehouse], mart: str
) -> None:
    incremental, full = incremental_and_full
    assert rows_only_in_one(incremental, full, mart) == (0, 0)
    assert full.query(f"select count(*) from marts.{mart}") != [(0,)]


def test_the_late_step_completes_the_day_2_attempts(
    incremental_and_full: tuple[Warehouse, Warehouse],
) -> None:
    incremental, _ = incremental_and_full
    # After a completed attempt the last a starts another (1 step) in the strict and
    # exclusion funnels; any_order starts at the first step event, b, and in the ordered
    # funnel `a > b > a` the last a is step 3.
    assert incremental.query(
        "select funnel_id, person_id, attempt_number, furthest_step, completed, breakdown_value "
        "from marts.funnel_conversions order by all"
    ) == [
        ("any_order", "anon_late", 1, 2, False, None),
        ("any_order", "user_g", 1, 1, False, None),
        ("any_order", "user_g", 2, 1, False, None),
        ("days", "anon_late", 1, 2, True, None),
        ("days", "user_g", 1, 2, True, None),
        ("exclusion", "anon_late", 1, 3, True, None),
        ("exclusion", "anon_late", 2, 1, False, None),
        ("exclusion", "user_g", 1, 2, False, None),
        ("ordered", "anon_late", 1, 3, True, "pro"),
        ("ordered", "user_g", 1, 2, False, None),
        ("strict", "anon_late", 1, 3, True, None),
        ("strict", "anon_late", 2, 1, False, None),
        ("strict", "user_g", 1, 2, False, None),
    ]
