"""Uniqueness tests of a windowed run that read only the keys the run wrote (`rows_written_by_run`
in macros/incremental.sql): the rows carrying the run's label (`written_by_run`, as
int_event_sessions' rederived_for), or a mart's logged changed keys. A run without a window, and a
mart built whole since its log began, test every row. Run on seeds of a small project of its own
with the project's generic test and window macros, so each case can be written down."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.dbt.conftest import DBT_EXECUTABLE, write_tests_project

LABELLED = """
seeds:
  - name: labelled
    config:
      column_types: {item_id: varchar, rederived_for: varchar}
    data_tests:
      - unique_combination_of_columns:
          name: unique_labelled
          arguments:
            combination_of_columns: [item_id]
            written_by_run: rederived_for
"""

LABELLED_ROWS = [
    "item_id,rederived_for",
    # Built whole, then written again by the run labelled 'build 2' without replacing the row.
    "a,..",
    "a,build 2",
    # A duplicate an earlier run left.
    "b,build 1",
    "b,build 1",
    "c,build 2",
]

LOGGED = """
seeds:
  - name: logged
    config:
      column_types: {item_id: varchar, amount: integer}
    data_tests:
      - unique_combination_of_columns:
          name: unique_logged
          arguments:
            combination_of_columns: [item_id, amount]
"""

LOGGED_ROWS = ["item_id,amount", "x,1", "x,1", "y,2", "y,2", "z,3"]

WINDOW = ["--vars", "{min_date: '2026-01-02', max_date: '2026-01-03', build_label: 'build 2'}"]


def _project(root: Path, seed: str, rows: list[str], yaml: str) -> Path:
    write_tests_project(root, seed, ["unique_combination_of_columns"], seed, rows, yaml)
    return root


def _result(project: Path, test: str, *args: str) -> str:
    """`dbt build` of the seed and its test with `args`: the test's result as dbt prints it."""
    result = subprocess.run(
        [str(DBT_EXECUTABLE), "build", "--profiles-dir", str(project), *args],
        cwd=project,
        capture_output=True,
        text=True,
    )
    found = re.findall(rf"\b(PASS|FAIL \d+) {test}\b", result.stdout)
    assert len(found) == 1, result.stdout
    return found[0]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _project(tmp_path_factory.mktemp("labelled"), "labelled", LABELLED_ROWS, LABELLED)


BUILT_WHOLE_ROWS = ["item_id,rederived_for", "a,..", "a,..", "b,.."]


@pytest.fixture(scope="module")
def built_whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _project(tmp_path_factory.mktemp("built_whole"), "labelled", BUILT_WHOLE_ROWS, LABELLED)


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _project(tmp_path_factory.mktemp("logged"), "logged", LOGGED_ROWS, LOGGED)


def _audit(project: Path, *statements: str) -> None:
    with duckdb.connect(str(project / "check.duckdb")) as connection:
        connection.execute("create schema if not exists audit")
        for statement in statements:
            connection.execute(statement)


def test_a_windowed_run_tests_the_keys_of_the_rows_carrying_its_label(labelled: Path) -> None:
    # `a` fails against the row built before; `b`, written by an earlier run, is not read.
    assert _result(labelled, "unique_labelled", *WINDOW) == "FAIL 1"


def test_a_run_without_a_window_tests_every_row(labelled: Path) -> None:
    assert _result(labelled, "unique_labelled") == "FAIL 2"


def test_a_table_built_whole_tests_every_row_in_a_windowed_run(built_whole: Path) -> None:
    # Every row carries '..': built whole (by this run, or before any windowed run), so none
    # carries the run's label, and every row is tested.
    assert _result(built_whole, "unique_labelled", *WINDOW) == "FAIL 1"


def test_a_windowed_run_tests_the_keys_its_mart_logged(logged: Path) -> None:
    _audit(
        logged,
        "create or replace table audit.logged__changed_keys (item_id varchar)",
        "insert into audit.logged__changed_keys values ('x'), ('z')",
        "drop table if exists audit.logged__rebuilt",
    )
    # `x` was logged and fails; `y`, not logged, is not read.
    assert _result(logged, "unique_logged", *WINDOW) == "FAIL 1"
    # Without a window every row.
    assert _result(logged, "unique_logged") == "FAIL 2"


def test_a_mart_built_whole_since_its_log_began_tests_every_row(logged: Path) -> None:
    _audit(
        logged,
        "create or replace table audit.logged__changed_keys (item_id varchar)",
        "create or replace table audit.logged__rebuilt as select current_timestamp as marked_at",
    )
    assert _result(logged, "unique_logged", *WINDOW) == "FAIL 2"


def test_a_log_of_keys_outside_the_tested_columns_tests_every_row(logged: Path) -> None:
    _audit(
        logged,
        "drop table if exists audit.logged__rebuilt",
        "create or replace table audit.logged__changed_keys (other_key varchar)",
        "insert into audit.logged__changed_keys values ('x')",
    )
    assert _result(logged, "unique_logged", *WINDOW) == "FAIL 2"


def test_a_mart_without_a_log_tests_every_row(logged: Path) -> None:
    _audit(
        logged,
        "drop table if exists audit.logged__rebuilt",
        "drop table if exists audit.logged__changed_keys",
    )
    assert _result(logged, "unique_logged", *WINDOW) == "FAIL 2"
