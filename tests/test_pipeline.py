"""The main job end to end, in process: landing, checks, every dbt model and test.

Nine days of generated traffic are loaded twice: once as the days arrive (two days, then a
backfill of the next seven as one run, in the same Python process), once as a full refresh of
all nine. The marts must be the same.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, ExecuteInProcessResult, materialize

from orchestration.builds import unsettled_builds
from orchestration.cli import run_pipeline
from orchestration.generator.config import GeneratorConfig
from orchestration.generator.generate import generate
from orchestration.settings import Settings
from orchestration.transform import build_dbt_assets, dbt_resource

FIRST_DAY, LAST_DAY = date(2026, 3, 1), date(2026, 3, 9)


@pytest.fixture(scope="module")
def raw_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("pipeline") / "raw_landing"
    generate(GeneratorConfig(out=raw, days=9, events=4000, seed=11, end_date=LAST_DAY))
    return raw


def settings_for(raw: Path, warehouse_dir: Path, dbt_project_dir: Path | None = None) -> Settings:
    settings = dataclasses.replace(
        Settings.from_env(), raw_landing_dir=raw, warehouse_dir=warehouse_dir
    )
    if dbt_project_dir is not None:
        settings = dataclasses.replace(settings, dbt_project_dir=dbt_project_dir)
    return settings


def mart_tables(warehouse_path: Path) -> dict[str, list[tuple]]:
    """Every table of the marts schema, its rows sorted, doubles rounded to 9 digits (sums
    over the same values in another order may differ in the last bits)."""

    def normalized(value: object) -> object:
        if isinstance(value, float) and math.isfinite(value):
            return float(f"{value:.9g}")
        return value

    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by table_name"
            ).fetchall()
        ]
        return {
            table: sorted(
                (
                    tuple(normalized(v) for v in row)
                    for row in connection.execute(f'select * from marts."{table}"').fetchall()
                ),
                key=repr,
            )
            for table in tables
        }


@dataclass
class Runs:
    arriving: Settings
    full: Settings
    first: ExecuteInProcessResult
    backfill: ExecuteInProcessResult
    rebuild: ExecuteInProcessResult
    arriving_run_count: int


@pytest.fixture(scope="module")
def runs(raw_days: Path, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Two days, then a seven-day backfill as one run, in one process and one instance; and a
    full refresh of all nine days in another warehouse."""
    root = tmp_path_factory.mktemp("warehouses")
    # A dbt project of their own: its target/ (partial parses, invocation folders) then holds
    # only these runs', whatever else runs dbt meanwhile.
    project = root / "dbt_project"
    shutil.copytree(
        Settings.from_env().dbt_project_dir,
        project,
        ignore=shutil.ignore_patterns("target", "logs"),
    )
    arriving, full = (
        settings_for(raw_days, root / "arriving", project),
        settings_for(raw_days, root / "full", project),
    )
    instance = DagsterInstance.ephemeral()
    first = run_pipeline(arriving, FIRST_DAY, date(2026, 3, 2), instance=instance)
    backfill = run_pipeline(arriving, date(2026, 3, 3), LAST_DAY, instance=instance)
    rebuild = run_pipeline(
        full, FIRST_DAY, LAST_DAY, full_refresh=True, instance=DagsterInstance.ephemeral()
    )
    return Runs(arriving, full, first, backfill, rebuild, len(instance.get_run_records()))


def test_every_run_succeeds_in_the_same_process(runs):
    assert runs.first.success
    assert runs.backfill.success
    assert runs.rebuild.success


def test_a_seven_day_backfill_is_one_run_that_loads_every_day(runs):
    landing = runs.backfill.asset_materializations_for_node("raw__events")

    assert runs.arriving_run_count == 2
    assert sorted(m.partition for m in landing) == [f"2026-03-0{day}" for day in range(3, 10)]


def test_days_loaded_as_they_arrive_equal_a_full_refresh(runs):
    incremental = mart_tables(runs.arriving.warehouse_path)
    rebuilt = mart_tables(runs.full.warehouse_path)

    assert set(incremental) == set(rebuilt)
    assert len(incremental["sessions"]) > 100
    for table, rows in rebuilt.items():
        assert incremental[table] == rows, f"marts.{table} differs from a full refresh"


def test_every_table_model_reports_its_row_count_and_no_view_does(runs):
    counts = {
        materialization.asset_key: materialization.metadata.get("dagster/row_count")
        for materialization in runs.rebuild.asset_materializations_for_node("dbt_models")
    }
    with duckdb.connect(str(runs.full.warehouse_path), read_only=True) as connection:
        sessions = connection.execute("select count(*) from marts.sessions").fetchone()[0]

    assert counts[AssetKey(["marts", "sessions"])].value == sessions
    assert counts[AssetKey(["marts", "funnel_results"])] is not None
    assert counts[AssetKey(["intermediate", "int_event_sessions"])] is not None
    assert counts[AssetKey(["intermediate", "int_events"])] is None
    assert counts[AssetKey(["staging", "stg_events"])] is None


def test_relationship_tests_are_evaluated_as_checks(runs):
    evaluations = {
        (evaluation.asset_key.to_user_string(), evaluation.check_name): evaluation.passed
        for evaluation in runs.first.get_asset_check_evaluations()
        if evaluation.check_name.startswith("relationships_")
    }

    assert len(evaluations) == 6
    assert all(evaluations.values())
    assert (
        "marts/page_views",
        "relationships_page_views_session_key__session_key__ref_sessions_",
    ) in evaluations


def test_a_run_with_nothing_new_builds_nothing_and_a_partial_build_is_logged_as_neither(runs):
    settings = runs.arriving
    day = {
        "dagster/asset_partition_range_start": LAST_DAY.isoformat(),
        "dagster/asset_partition_range_end": LAST_DAY.isoformat(),
    }

    again = run_pipeline(settings, LAST_DAY, LAST_DAY, instance=DagsterInstance.ephemeral())
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        builds = connection.execute(
            "select step, window_start, window_end, succeeded from audit.model_builds "
            "order by finished_at"
        ).fetchall()
    (models,) = build_dbt_assets(settings)
    sessions_only = materialize(
        [models],
        selection=[AssetKey(["marts", "sessions"])],
        resources={"dbt": dbt_resource(settings)},
        tags=day,
        instance=DagsterInstance.ephemeral(),
    )
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        selection = connection.execute(
            "select step, window_start, window_end, succeeded, finished_at is not null "
            "from audit.model_builds order by started_at desc limit 1"
        ).fetchone()
        unsettled = unsettled_builds(connection)
    settled = run_pipeline(settings, LAST_DAY, LAST_DAY, instance=DagsterInstance.ephemeral())
    settled_by = last_build(settings)

    assert again.success
    assert again.asset_materializations_for_node("dbt_models") == []
    assert builds == [
        ("dbt_models", FIRST_DAY, date(2026, 3, 3), True),
        ("dbt_models", date(2026, 3, 3), date(2026, 3, 10), True),
    ]
    assert sessions_only.success
    assert [event.asset_key for event in sessions_only.get_asset_materialization_events()] == [
        AssetKey(["marts", "sessions"])
    ]
    # Its success says nothing of the other models: the next build goes on from it.
    assert selection == ("dbt_models", LAST_DAY, date(2026, 3, 10), None, True)
    assert unsettled is not None and unsettled.days == [LAST_DAY, LAST_DAY]
    assert settled.success
    assert settled_by == (LAST_DAY, date(2026, 3, 10), True)


def last_build(settings: Settings) -> tuple:
    """The window and outcome of the newest build in the build log."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        return connection.execute(
            "select window_start, window_end, succeeded from audit.model_builds "
            "order by finished_at desc limit 1"
        ).fetchone()


def test_a_backfill_rebuilds_the_days_it_is_given_though_nothing_changed(runs):
    from orchestration.definitions import build_definitions

    settings = runs.arriving
    before = mart_tables(settings.warehouse_path)
    result = (
        build_definitions(settings)
        .resolve_job_def("backfill")
        .execute_in_process(
            instance=DagsterInstance.ephemeral(),
            run_config={
                "ops": {
                    "dbt_models": {
                        "config": {
                            "force": True,
                            "start_date": "2026-03-04",
                            "end_date": "2026-03-05",
                        }
                    }
                }
            },
        )
    )
    last = last_build(settings)

    assert result.success
    assert last == (date(2026, 3, 4), date(2026, 3, 6), True)
    assert mart_tables(settings.warehouse_path) == before


def test_a_forced_run_of_one_partition_builds_that_day(runs):
    from orchestration.definitions import build_definitions

    settings = runs.arriving
    result = (
        build_definitions(settings)
        .resolve_job_def("main")
        .execute_in_process(
            instance=DagsterInstance.ephemeral(),
            partition_key="2026-03-07",
            run_config={"ops": {"dbt_models": {"config": {"force": True}}}},
        )
    )
    last = last_build(settings)

    assert result.success
    assert last == (date(2026, 3, 7), date(2026, 3, 8), True)


def test_a_dbt_invocation_reuses_the_parse_of_the_one_before(runs):
    # The window and the warehouse reach dbt through the environment, not `--vars`, and each
    # invocation starts from the newest partial parse: so after the first run's, dbt re-parses
    # nothing. (The full refresh, on another warehouse, has another profile and re-parses once.)
    target = runs.arriving.dbt_project_dir / "target"

    def reparsed(run: ExecuteInProcessResult) -> dict[str, bool]:
        # dbt rotates its log at 10 MB (dbt.log.1, ...): the parse is logged in one of them.
        invocations = sorted(target.glob(f"dbt_*-{run.run_id[:7]}-*"))
        return {
            invocation.name.split("-")[0]: any(
                "Unable to do partial parsing" in log.read_text()
                for log in invocation.glob("dbt.log*")
            )
            for invocation in invocations
        }

    assert reparsed(runs.backfill) == {"dbt_models": False}
    assert reparsed(runs.rebuild) == {"dbt_models": True}
