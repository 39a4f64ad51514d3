"""A run without a window over tables that already exist rebuilds them from all rows.

This is what a run of some models from the UI does (the dbt assets are not partitioned), and
what the pipeline runs after a failed build: it must replace every row, never add a second copy.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.dbt.conftest import Warehouse, differing_marts, make_warehouse
from tests.dbt.sample_events import ARRIVAL_DAYS, SAMPLE_EVENTS, events_received_on

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, Warehouse]:
    """Day one built with its window, then every day loaded and built twice without one; and a
    full refresh of the same events."""
    unbounded = make_warehouse(tmp_path_factory.mktemp("unbounded"))
    unbounded.dbt("seed")
    first = ARRIVAL_DAYS[0]
    unbounded.insert_events(events_received_on(first))
    unbounded.dbt("run", variables={"min_date": first, "max_date": first + timedelta(days=1)})
    for day in ARRIVAL_DAYS[1:]:
        unbounded.insert_events(events_received_on(day))
    unbounded.dbt("run")
    unbounded.dbt("run")

    full = make_warehouse(tmp_path_factory.mktemp("full"))
    full.insert_events(SAMPLE_EVENTS)
    full.dbt("seed")
    full.dbt("run", "--full-refresh")
    return unbounded, full


def test_every_mart_equals_a_full_refresh_row_for_row(
    warehouses: tuple[Warehouse, Warehouse],
) -> None:
    unbounded, full = warehouses

    assert differing_marts(unbounded, full) == {}


def test_the_sessionization_state_holds_each_event_once(
    warehouses: tuple[Warehouse, Warehouse],
) -> None:
    unbounded, full = warehouses
    query = (
        "select count(*), count(distinct (tenant_id, message_id)), count(*) filter (is_superseded)"
        " from intermediate.int_event_sessions"
    )
    [(rows, events, superseded)] = unbounded.query(query)
    [(_, full_events, _)] = full.query(query)
    assert (rows, events, superseded) == (full_events, full_events, 0)
