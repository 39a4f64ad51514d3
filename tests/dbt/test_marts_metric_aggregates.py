"""metric_aggregates: exact percentiles over raw points, tags in any key order, and incremental
runs by landing date that recompute late points' periods exactly like a full refresh."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from orchestration.contract import METRICS
from tests.dbt.conftest import Warehouse, make_warehouse

pytestmark = pytest.mark.slow

MODELS = ("--select", "stg_metrics", "metric_aggregates")
DAY_ONE = date(2026, 11, 18)
DAY_TWO = date(2026, 11, 19)
HOST_A = '{"host":"a","region":"eu"}'
HOST_A_REORDERED = '{"region":"eu","host":"a"}'


def metric_row(
    metric_id: str, value: float, at: datetime, landing_date: date, tags: str | None
) -> dict[str, Any]:
    return {
        "metric_id": metric_id,
        "tenant_id": "tenant_a",
        "project_id": "project_a",
        "name": "api.request.duration",
        "metric_type": "timer",
        "value": value,
        "timestamp": at,
        "tags": tags,
        "unit": "ms",
        "_source_file": f"metrics/date={landing_date}/metrics.parquet",
        "_source_row": 0,
        "_landing_date": landing_date,
        "_loaded_at": datetime.combine(landing_date, datetime.min.time()),
    }


POINTS = [
    metric_row("m1", 0.0, datetime(2026, 11, 18, 10, 5), DAY_ONE, HOST_A),
    metric_row("m2", 100.0, datetime(2026, 11, 18, 10, 59, 59), DAY_ONE, HOST_A_REORDERED),
    # Arrives a day late, into the 10:00 hour of day one, with its tags in another key order.
    metric_row("m3", 50.0, datetime(2026, 11, 18, 10, 30), DAY_TWO, HOST_A_REORDERED),
    metric_row("m4", 7.0, datetime(2026, 11, 19, 9, 0), DAY_TWO, None),
]


def insert_metrics(warehouse: Warehouse, rows: list[dict[str, Any]]) -> None:
    columns = [column.name for column in METRICS.table_columns()]
    placeholders = ", ".join("?" for _ in columns)
    with warehouse.connect() as connection:
        connection.executemany(
            f"insert into {METRICS.table} ({', '.join(columns)}) values ({placeholders})",
            [tuple(row[column] for column in columns) for row in rows],
        )


@pytest.fixture(scope="module")
def incremental_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    warehouse = make_warehouse(tmp_path_factory.mktemp("metrics_incremental"))
    for day in (DAY_ONE, DAY_TWO):
        insert_metrics(warehouse, [row for row in POINTS if row["_landing_date"] == day])
        warehouse.dbt(
            "run", *MODELS, variables={"min_date": day, "max_date": day + timedelta(days=1)}
        )
    return warehouse


@pytest.fixture(scope="module")
def full_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    warehouse = make_warehouse(tmp_path_factory.mktemp("metrics_full"))
    insert_metrics(warehouse, POINTS)
    warehouse.dbt("run", "--full-refresh", *MODELS)
    return warehouse


def _aggregates(warehouse: Warehouse) -> list[tuple[Any, ...]]:
    return warehouse.query(
        "select tags, period_type, period_start, point_count, value_sum, value_min, value_max, "
        "value_avg, value_p50, value_p90, value_p99 from marts.metric_aggregates order by all"
    )


def test_incremental_runs_equal_a_full_refresh(
    incremental_warehouse: Warehouse, full_warehouse: Warehouse
) -> None:
    assert _aggregates(incremental_warehouse) == _aggregates(full_warehouse)


def test_a_late_point_is_recomputed_into_its_hour_with_exact_percentiles(
    incremental_warehouse: Warehouse,
) -> None:
    [(count, p50, p90, p99)] = incremental_warehouse.query(
        "select point_count, value_p50, value_p90, value_p99 from marts.metric_aggregates "
        f"where tags = '{HOST_A}' and period_type = 'hourly' "
        "and period_start = timestamp '2026-11-18 10:00:00'"
    )
    assert count == 3
    assert (p50, p90, p99) == pytest.approx((50.0, 90.0, 99.0))


def test_points_without_tags_form_their_own_group(incremental_warehouse: Warehouse) -> None:
    assert incremental_warehouse.query(
        "select tags, period_type, period_start, point_count from marts.metric_aggregates "
        "where period_type = 'weekly' order by tags"
    ) == [
        (HOST_A, "weekly", datetime(2026, 11, 16), 3),
        ("{}", "weekly", datetime(2026, 11, 16), 1),
    ]
