"""What changed since the last dbt build, read from the load manifest; and the build log."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import date, datetime
from pathlib import Path

from orchestration.audit import record_action
from orchestration.builds import (
    build_code,
    build_label,
    code_fingerprint,
    engine_of,
    finish_build,
    finish_selection_build,
    forgotten_since_last_build,
    last_build_code,
    pending_days,
    start_build,
    unsettled_builds,
    window_of,
)
from orchestration.contract import EVENTS
from orchestration.landing.loader import load_partition
from orchestration.maintenance import cleanup
from orchestration.settings import Settings
from orchestration.transform import (
    DBT_STEP,
    _environment,
    _why_rebuild_everything,
    dbt_environment,
    dbt_resource,
    parse_for_runs,
    prune_invocation_dirs,
    results_summary,
)
from tests.landing_files import DAY_1, DAY_2, DAY_3, event, write_landing_file


def build(connection, *, succeeded=True, code="code-1", window=None, selection=False):
    """Log a build; `succeeded=None` leaves it unfinished, as a build whose process died;
    `selection` ends it as a build of a selection of models."""
    started_at = start_build(
        connection, "dbt_models", window, full_refresh=False, code=code, actor="test"
    )
    if selection:
        finish_selection_build(connection, "dbt_models", started_at, actor="test")
    elif succeeded is not None:
        finish_build(connection, "dbt_models", started_at, succeeded=succeeded, actor="test")
    return started_at


def land(connection, raw_landing, day, *message_ids, name="part-0.parquet"):
    write_landing_file(raw_landing, EVENTS, day, name, [event(m) for m in message_ids])
    load_partition(connection, EVENTS, raw_landing, day)


def test_every_loaded_day_is_pending_before_the_first_build(warehouse, raw_landing):
    assert pending_days(warehouse) == []

    land(warehouse, raw_landing, DAY_1, "m1")
    land(warehouse, raw_landing, DAY_3, "m3")

    assert pending_days(warehouse) == [DAY_1, DAY_3]
    assert last_build_code(warehouse) is None


def test_a_successful_build_leaves_nothing_pending_and_an_unchanged_reload_changes_nothing(
    warehouse, raw_landing
):
    land(warehouse, raw_landing, DAY_1, "m1")
    build(warehouse)
    load_partition(warehouse, EVENTS, raw_landing, DAY_1)

    assert pending_days(warehouse) == []
    assert last_build_code(warehouse) == "code-1"


def test_a_new_day_a_redelivered_file_and_a_removed_file_are_pending(warehouse, raw_landing):
    land(warehouse, raw_landing, DAY_1, "m1")
    land(warehouse, raw_landing, DAY_2, "m2")
    land(warehouse, raw_landing, DAY_2, "m2b", name="part-1.parquet")
    build(warehouse)

    land(warehouse, raw_landing, DAY_3, "m3")
    assert pending_days(warehouse) == [DAY_3]

    land(warehouse, raw_landing, DAY_1, "m1", "m1-again")
    assert pending_days(warehouse) == [DAY_1, DAY_3]

    (raw_landing / "events" / f"date={DAY_2}" / "part-1.parquet").unlink()
    load_partition(warehouse, EVENTS, raw_landing, DAY_2)
    assert pending_days(warehouse) == [DAY_1, DAY_2, DAY_3]


def test_a_failed_or_unfinished_build_leaves_its_days_pending(warehouse, raw_landing):
    land(warehouse, raw_landing, DAY_1, "m1")
    build(warehouse)
    land(warehouse, raw_landing, DAY_2, "m2")

    build(warehouse, succeeded=False)
    assert pending_days(warehouse) == [DAY_2]
    assert last_build_code(warehouse) is None

    build(warehouse, succeeded=None)
    assert pending_days(warehouse) == [DAY_2]
    assert last_build_code(warehouse) is None
    assert warehouse.execute(
        "select count(*) from audit.model_builds where finished_at is null"
    ).fetchone() == (1,)

    build(warehouse, code="code-2")
    assert pending_days(warehouse) == []
    assert last_build_code(warehouse) == "code-2"


def test_a_change_by_hand_or_a_forget_is_no_load(warehouse, raw_landing):
    land(warehouse, raw_landing, DAY_1, "m1", "m2")
    build(warehouse)
    warehouse.execute("delete from raw.events where message_id = 'm2'")
    warehouse.execute("update raw.load_manifest set rows_loaded = rows_loaded - 1")

    # The blocking landing checks catch a table changed by hand; the build follows loads.
    assert pending_days(warehouse) == []


def test_days_cleanup_ages_out_are_not_pending(warehouse, raw_landing, tmp_path):
    land(warehouse, raw_landing, DAY_1, "m1")
    land(warehouse, raw_landing, DAY_3, "m3")
    build(warehouse)
    settings = dataclasses.replace(
        Settings.from_env(),
        raw_landing_dir=raw_landing,
        warehouse_dir=tmp_path / "w",
        raw_retention_days=10,
    )
    cleanup(
        warehouse,
        settings,
        now=datetime(2026, 3, 12, 12),  # DAY_1 is 11 days old, DAY_3 9
        actor="test",
    )

    manifest_days = warehouse.execute("select distinct landing_date from raw.load_manifest")
    assert manifest_days.fetchall() == [(DAY_3,)]
    assert pending_days(warehouse) == []


def test_a_warehouse_built_before_load_states_were_kept_adopts_its_last_build(
    warehouse, raw_landing
):
    land(warehouse, raw_landing, DAY_1, "m1")
    build(warehouse)
    warehouse.execute("drop table audit.built_arrival_days")
    land(warehouse, raw_landing, DAY_2, "m2")

    assert pending_days(warehouse) == [DAY_2]


def test_the_window_runs_from_the_first_to_the_last_day():
    assert window_of([]) is None
    assert window_of([DAY_3, DAY_1]) == (DAY_1, date(2026, 3, 4))
    assert window_of([DAY_2], (date(2026, 3, 5), date(2026, 3, 6))) == (DAY_2, date(2026, 3, 6))
    assert window_of([], (DAY_1, DAY_2)) == (DAY_1, DAY_2)


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


def test_a_parse_for_the_runs_of_a_warehouse_is_one_their_dbt_re_uses(tmp_path: Path):
    """dbt parses everything again when the profile it runs with (the warehouse's path) is not
    the one of the parse it is given: parse_for_runs parses with the runs' profile."""
    settings = dataclasses.replace(Settings.from_env(), warehouse_dir=tmp_path / "warehouse")

    folder = parse_for_runs(settings)

    assert folder.name.startswith(f"{DBT_STEP}-parse-")
    assert (folder / "partial_parse.msgpack").is_file()
    parsed_at = (folder / "partial_parse.msgpack").stat().st_mtime_ns
    with _environment(dbt_environment(settings, None)):
        dbt_resource(settings).cli(["parse"], target_path=folder, raise_on_error=True).wait()
    second_parse = (folder / "dbt.log").read_text().rsplit("Running with dbt", 1)[1]
    assert "Unable to do partial parsing" not in second_parse
    assert "skipping parsing" in second_parse
    assert (folder / "partial_parse.msgpack").stat().st_mtime_ns >= parsed_at


def test_the_builds_since_the_last_successful_one_are_unsettled_until_one_succeeds(warehouse):
    assert unsettled_builds(warehouse) is None
    build(warehouse, window=(DAY_1, DAY_2))
    assert unsettled_builds(warehouse) is None

    failed = build(warehouse, succeeded=False, window=(DAY_2, DAY_3))
    build(warehouse, selection=True, window=(DAY_3, date(2026, 3, 4)))
    build(warehouse, succeeded=None, window=(DAY_2, DAY_3))
    unsettled = unsettled_builds(warehouse)

    assert unsettled is not None
    assert unsettled.label == build_label(failed) == f"build {failed:%Y-%m-%dT%H:%M:%S.%f}"
    assert sorted(set(unsettled.days)) == [DAY_2, DAY_3]
    assert not unsettled.every_day
    # A build of a selection is neither success nor failure: the last one that counts stopped.
    assert last_build_code(warehouse) is None

    build(warehouse, succeeded=False)
    assert unsettled_builds(warehouse).every_day

    build(warehouse)
    assert unsettled_builds(warehouse) is None


def test_a_build_of_a_selection_does_not_hide_the_last_successful_build(warehouse):
    build(warehouse, code="code-1")
    build(warehouse, code="code-1", selection=True)

    assert last_build_code(warehouse) == "code-1"
    assert unsettled_builds(warehouse).label.startswith("build ")


def test_a_forget_after_the_last_successful_build_asks_spark_for_a_full_refresh(warehouse):
    def forget() -> None:
        record_action(warehouse, "forget", "person", actor="test", rows_affected=3)

    # Before any build there is nothing to rebuild: the first build reads what raw holds.
    forget()
    assert not forgotten_since_last_build(warehouse)
    build(warehouse)
    assert not forgotten_since_last_build(warehouse)

    forget()
    assert forgotten_since_last_build(warehouse)
    # A failed build, or one of a selection of models, has not rebuilt everything.
    build(warehouse, succeeded=False)
    build(warehouse, selection=True)
    assert forgotten_since_last_build(warehouse)
    build(warehouse)
    assert not forgotten_since_last_build(warehouse)


def test_a_build_records_its_engine_so_that_a_switch_is_seen(tmp_path: Path):
    project = tmp_path / "dbt_project"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: p\n")

    on_duckdb = build_code(project, "duckdb")
    on_spark = build_code(project, "spark")

    # DuckDB's record is the project's fingerprint, as before engines were recorded.
    assert on_duckdb == code_fingerprint(project)
    assert on_spark == f"spark:{on_duckdb}"
    assert (engine_of(on_duckdb), engine_of(on_spark)) == ("duckdb", "spark")


def test_on_spark_a_change_of_the_dbt_project_rebuilds_every_model(warehouse, tmp_path: Path):
    duckdb_settings = dataclasses.replace(Settings.from_env(), warehouse_dir=tmp_path / "warehouse")
    spark = dataclasses.replace(duckdb_settings, warehouse_engine="spark")
    (spark.spark_tables_dir / "marts.db" / "sessions").mkdir(parents=True)
    build(warehouse, code="spark:code-1")

    # A model may now partition its table otherwise: Spark lays every table out again.
    assert "the dbt project changed" in _why_rebuild_everything(
        warehouse, spark, "spark:code-1", "spark:code-2", None
    )
    assert _why_rebuild_everything(warehouse, spark, "spark:code-1", "spark:code-1", None) is None
    # DuckDB builds every day in its tables as they are (the step's own branch).
    assert _why_rebuild_everything(warehouse, duckdb_settings, "code-1", "code-2", None) is None


def write_manifest(path: Path, models: dict[str, tuple[str, list[str]]]) -> Path:
    """A parsed project's manifest with incremental models `schema.table` of these columns
    (materialization first), as dbt writes it."""
    nodes = {
        f"model.p.{relation.split('.')[1]}": {
            "unique_id": f"model.p.{relation.split('.')[1]}",
            "resource_type": "model",
            "schema": relation.split(".")[0],
            "alias": relation.split(".")[1],
            "config": {"materialized": materialized},
            "columns": {name: {"name": name} for name in columns},
        }
        for relation, (materialized, columns) in models.items()
    }
    path.write_text(json.dumps({"nodes": nodes}))
    return path


def test_on_duckdb_a_change_of_an_incremental_models_columns_rebuilds_every_model(
    warehouse, tmp_path: Path
):
    settings = dataclasses.replace(Settings.from_env(), warehouse_dir=tmp_path / "warehouse")
    warehouse.execute("create schema intermediate")
    warehouse.execute("create table intermediate.narrow (message_id varchar, event_time timestamp)")
    warehouse.execute("create schema marts")
    warehouse.execute("create table marts.daily (day date, n bigint)")
    build(warehouse, code="code-1")
    manifest = write_manifest(
        tmp_path / "manifest.json",
        {
            "intermediate.narrow": ("incremental", ["message_id", "event_name"]),
            "marts.daily": ("incremental", ["day", "n"]),
            # A model without a table yet, or stored otherwise, is built anew anyway.
            "marts.new": ("incremental", ["x"]),
            "marts.summary": ("table", ["y"]),
        },
    )

    why = _why_rebuild_everything(warehouse, settings, "code-1", "code-2", None, manifest)

    assert why == (
        "the dbt project changed the columns of intermediate.narrow (adds event_name; drops "
        "event_time), and an incremental run reads and writes its table as it is"
    )
    # Also after a failed build, which left no code to compare with.
    assert _why_rebuild_everything(warehouse, settings, None, "code-2", None, manifest) == why
    # Unchanged code, or columns as declared: the tables go on.
    assert _why_rebuild_everything(warehouse, settings, "code-2", "code-2", None, manifest) is None
    warehouse.execute("alter table intermediate.narrow drop column event_time")
    warehouse.execute("alter table intermediate.narrow add column event_name varchar")
    assert _why_rebuild_everything(warehouse, settings, "code-1", "code-2", None, manifest) is None


def test_the_dbt_step_says_what_dbt_did_by_kind_and_status():
    results = [
        ("model.p.sessions", "success"),
        ("model.p.users", "success"),
        ("test.p.not_null_sessions_key", "pass"),
        ("test.p.unique_sessions_key", "fail"),
        ("unit_test.p.sessions.split", "pass"),
        ("seed.p.funnel_definitions", "success"),
        ("operation.p.on-run-start.0", "success"),
    ]
    run_results = {"results": [{"unique_id": u, "status": s} for u, s in results]}

    assert results_summary(run_results) == (
        "2 models success, 1 seeds success, 1 data tests fail, 1 data tests pass, "
        "1 unit tests pass, 1 operation success"
    )
    assert results_summary({"results": []}) == "no nodes ran"
