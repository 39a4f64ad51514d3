"""A temporary warehouse with explicit raw rows, and dbt run against it.

Tests build the raw tables from the landing contract, insert hand-written events (their user
agents parsed as the events landing parses them), and run the project's dbt with `WAREHOUSE_DIR`
pointing at the temporary directory, so they never touch the real warehouse or another run's
target directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.contract import EVENTS
from orchestration.landing.tables import create_landing_tables
from orchestration.landing.user_agents import record_user_agents
from orchestration.sql import transaction

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"

EVENT_DEFAULTS: dict[str, Any] = {
    "tenant_id": "tenant_a",
    "project_id": "project_a",
    "event_type": "track",
    "user_agent": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
    ),
    "properties": "{}",
}
DEFAULT_EVENT_TYPES = {"page_view": "page", "identify": "identify"}


def write_tests_project(
    root: Path, name: str, tests: Iterable[str], seed: str, rows: list[str], seed_yaml: str
) -> None:
    """A small dbt project in `root` with the project's generic `tests` (file names without
    .sql), the window macros they read (macros/incremental.sql, with its vars unset) and one
    seed, `seed`.csv holding `rows` (a header first) described by `seed_yaml`; its DuckDB file
    is `root`/check.duckdb and its profile is in `root`."""
    generic = root / "tests" / "generic"
    generic.mkdir(parents=True)
    for test in tests:
        shutil.copy(DBT_PROJECT_DIR / "tests" / "generic" / f"{test}.sql", generic)
    (root / "macros").mkdir()
    shutil.copy(DBT_PROJECT_DIR / "macros" / "incremental.sql", root / "macros")
    (root / "seeds").mkdir()
    (root / "seeds" / f"{seed}.csv").write_text("\n".join(rows) + "\n")
    (root / "seeds" / f"{seed}.yml").write_text(seed_yaml)
    (root / "dbt_project.yml").write_text(
        f"name: {name}\nversion: '1.0'\nconfig-version: 2\nprofile: {name}\n"
        "vars:\n  min_date: null\n  max_date: null\n  build_label: null\n"
    )
    (root / "profiles.yml").write_text(
        f"{name}:\n  target: check\n  outputs:\n    check:\n"
        f"      type: duckdb\n      path: {root / 'check.duckdb'}\n      threads: 1\n"
    )


def event_row(
    message_id: str, *, landing_date: date | None = None, **values: Any
) -> dict[str, Any]:
    """A raw.events row: the contract's columns with defaults, then the lineage columns.

    `event_type` defaults to what `event_name` implies, `received_at` to `timestamp`, and
    `_landing_date` (the arrival folder) to `landing_date`, else the date of `received_at`.
    """
    row = {column.name: None for column in EVENTS.columns}
    row.update(EVENT_DEFAULTS)
    row["message_id"] = message_id
    row["event_type"] = DEFAULT_EVENT_TYPES.get(values.get("event_name"), "track")
    row.update(values)
    row["received_at"] = row["received_at"] or row["timestamp"]
    landing_date = landing_date or row["received_at"].date()
    row.update(
        _source_file=f"events/date={landing_date}/events.parquet",
        _source_row=0,
        _landing_date=landing_date,
        _loaded_at=row["received_at"],
    )
    unknown = set(row) - {column.name for column in EVENTS.table_columns()}
    if unknown:
        raise ValueError(f"event {message_id}: unknown columns {sorted(unknown)}")
    return row


@dataclass
class Warehouse:
    """A DuckDB warehouse in a temporary directory, and dbt runs against it."""

    directory: Path
    target_path: Path

    @property
    def path(self) -> Path:
        return self.directory / "warehouse.duckdb"

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.path))

    def insert_events(self, rows: Iterable[dict[str, Any]]) -> None:
        """Insert rows into raw.events and, as a load does in its transaction, parse their new
        user agents into raw.user_agents."""
        columns = [column.name for column in EVENTS.table_columns()]
        values = [tuple(row[column] for column in columns) for row in rows]
        placeholders = ", ".join("?" for _ in columns)
        with self.connect() as connection, transaction(connection):
            connection.executemany(
                f"insert into {EVENTS.table} ({', '.join(columns)}) values ({placeholders})",
                values,
            )
            record_user_agents(connection)

    def dbt(self, *args: str, variables: dict[str, Any] | None = None) -> str:
        """Run a dbt command; fail the test with dbt's output when it fails."""
        result = self._run_dbt(args, variables)
        if result.returncode != 0:
            pytest.fail(f"dbt {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def dbt_failing(self, *args: str, variables: dict[str, Any] | None = None) -> str:
        """Run a dbt command that must fail; its output, or fail the test when it succeeds."""
        result = self._run_dbt(args, variables)
        if result.returncode == 0:
            pytest.fail(f"dbt {' '.join(args)} succeeded:\n{result.stdout}")
        return result.stdout

    def _run_dbt(
        self, args: tuple[str, ...], variables: dict[str, Any] | None
    ) -> subprocess.CompletedProcess[str]:
        command = [
            str(DBT_EXECUTABLE),
            *args,
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(self.target_path),
            "--log-path",
            str(self.target_path / "logs"),
        ]
        if variables:
            command += ["--vars", _vars_yaml(variables)]
        environment = {**os.environ, "WAREHOUSE_DIR": str(self.directory)}
        return subprocess.run(
            command, cwd=DBT_PROJECT_DIR, env=environment, capture_output=True, text=True
        )

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.sql(sql).fetchall()


def mart_tables(path: Path) -> list[str]:
    """The tables of schema `marts` in the warehouse at `path`, by name."""
    with duckdb.connect(str(path), read_only=True) as connection:
        rows = connection.sql(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' and table_type = 'BASE TABLE' order by table_name"
        ).fetchall()
    return [name for (name,) in rows]


def rows_only_in_one(incremental: Warehouse, full: Warehouse, table: str) -> tuple[int, int]:
    """Rows of `table` only in the incremental build, and only in the full build."""
    with duckdb.connect() as connection:
        connection.execute(f"attach '{incremental.path}' as incremental (read_only)")
        connection.execute(f"attach '{full.path}' as full_build (read_only)")
        counts = []
        for left, right in (("incremental", "full_build"), ("full_build", "incremental")):
            [(count,)] = connection.sql(
                f"select count(*) from (select * from {left}.marts.{table} "
                f"except all select * from {right}.marts.{table})"
            ).fetchall()
            counts.append(count)
    return counts[0], counts[1]


def differing_marts(built: Warehouse, expected: Warehouse) -> dict[str, tuple[int, int]]:
    """The marts whose rows differ: (rows only in `built`, rows only in `expected`) of each."""
    tables = mart_tables(expected.path)
    assert mart_tables(built.path) == tables
    differences = {table: rows_only_in_one(built, expected, table) for table in tables}
    return {table: counts for table, counts in differences.items() if counts != (0, 0)}


def _vars_yaml(variables: dict[str, Any]) -> str:
    items = ", ".join(f"{key}: {_yaml_value(value)}" for key, value in variables.items())
    return "{" + items + "}"


def _yaml_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, date | datetime):
        return f"'{value.isoformat()}'"
    return repr(value)


def make_warehouse(directory: Path) -> Warehouse:
    directory.mkdir(parents=True, exist_ok=True)
    warehouse = Warehouse(directory=directory, target_path=directory / "dbt-target")
    with warehouse.connect() as connection:
        create_landing_tables(connection)
    return warehouse


def built_day_by_day(
    directory: Path, events: Sequence[dict[str, Any]], days: Sequence[date]
) -> Warehouse:
    """A warehouse where each arrival day's events (by `received_at`) were inserted and then
    built with that day's window, one day after the other."""
    warehouse = make_warehouse(directory)
    warehouse.dbt("seed")
    for day in days:
        warehouse.insert_events([row for row in events if row["received_at"].date() == day])
        warehouse.dbt("run", variables={"min_date": day, "max_date": day + timedelta(days=1)})
    return warehouse


def built_at_once(directory: Path, events: Sequence[dict[str, Any]]) -> Warehouse:
    """A warehouse holding `events`, built by one full refresh."""
    warehouse = make_warehouse(directory)
    warehouse.insert_events(events)
    warehouse.dbt("seed")
    warehouse.dbt("run", "--full-refresh")
    return warehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    """An empty warehouse with the raw landing tables."""
    yield make_warehouse(tmp_path / "warehouse")
