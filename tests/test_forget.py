"""Forget a person: gone from every kept publication at once, and what the next run recounts.

Two days of two people (Ada, who logs in, and Ben), a crawler and a metric are published by two
runs, one a day, so that the current publication and the one before it, kept for rollback, both
hold Ada. Each test forgets her in a copy of that warehouse.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import struct
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from orchestration import catalog
from orchestration.cli import days_to_run, run_pipeline
from orchestration.contract import EVENTS, METRICS
from orchestration.exports import ExportFormat, ExportRequest, export_mart
from orchestration.maintenance import forget_person
from orchestration.publishing import DATABASE_FILE, MANIFEST_FILE, PARQUET_DIR, published_dir
from orchestration.settings import PROJECT_ROOT, Settings
from tests.landing_files import DAY_1, DAY_2, event, metric, utc, write_landing_file
from tests.test_pipeline import mart_tables

pytestmark = pytest.mark.slow

ADA = ("ada-user", "ada-laptop", "ada-phone")
"""One person: a user id and the two devices linked to it."""
# DuckDB 1.4 reads storage versions 64 to 67 (see tests/test_publishing.py).
DUCKDB_1_4_NEWEST_STORAGE_NUMBER = 67


def _track(message_id: str, name: str, time: str, **fields) -> dict:
    at = utc(f"2026-03-{time}")
    fields = {"event_type": "track", **fields}
    return event(message_id, event_name=name, timestamp=at, received_at=at, **fields)


def _page(message_id: str, path: str, time: str, **fields) -> dict:
    at = utc(f"2026-03-{time}")
    return event(message_id, page_path=path, timestamp=at, received_at=at, **fields)


def _day_1() -> list[dict]:
    ada, ben = {"anonymous_id": "ada-laptop"}, {"anonymous_id": "ben-laptop"}
    export = '{"feature": "export", "duration_ms": 100, "success": true}'
    return [
        _page("a1", "/pricing", "01 10:00:00", **ada),
        _track("a2", "identify", "01 10:01:00", user_id="ada-user", event_type="identify", **ada),
        _track("a3", "feature_used", "01 10:02:00", properties=export, **ada),
        _track("a4", "pricing_viewed", "01 10:03:00", **ada),
        _track("a5", "signup_started", "01 10:04:00", **ada),
        # Ada alone in this hour and on this page, and no crawler.
        _page("a6", "/docs", "01 14:00:00", **ada),
        _page("b1", "/pricing", "01 10:10:00", **ben),
        _track("b2", "feature_used", "01 10:11:00", properties=export, **ben),
        _track("b3", "pricing_viewed", "01 10:12:00", **ben),
        _page("c1", "/pricing", "01 10:20:00", anonymous_id="crawler", device_type="bot"),
    ]


def _day_2() -> list[dict]:
    return [
        _page("a7", "/account", "02 09:00:00", anonymous_id="ada-phone", user_id="ada-user"),
        _page("b4", "/pricing", "02 09:30:00", anonymous_id="ben-laptop"),
    ]


def settings_for(root: Path) -> Settings:
    return dataclasses.replace(
        Settings.from_env(), raw_landing_dir=root / "raw_landing", warehouse_dir=root / "warehouse"
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Day 1 published by one run, day 2 by the next: two kept publications."""
    root = tmp_path_factory.mktemp("forget")
    settings = settings_for(root)
    write_landing_file(settings.raw_landing_dir, EVENTS, DAY_1, "part-0.parquet", _day_1())
    write_landing_file(settings.raw_landing_dir, METRICS, DAY_1, "part-0.parquet", [metric("x1")])
    assert run_pipeline(settings, DAY_1, DAY_1, instance=DagsterInstance.ephemeral()).success
    write_landing_file(settings.raw_landing_dir, EVENTS, DAY_2, "part-0.parquet", _day_2())
    assert run_pipeline(settings, DAY_2, DAY_2, instance=DagsterInstance.ephemeral()).success
    return root


@pytest.fixture
def warehouse(published: Path, tmp_path: Path) -> Settings:
    """A copy of the published warehouse and its landing files, for one test to change."""
    for folder in ("raw_landing", "warehouse"):
        shutil.copytree(published / folder, tmp_path / folder, symlinks=True)
    return settings_for(tmp_path)


def forget_ada(settings: Settings) -> None:
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        forget_person(connection, settings, user_id="ada-user")


def versions(settings: Settings) -> list[Path]:
    return sorted((published_dir(settings) / "versions").iterdir())


def published_files(settings: Settings) -> list[Path]:
    """Every DuckDB and Parquet file under published/, of any version, hidden or not."""
    return sorted(
        path
        for path in published_dir(settings).rglob("*")
        if path.is_file() and path.suffix in (".duckdb", ".parquet")
    )


def rows_by_table(path: Path) -> dict[str, list[tuple]]:
    """Every table of a DuckDB file, or the one of a Parquet file, with its rows."""
    if path.suffix == ".parquet":
        return {path.stem: duckdb.sql(f"from read_parquet('{path}')").fetchall()}
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            "select schema_name || '.' || table_name from duckdb_tables() "
            "where database_name = current_database()"
        ).fetchall()
        return {table: connection.execute(f"from {table}").fetchall() for (table,) in tables}


def string_values(path: Path) -> set[str]:
    """Every string in every column (maps, lists and JSON included) of every table of a file."""
    return {
        text
        for rows in rows_by_table(path).values()
        for row in rows
        for text in re.findall(r"'((?:[^'\\]|\\.)*)'", repr(row))
    }


def holding(settings: Settings, ids: tuple[str, ...]) -> list[str]:
    """The published files that hold any of `ids`, relative to published/."""
    return [
        path.relative_to(published_dir(settings)).as_posix()
        for path in published_files(settings)
        if string_values(path) & set(ids)
    ]


def row_counts(path: Path) -> dict[str, int]:
    return {table.split(".")[-1]: len(rows) for table, rows in rows_by_table(path).items()}


# --- publications ------------------------------------------------------------------------------


def test_forgetting_a_person_leaves_no_trace_in_any_kept_publication(warehouse):
    kept = [version.name for version in versions(warehouse)]
    holding_ben = holding(warehouse, ("ben-laptop",))
    assert len(kept) == 2
    assert {f"versions/{v}/{DATABASE_FILE}" for v in kept} <= set(holding(warehouse, ADA))

    forget_ada(warehouse)

    assert holding(warehouse, ADA) == []
    assert [version.name for version in versions(warehouse)] == kept
    assert holding(warehouse, ("ben-laptop",)) == holding_ben


def test_the_manifests_count_the_rows_each_kept_publication_has_left(warehouse):
    forget_ada(warehouse)

    sessions = {}
    for version in versions(warehouse):
        manifest = json.loads((version / MANIFEST_FILE).read_text())
        in_database = row_counts(version / DATABASE_FILE)
        for name, mart in manifest["marts"].items():
            assert mart["rows"] == in_database[name], (version.name, name)
            assert row_counts(version / mart["parquet"]) == {name: mart["rows"]}, name
        sessions[version.name] = manifest["marts"]["sessions"]["rows"]
    # Day 1 had Ada's two sessions and Ben's; day 2 one more of each.
    assert list(sessions.values()) == [1, 2]


def test_a_rewritten_publication_is_written_as_publish_writes_one(warehouse):
    before = {path: digest(path) for path in published_files(warehouse)}
    holding_ada = set(holding(warehouse, ADA))

    forget_ada(warehouse)

    rewritten = {path for path, sha256 in before.items() if digest(path) != sha256}
    assert {path.relative_to(published_dir(warehouse)).as_posix() for path in rewritten} == (
        holding_ada
    )
    for version in versions(warehouse):
        database = version / DATABASE_FILE
        header = database.read_bytes()[:20]
        assert struct.unpack("<Q", header[12:20])[0] <= DUCKDB_1_4_NEWEST_STORAGE_NUMBER
        with duckdb.connect(str(database), read_only=True) as connection:
            # The marts stay readable without the schema prefix, as published.
            assert (
                connection.execute("from sessions").fetchall()
                == connection.execute("from marts.sessions").fetchall()
            )
            for parquet in sorted((version / PARQUET_DIR).glob("*.parquet")):
                in_database = connection.execute(f'from marts."{parquet.stem}" limit 0')
                in_parquet = connection.execute(f"from read_parquet('{parquet}') limit 0")
                assert in_parquet.description == in_database.description, parquet.name
        files = [path for path in version.rglob("*") if path.is_file()]
        assert sorted(path.name for path in files) == sorted(
            [DATABASE_FILE, MANIFEST_FILE]
            + [path.name for path in (version / PARQUET_DIR).glob("*.parquet")]
        )
        assert {path.stat().st_mode & 0o777 for path in files} == {0o444}


READER = textwrap.dedent(
    """
    import sys, duckdb
    connection = duckdb.connect(sys.argv[1], read_only=True)
    for _ in sys.stdin:
        print(connection.execute("select count(*) from marts.users").fetchone()[0], flush=True)
    """
)


def test_a_reader_holding_a_publication_open_through_a_forget_keeps_reading_it(warehouse):
    database = versions(warehouse)[-1] / DATABASE_FILE
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )

    def read() -> int:
        reader.stdin.write("\n")
        reader.stdin.flush()
        return int(reader.stdout.readline())

    try:
        before = read()
        forget_ada(warehouse)
        after_the_forget = read()
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)

    assert reader.returncode == 0
    assert (before, after_the_forget) == (2, 2)
    assert row_counts(database)["users"] == 1


def test_forgetting_removes_a_publication_left_half_built(warehouse):
    current = versions(warehouse)[-1]
    crashed = current.with_name(".2026-03-02T00-00-00.000000Z.building")
    shutil.copytree(current, crashed)

    forget_ada(warehouse)

    assert not crashed.exists()
    assert holding(warehouse, ADA) == []


def test_forgetting_removes_what_interrupted_exports_of_marts_holding_the_person_left(warehouse):
    exports = warehouse.exports_dir
    with duckdb.connect(str(warehouse.warehouse_path)) as connection:
        for mart in ("sessions", "hourly_rollups"):
            export_mart(connection, ExportRequest(mart, ExportFormat.CSV), exports)
    for export in sorted(exports.iterdir()):
        # What an export killed before it renamed its file, or before it recorded it, leaves.
        shutil.copy(export, export.with_name(f".{export.stem}-interrupted.csv.partial"))
        shutil.copy(export, export.with_name(export.name.replace(".csv", "0.csv")))

    forget_ada(warehouse)

    assert [path.name.split("-")[0] for path in sorted(exports.iterdir())] == [
        ".hourly_rollups",
        "hourly_rollups",
        "hourly_rollups",
    ]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- aggregates --------------------------------------------------------------------------------

HOURS = (datetime(2026, 3, 1, 10), datetime(2026, 3, 1, 14), datetime(2026, 3, 2, 9))
"""The crawler's hour (with Ada and Ben), Ada's hour alone, and day 2's hour (Ada and Ben)."""


@dataclass
class Recount:
    """Every mart right after Ada was forgotten, after the next run, and after a full refresh,
    as `mart_tables` gives them."""

    marts: dict[str, dict[str, list[tuple]]]
    """Of each run: forgotten, next_run, full_refresh."""
    columns: dict[str, list[str]]
    aggregates: set[str]
    """The marts without a person column."""

    def changed(self, before: str, after: str) -> set[str]:
        return {
            mart for mart, rows in self.marts[before].items() if self.marts[after][mart] != rows
        }

    def values(self, runs: tuple[str, str], mart: str, column: str, **key: object) -> list[list]:
        """The `column` of the mart's rows matching `key`, after each of `runs`."""
        named = {
            run: [dict(zip(self.columns[mart], row, strict=True)) for row in self.marts[run][mart]]
            for run in runs
        }
        return [
            [row[column] for row in named[run] if all(row[k] == v for k, v in key.items())]
            for run in runs
        ]


@pytest.fixture(scope="module")
def recount(published: Path, tmp_path_factory: pytest.TempPathFactory) -> Recount:
    root = tmp_path_factory.mktemp("recount")
    for folder in ("raw_landing", "warehouse"):
        shutil.copytree(published / folder, root / folder, symlinks=True)
    settings = settings_for(root)
    forget_ada(settings)
    marts = {"forgotten": mart_tables(settings.warehouse_path)}
    # What `warehouse run` does: every landed day.
    days = days_to_run(settings)
    assert run_pipeline(settings, *days, instance=DagsterInstance.ephemeral()).success
    marts["next_run"] = mart_tables(settings.warehouse_path)
    run = run_pipeline(settings, *days, full_refresh=True, instance=DagsterInstance.ephemeral())
    assert run.success
    marts["full_refresh"] = mart_tables(settings.warehouse_path)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        tables = catalog.marts(connection)
    return Recount(
        marts,
        columns={table.name: list(table.columns) for table in tables.values()},
        aggregates={table.name for table in tables.values() if not table.person_columns},
    )


def readme_forget_marts() -> list[set[str]]:
    """The marts the README's forget section names in each item of its list of aggregates."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("- **forget**", 1)[1].split("\n- **", 1)[0]
    return [set(re.findall(r"`([a-z_]+)`", item)) for item in section.split("\n  - ")[1:]]


def test_the_next_run_recounts_without_them_the_aggregates_the_readme_names(recount):
    recounted, _, _ = readme_forget_marts()
    runs = ("forgotten", "next_run")

    assert recount.changed(*runs) == recounted
    assert recounted == {
        "dashboard_metrics",
        "retention_cohorts",
        "feature_usage_daily",
        "funnel_results",
        "channels_daily",
        "hourly_rollups",
    }
    one_day = {"as_of_date": DAY_1, "period_days": 1}
    assert recount.values(runs, "dashboard_metrics", "current_value", kpi="dau", **one_day) == [
        [2],
        [1],
    ]
    sessions = recount.values(runs, "dashboard_metrics", "current_value", kpi="sessions", **one_day)
    assert sessions == [[3], [1]]
    weekly = {"cohort_type": "weekly", "cohort_start": date(2026, 2, 23)}
    assert recount.values(runs, "retention_cohorts", "active_persons", **weekly) == [
        [2, 2],
        [1, 1],
    ]
    assert recount.values(runs, "feature_usage_daily", "usage_count", feature="export") == [
        [2],
        [1],
    ]
    signup = {"funnel_id": "signup", "period_type": "daily", "period_start": DAY_1}
    assert recount.values(runs, "funnel_results", "attempts_reached", **signup) == [
        [2, 1, 0],
        [1, 0, 0],
    ]
    # The crawler's hour is recounted; Ada's hour without it, and day 2's, are not.
    hours = [recount.values(runs, "hourly_rollups", "total_events", hour_start=h) for h in HOURS]
    assert hours == [[[9], [4]], [[1], [1]], [[2], [2]]]


def test_the_aggregates_the_readme_says_count_them_until_a_full_refresh_do(recount):
    _, still_counting, never_changed = readme_forget_marts()
    runs = ("next_run", "full_refresh")

    assert recount.changed(*runs) == still_counting
    assert still_counting == {
        "page_analytics_daily",
        "page_analytics_channels_daily",
        "hourly_rollups",
    }
    assert recount.aggregates - recount.changed("forgotten", "next_run") - still_counting == (
        never_changed
    )
    hours = [recount.values(runs, "hourly_rollups", "total_events", hour_start=h) for h in HOURS]
    assert hours == [[[4], [4]], [[1], []], [[2], [1]]]
    pricing = {"view_date": DAY_1, "page_path": "/pricing"}
    assert recount.values(runs, "page_analytics_daily", "page_views", **pricing) == [[2], [1]]
    assert recount.values(runs, "page_analytics_daily", "page_path", view_date=DAY_1) == [
        ["/docs", "/pricing"],
        ["/pricing"],
    ]
