"""The build log: when a dbt build may be skipped because it would change nothing."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from orchestration.builds import (
    Fingerprints,
    code_fingerprint,
    finish_build,
    full_build_is_current,
    incremental_build_is_current,
    raw_fingerprint,
    start_build,
)
from orchestration.contract import EVENTS
from orchestration.landing.loader import load_partition
from orchestration.transform import prune_invocation_dirs
from tests.landing_files import DAY_1, DAY_2, event, write_landing_file

STATE = Fingerprints(code="code-1", raw="raw-1")
WEEK = (date(2026, 3, 1), date(2026, 3, 8))
DAY = (date(2026, 3, 3), date(2026, 3, 4))


def build(connection, step, window, *, state=STATE, succeeded=True, full_refresh=False):
    """Log a build; `succeeded=None` leaves it unfinished, as a build whose process died."""
    started_at = start_build(
        connection, step, window, full_refresh=full_refresh, state=state, actor="test"
    )
    if succeeded is not None:
        finish_build(connection, step, started_at, succeeded=succeeded, actor="test")


def test_nothing_is_current_before_the_first_build(warehouse):
    assert not incremental_build_is_current(warehouse, "incremental", DAY, STATE)
    assert not full_build_is_current(warehouse, "full", "incremental", STATE)


def test_a_window_inside_a_successful_build_with_the_same_state_is_current(warehouse):
    build(warehouse, "incremental", WEEK)

    assert incremental_build_is_current(warehouse, "incremental", DAY, STATE)
    assert incremental_build_is_current(warehouse, "incremental", WEEK, STATE)
    assert not incremental_build_is_current(
        warehouse, "incremental", (date(2026, 3, 7), date(2026, 3, 9)), STATE
    )


def test_a_full_refresh_covers_every_window(warehouse):
    build(warehouse, "incremental", None, full_refresh=True)

    assert incremental_build_is_current(warehouse, "incremental", DAY, STATE)


@pytest.mark.parametrize(
    "state", [Fingerprints("code-2", "raw-1"), Fingerprints("code-1", "raw-2")], ids=str
)
def test_another_project_or_other_raw_data_is_not_current(warehouse, state):
    build(warehouse, "incremental", WEEK)
    build(warehouse, "full", None)

    assert not incremental_build_is_current(warehouse, "incremental", DAY, state)
    assert not full_build_is_current(warehouse, "full", "incremental", state)


def test_a_failed_build_since_makes_the_models_stale(warehouse):
    build(warehouse, "incremental", WEEK)
    build(warehouse, "incremental", DAY, succeeded=False)

    assert not incremental_build_is_current(warehouse, "incremental", DAY, STATE)

    build(warehouse, "incremental", DAY)
    assert incremental_build_is_current(warehouse, "incremental", DAY, STATE)


def test_the_full_models_are_stale_after_a_build_of_the_incremental_ones(warehouse):
    build(warehouse, "incremental", WEEK)
    build(warehouse, "full", None)
    assert full_build_is_current(warehouse, "full", "incremental", STATE)

    build(warehouse, "incremental", DAY)
    assert not full_build_is_current(warehouse, "full", "incremental", STATE)

    build(warehouse, "full", None, succeeded=False)
    assert not full_build_is_current(warehouse, "full", "incremental", STATE)


def test_a_build_that_never_finished_counts_as_failed(warehouse):
    build(warehouse, "incremental", WEEK)
    build(warehouse, "full", None)
    build(warehouse, "incremental", DAY, succeeded=None)
    assert not incremental_build_is_current(warehouse, "incremental", DAY, STATE)
    assert not full_build_is_current(warehouse, "full", "incremental", STATE)

    build(warehouse, "incremental", WEEK)
    build(warehouse, "full", None, succeeded=None)
    assert incremental_build_is_current(warehouse, "incremental", DAY, STATE)
    assert not full_build_is_current(warehouse, "full", "incremental", STATE)
    assert warehouse.execute(
        "select step, succeeded from audit.model_builds where finished_at is null order by all"
    ).fetchall() == [("full", None), ("incremental", None)]


def test_the_raw_fingerprint_follows_loads_but_not_unchanged_reloads(warehouse, raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    load_partition(warehouse, EVENTS, raw_landing, DAY_1)
    loaded = raw_fingerprint(warehouse)

    load_partition(warehouse, EVENTS, raw_landing, DAY_1)
    assert raw_fingerprint(warehouse) == loaded

    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m2")])
    load_partition(warehouse, EVENTS, raw_landing, DAY_2)
    assert raw_fingerprint(warehouse) != loaded

    second = raw_fingerprint(warehouse)
    warehouse.execute("delete from raw.events where message_id = 'm2'")
    assert raw_fingerprint(warehouse) != second


def test_the_code_fingerprint_follows_every_project_file(tmp_path: Path):
    project = tmp_path / "dbt_project"
    (project / "models").mkdir(parents=True)
    (project / "macros").mkdir()
    (project / "dbt_project.yml").write_text("name: x\n")
    (project / "models" / "a.sql").write_text("select 1")
    first = code_fingerprint(project)
    assert code_fingerprint(project) == first

    (project / "macros" / "m.sql").write_text("{% macro m() %}1{% endmacro %}")
    second = code_fingerprint(project)
    (project / "models" / "a.sql").write_text("select 2")
    third = code_fingerprint(project)
    (project / "target").mkdir()
    (project / "target" / "manifest.json").write_text("{}")

    assert len({first, second, third}) == 3
    assert code_fingerprint(project) == third


def test_only_the_newest_invocation_folders_of_a_step_are_kept(tmp_path: Path):
    target = tmp_path / "target"
    for age, name in enumerate(
        ["dbt_models-aaaaaaa-1", "dbt_models-bbbbbbb-2", "dbt_models-ccccccc-3"]
    ):
        folder = target / name
        folder.mkdir(parents=True)
        (folder / "run_results.json").write_text("{}")
        os.utime(folder, (1_000_000 - age, 1_000_000 - age))
    other_step = target / "dbt_incremental_models-ddddddd-4"
    other_step.mkdir()
    os.utime(other_step, (1, 1))
    (target / "manifest.json").write_text("{}")

    prune_invocation_dirs(target, "dbt_models", keep=2)

    assert sorted(p.name for p in target.iterdir()) == [
        "dbt_incremental_models-ddddddd-4",
        "dbt_models-aaaaaaa-1",
        "dbt_models-bbbbbbb-2",
        "manifest.json",
    ]
