"""Data tests with an `arrival_column` (the staging views' tests): a run with a window of arrival
days tests the rows that arrived in it, and the keys of those rows against every row; a run
without a window or a full refresh tests every row. Run on a seed of a small project of its
own with the project's generic tests and window macros, so each case can be written down."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.dbt.conftest import DBT_EXECUTABLE, write_tests_project

TESTS = """
seeds:
  - name: arrivals
    config:
      column_types:
        item_id: varchar
        amount: integer
        _landing_date: date
    data_tests:
      - unique_combination_of_columns:
          name: unique_arrivals
          arguments:
            combination_of_columns: [item_id]
            arrival_column: _landing_date
          config:
            where: "item_id <> 'ignored'"
      - not_null_columns:
          name: not_null_arrivals
          arguments:
            columns: [amount]
            arrival_column: _landing_date
      - row_conditions:
          name: row_conditions_arrivals
          arguments:
            ranges:
              amount: {max_value: 4}
            arrival_column: _landing_date
"""

ROWS = [
    "item_id,amount,_landing_date",
    # The same item arrived on both days: the day after holds a key that is not unique.
    "repeated,1,2026-01-01",
    "repeated,2,2026-01-02",
    # A NULL amount on the first day, an amount over the range on the second.
    "missing,,2026-01-01",
    "too_large,5,2026-01-02",
    "fine,3,2026-01-02",
    # Twice, but outside the unique test's `where`.
    "ignored,1,2026-01-02",
    "ignored,1,2026-01-02",
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("windowed_tests")
    write_tests_project(
        root,
        "windowed",
        ["unique_combination_of_columns", "not_null_columns", "row_conditions"],
        "arrivals",
        ROWS,
        TESTS,
    )
    return root


def _test_results(project: Path, *args: str) -> dict[str, str]:
    """`dbt build` of the seed and its tests with `args`: each test's result as dbt prints it
    (PASS, or FAIL and the number of failing rows)."""
    result = subprocess.run(
        [str(DBT_EXECUTABLE), "build", "--profiles-dir", str(project), *args],
        cwd=project,
        capture_output=True,
        text=True,
    )
    found = dict(
        (name, outcome)
        for outcome, name in re.findall(r"\b(PASS|FAIL \d+) (\w+_arrivals)\b", result.stdout)
    )
    assert len(found) == 3, result.stdout
    return found


def _window(start: str, end: str) -> list[str]:
    return ["--vars", f"{{min_date: '{start}', max_date: '{end}'}}"]


def test_a_run_of_every_day_tests_every_row(project: Path) -> None:
    assert _test_results(project) == {
        "unique_arrivals": "FAIL 1",
        "not_null_arrivals": "FAIL 1",
        "row_conditions_arrivals": "FAIL 1",
    }


def test_a_windowed_run_tests_the_rows_that_arrived_in_its_window(project: Path) -> None:
    # The second day: its amount over the range fails, the first day's NULL is not read, and
    # its repeated item fails against the first day's row.
    assert _test_results(project, *_window("2026-01-02", "2026-01-03")) == {
        "unique_arrivals": "FAIL 1",
        "not_null_arrivals": "PASS",
        "row_conditions_arrivals": "FAIL 1",
    }
    # The first day: its NULL fails, the second day's amount is not read; the repeated item
    # fails from this side too.
    assert _test_results(project, *_window("2026-01-01", "2026-01-02")) == {
        "unique_arrivals": "FAIL 1",
        "not_null_arrivals": "FAIL 1",
        "row_conditions_arrivals": "PASS",
    }


def test_a_window_that_holds_every_row_tests_every_row(project: Path) -> None:
    assert _test_results(project, *_window("2026-01-01", "2026-01-03")) == {
        "unique_arrivals": "FAIL 1",
        "not_null_arrivals": "FAIL 1",
        "row_conditions_arrivals": "FAIL 1",
    }


def test_a_window_without_a_row_of_a_failing_key_passes(project: Path) -> None:
    assert _test_results(project, *_window("2026-01-03", "2026-01-04")) == {
        "unique_arrivals": "PASS",
        "not_null_arrivals": "PASS",
        "row_conditions_arrivals": "PASS",
    }


def test_a_full_refresh_tests_every_row_whatever_its_window(project: Path) -> None:
    assert _test_results(project, "--full-refresh", *_window("2026-01-03", "2026-01-04")) == {
        "unique_arrivals": "FAIL 1",
        "not_null_arrivals": "FAIL 1",
        "row_conditions_arrivals": "FAIL 1",
    }
