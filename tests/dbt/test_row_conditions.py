"""The `row_conditions` generic test (dbt_project/tests/generic/row_conditions.sql): one query
checks a table's value ranges, accepted values and row expressions, and each failing row names
the conditions it fails. Run on a seed of a small project of its own, so every kind of
condition, NULL and quoting case can be written down."""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb

from tests.dbt.conftest import DBT_EXECUTABLE, write_tests_project

CONDITIONS = """
seeds:
  - name: orders
    config:
      column_types:
        order_id: varchar
        quantity: integer
        discount: double
        stars: integer
        status: varchar
        priority: integer
        ordered_at: date
        shipped_at: date
    data_tests:
      - row_conditions:
          name: row_conditions_orders
          arguments:
            ranges:
              quantity: {min_value: 1}
              discount: {min_value: 0, max_value: 1}
              stars: {min_value: 0, max_value: 6, inclusive: false}
            accepted_values:
              status: ["open", "it's shipped"]
              priority: [1, 2]
            expressions:
              - "shipped_at >= ordered_at"
"""

HEADER = "order_id,quantity,discount,stars,status,priority,ordered_at,shipped_at"
PASSING = [
    "complete,2,0.5,5,open,1,2026-01-01,2026-01-02",
    # A NULL passes a range and an accepted value.
    "nulls,,,,,,2026-01-01,2026-01-01",
    # The bounds are inclusive unless told otherwise; a value with a quote is quoted.
    "bounds,1,1.0,1,it's shipped,2,2026-01-01,2026-01-01",
]
FAILING = [
    "low_quantity_high_discount,0,1.5,5,open,1,2026-01-01,2026-01-02",
    "stars_at_exclusive_bound,1,0,6,open,1,2026-01-01,2026-01-02",
    "unknown_status_and_priority,1,0,5,lost,3,2026-01-01,2026-01-02",
    # An expression that is NULL fails.
    "not_shipped,1,0,5,open,1,2026-01-01,",
    "shipped_before_ordered,1,0,5,open,1,2026-01-02,2026-01-01",
]


def _build(root: Path, rows: list[str]) -> subprocess.CompletedProcess[str]:
    """`dbt build --store-failures` of a project whose one seed holds `rows`."""
    write_tests_project(
        root, "conditions", ["row_conditions"], "orders", [HEADER, *rows], CONDITIONS
    )
    return subprocess.run(
        [str(DBT_EXECUTABLE), "build", "--store-failures", "--profiles-dir", str(root)],
        cwd=root,
        capture_output=True,
        text=True,
    )


def test_failing_rows_name_every_condition_they_fail(tmp_path: Path) -> None:
    result = _build(tmp_path, PASSING + FAILING)
    assert result.returncode != 0, result.stdout
    assert "FAIL 5 row_conditions_orders" in result.stdout, result.stdout
    with duckdb.connect(str(tmp_path / "check.duckdb"), read_only=True) as connection:
        failed = connection.sql(
            "select order_id, failed_conditions from main_dbt_test__audit.row_conditions_orders "
            "order by order_id"
        ).fetchall()
    assert failed == [
        ("low_quantity_high_discount", "quantity >= 1; discount >= 0 and discount <= 1"),
        ("not_shipped", "shipped_at >= ordered_at"),
        ("shipped_before_ordered", "shipped_at >= ordered_at"),
        ("stars_at_exclusive_bound", "stars > 0 and stars < 6"),
        ("unknown_status_and_priority", "status in (open, it's shipped); priority in (1, 2)"),
    ]


def test_rows_within_every_condition_pass(tmp_path: Path) -> None:
    result = _build(tmp_path, PASSING)
    assert result.returncode == 0, result.stdout
    assert "PASS row_conditions_orders" in result.stdout, result.stdout
