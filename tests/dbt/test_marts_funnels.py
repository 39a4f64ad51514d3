"""Funnel attempts match a direct implementation of the spec's attempt rules on random events.

The rules (SPEC "funnels"): an attempt starts at a step-1 event that is not inside an open
attempt of the same person (open: started, not completed, window not over); each later step is
the first matching event at or after the previous step's time (equal timestamps count) and at
most the window after step 1 (inclusive). Event times fall on a coarse grid so that ties,
window ends and repeated step-1 events are common.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.dbt.conftest import DBT_PROJECT_DIR, Warehouse, event_row, make_warehouse

pytestmark = pytest.mark.slow

START = datetime(2026, 1, 1)
DEFAULT_WINDOW_DAYS = 14


def active_funnels() -> dict[str, tuple[list[str], int]]:
    with (DBT_PROJECT_DIR / "seeds" / "funnel_definitions.csv").open() as seed:
        return {
            row["funnel_id"]: (
                [step.strip() for step in row["steps"].split(">")],
                int(row["conversion_window_days"] or DEFAULT_WINDOW_DAYS),
            )
            for row in csv.DictReader(seed)
            if row["status"] == "ACTIVE"
        }


def random_events(funnels: dict[str, tuple[list[str], int]]) -> list[dict[str, Any]]:
    rng = random.Random(20261122)
    names = [*sorted({step for steps, _ in funnels.values() for step in steps}), "page_ping"]
    rows = []
    for person in range(80):
        for number in range(rng.randint(1, 40)):
            at = START + timedelta(hours=6 * rng.randint(0, 4 * 30))
            rows.append(
                event_row(
                    f"p{person}_{number}",
                    anonymous_id=f"anon_{person}",
                    event_name=rng.choice(names),
                    timestamp=at,
                )
            )
    return rows


def expected_attempt_steps(
    rows: list[dict[str, Any]], funnels: dict[str, tuple[list[str], int]]
) -> set[tuple[Any, ...]]:
    times_by_person: dict[str, dict[str, set[datetime]]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        times_by_person[row["anonymous_id"]][row["event_name"]].add(row["timestamp"])
    expected = set()
    for funnel_id, (steps, window_days) in funnels.items():
        for person, times in times_by_person.items():
            step_times = [sorted(times[step]) for step in steps]
            closed_at = None
            attempt_number = 0
            for started_at in step_times[0]:
                if closed_at is not None and started_at <= closed_at:
                    continue
                window_end = started_at + timedelta(days=window_days)
                reached = [started_at]
                for later_times in step_times[1:]:
                    matches = [t for t in later_times if reached[-1] <= t <= window_end]
                    if not matches:
                        break
                    reached.append(matches[0])
                closed_at = reached[-1] if len(reached) == len(steps) else window_end
                attempt_number += 1
                for step_number, reached_at in enumerate(reached, start=1):
                    expected.add(
                        (funnel_id, person, attempt_number, started_at, step_number, reached_at)
                    )
    return expected


@pytest.fixture(scope="module")
def funnel_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, list]:
    rows = random_events(active_funnels())
    warehouse = make_warehouse(tmp_path_factory.mktemp("funnels"))
    warehouse.insert_events(rows)
    warehouse.dbt("seed", "--select", "funnel_definitions")
    warehouse.dbt("run", "--select", "+funnel_conversions")
    return warehouse, rows


def test_attempt_steps_follow_the_spec_rules(funnel_warehouse: tuple[Warehouse, list]) -> None:
    warehouse, rows = funnel_warehouse
    actual = set(
        warehouse.query(
            "select funnel_id, person_id, attempt_number, started_at, step_number, reached_at "
            "from marts.funnel_attempt_steps"
        )
    )
    expected = expected_attempt_steps(rows, active_funnels())
    assert actual == expected
    steps_by_funnel = {funnel_id: len(steps) for funnel_id, (steps, _) in active_funnels().items()}
    assert any(attempt > 1 for _, _, attempt, _, _, _ in expected)
    assert any(step == steps_by_funnel[funnel] for funnel, _, _, _, step, _ in expected)


def test_every_attempt_is_summarized_once(funnel_warehouse: tuple[Warehouse, list]) -> None:
    warehouse, _ = funnel_warehouse
    assert warehouse.query(
        "select count(*), count(distinct (funnel_id, person_id, attempt_number)) "
        "from marts.funnel_conversions"
    ) == warehouse.query(
        "select count(*), count(*) from marts.funnel_attempt_steps where step_number = 1"
    )
