"""A build that goes on from a failed one: the marts see what the failed one re-derived.

A failed build may have re-derived sessions (`int_event_sessions`) and persons before a mart
failed; the next build finds those rows as they should be, so nothing in them looks changed to
it. It carries the failed build's label (`build_label`), under which the failed one marked
what it changed, so its marts rebuild that too. Under a label of its own, they would not.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.dbt.conftest import Warehouse, differing_marts, make_warehouse
from tests.dbt.sample_events import ARRIVAL_DAYS, SAMPLE_EVENTS, events_received_on

pytestmark = pytest.mark.slow

FAILED_AT = ARRIVAL_DAYS[3]


def _window(first: date, last: date, label: str) -> dict[str, object]:
    return {"min_date": first, "max_date": last + timedelta(days=1), "build_label": label}


def _after_a_failed_build(
    directory: Path,
    retry_label: str,
    failed_after: str = "int_event_sessions int_anonymous_id_persons",
) -> Warehouse:
    """Days before FAILED_AT built one by one; then a build of FAILED_AT that built the models
    `failed_after` (by default, re-derived the sessions and persons) and stopped; then the next
    day arrives and a build of both runs."""
    warehouse = make_warehouse(directory)
    warehouse.dbt("seed")
    for day in ARRIVAL_DAYS[:3]:
        warehouse.insert_events(events_received_on(day))
        warehouse.dbt("run", variables=_window(day, day, f"build {day}"))
    warehouse.insert_events(events_received_on(FAILED_AT))
    warehouse.dbt(
        "run",
        "--select",
        failed_after,
        variables=_window(FAILED_AT, FAILED_AT, "build failed"),
    )
    warehouse.insert_events(events_received_on(ARRIVAL_DAYS[4]))
    warehouse.dbt("run", variables=_window(FAILED_AT, ARRIVAL_DAYS[4], retry_label))
    return warehouse


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    warehouse = make_warehouse(tmp_path_factory.mktemp("full"))
    warehouse.insert_events(SAMPLE_EVENTS)
    warehouse.dbt("seed")
    warehouse.dbt("run", "--full-refresh")
    return warehouse


def test_a_build_with_the_failed_builds_label_equals_a_full_refresh(
    tmp_path: Path, full: Warehouse
) -> None:
    warehouse = _after_a_failed_build(tmp_path / "retry", retry_label="build failed")

    assert differing_marts(warehouse, full) == {}


def test_a_build_after_one_that_stopped_before_page_views_equals_a_full_refresh(
    tmp_path: Path, full: Warehouse
) -> None:
    # The failed build re-derived the page views' metrics too: page_views, built from them,
    # still has to take them in.
    warehouse = _after_a_failed_build(
        tmp_path / "metrics",
        retry_label="build failed",
        failed_after="int_event_sessions int_anonymous_id_persons int_page_view_metrics",
    )

    assert differing_marts(warehouse, full) == {}


def test_under_a_label_of_its_own_the_marts_would_miss_the_failed_builds_changes(
    tmp_path: Path, full: Warehouse
) -> None:
    warehouse = _after_a_failed_build(tmp_path / "new-label", retry_label="build retry")

    assert "hourly_rollups" in differing_marts(warehouse, full)
