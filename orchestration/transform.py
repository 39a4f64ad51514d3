"""The dbt project as Dagster assets.

Two groups of dbt nodes, so that lineage stays one directed graph:
- the incremental models and everything upstream of them share the landing assets' daily
  partitions: a run over a range of arrival days passes it to dbt as `min_date` / `max_date`
  (half-open), in one dbt invocation;
- every other node (the marts rebuilt from the incremental tables, seeds) is unpartitioned and
  built once after them.
dbt tests become asset checks; an error-severity test blocks what depends on its model.
"""

import json
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetsDefinition,
    BackfillPolicy,
    Config,
    Output,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliInvocation,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.builds import (
    Fingerprints,
    discard_build,
    fingerprints,
    finish_build,
    full_build_is_current,
    incremental_build_is_current,
    start_build,
)
from orchestration.coordination import file_lock, record_worker, warehouse_lock
from orchestration.partitions import daily_partitions
from orchestration.publishing import publication_is_current
from orchestration.resources import WAREHOUSE_WRITER_POOL
from orchestration.settings import Settings

INCREMENTAL_SELECTION = "+config.materialized:incremental"
INCREMENTAL_STEP = "dbt_incremental_models"
FULL_STEP = "dbt_models"
# A test runs with the group that builds all of its parents (a relationships test from a mart
# to an incremental model runs with the mart), never before one of them exists. Unit tests
# check the SQL, not the data: the test suite runs them, pipeline runs do not (dbt's advice).
BUILD = ["build", "--indirect-selection", "buildable", "--exclude-resource-type", "unit_test"]
# dagster-dbt gives every invocation its own `target/<step>-<run>-<id>/` (artifacts, compiled
# SQL, a copy of the manifest); only the newest are kept per step.
KEEP_INVOCATIONS = 10


class DbtBuildConfig(Config):
    full_refresh: bool = False
    """Rebuild every model from all raw data instead of the partition window."""
    force: bool = False
    """Build even when the project and the raw data are as they were at the last build."""


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """dbt nodes as assets keyed `<schema>/<name>` (the relation), grouped by layer; owners
    are dagster-dbt's default, `meta.dagster.owners` (declared in dbt_project.yml)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["schema"]


TRANSLATOR = WarehouseDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def _newest_source_mtime(project_dir: Path) -> float:
    files = [project_dir / "dbt_project.yml"]
    for folder in ("models", "macros", "seeds", "tests"):
        files.extend(p for p in (project_dir / folder).rglob("*") if p.is_file())
    return max(p.stat().st_mtime for p in files)


def dbt_executable() -> str:
    """The dbt of this Python environment, so nothing depends on what PATH holds."""
    return str(Path(sys.executable).with_name("dbt"))


@cache
def dbt_project(project_dir: Path) -> DbtProject:
    """The dbt project with an up-to-date manifest, prepared once per process.

    Unlike `prepare_if_dev()`, which parses only under `dagster dev`, this parses whenever the
    manifest is missing or older than a project file, so the CLI, tests and the UI all load the
    project as it is on disk, and nothing parses when nothing changed.
    """
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    manifest = project.manifest_path
    # One process parses at a time (a run and `dagster dev` may start together); the others
    # wait, then find the manifest current.
    with file_lock(manifest.with_name("parse.lock"), "dbt parse"):
        if not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime(project_dir):
            DbtCliResource(project_dir=project, dbt_executable=dbt_executable()).cli(
                ["parse", "--quiet"], target_path=project.target_path, raise_on_error=True
            ).wait()
    return project


def dbt_resource(settings: Settings) -> DbtCliResource:
    return DbtCliResource(
        project_dir=dbt_project(settings.dbt_project_dir), dbt_executable=dbt_executable()
    )


def _relations(manifest_path: Path) -> dict[AssetKey, str]:
    """The warehouse table (`schema.name`) behind each model and seed asset that stores rows.

    Views are left out: they hold no rows of their own, and counting one runs its query.
    """
    manifest = json.loads(manifest_path.read_text())
    return {
        TRANSLATOR.get_asset_key(node): f'"{node["schema"]}"."{node["alias"]}"'
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
        and node["config"].get("materialized") != "view"
    }


def _with_row_counts(
    context: AssetExecutionContext,
    invocation: DbtCliInvocation,
    warehouse_path: Path,
    relations: dict[AssetKey, str],
) -> Iterator[Output | AssetMaterialization | AssetCheckResult]:
    """Stream dbt's events, adding `dagster/row_count` to every table's materialization.

    The counts are read once dbt has exited: while it runs, the dbt process holds DuckDB's
    write lock on the warehouse file.
    """
    events = list(invocation.stream())
    keys = {
        event.asset_key
        if isinstance(event, AssetMaterialization)
        else context.asset_key_for_output(event.output_name)
        for event in events
        if isinstance(event, Output | AssetMaterialization)
    }
    counts: dict[AssetKey, int] = {}
    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        for key in keys & relations.keys():
            counts[key] = connection.execute(f"select count(*) from {relations[key]}").fetchone()[0]
    for event in events:
        if isinstance(event, Output):
            key = context.asset_key_for_output(event.output_name)
            if key in counts:
                event = event.with_metadata({**event.metadata, "dagster/row_count": counts[key]})
        elif isinstance(event, AssetMaterialization) and event.asset_key in counts:
            event = event.with_metadata(
                {**event.metadata, "dagster/row_count": counts[event.asset_key]}
            )
        yield event


def prune_invocation_dirs(target_dir: Path, step: str, keep: int = KEEP_INVOCATIONS) -> None:
    """Remove all but the `keep` newest invocation folders of `step` under `target_dir`."""
    folders = sorted(
        (p for p in target_dir.glob(f"{step}-*-*") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for folder in folders[keep:]:
        shutil.rmtree(folder, ignore_errors=True)


def dbt_environment(settings: Settings, window: tuple[date, date] | None) -> dict[str, str]:
    """What a dbt invocation is told through the environment rather than `--vars`.

    dbt parses the whole project again whenever its vars change, which would be every run (the
    window moves). The warehouse (profiles.yml) and the window (`window_bound` in
    macros/incremental.sql, read only when SQL is compiled for execution) are environment
    variables instead, so each invocation re-uses the previous one's parse.
    """
    return {
        "WAREHOUSE_DIR": str(settings.warehouse_dir),
        "WAREHOUSE_MIN_DATE": window[0].isoformat() if window else "",
        "WAREHOUSE_MAX_DATE": window[1].isoformat() if window else "",
    }


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """`values` set in os.environ for the block (dagster-dbt gives dbt a copy of it)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def invocation_target(target_dir: Path, step: str, run_id: str) -> Path:
    """A new artifacts folder for one dbt invocation, named as dagster-dbt names them, holding
    the newest partial parse left by an invocation of either step.

    Left to itself, dagster-dbt would copy the partial parse of the `dbt parse` that prepared
    the manifest, made with another profile path, so dbt would parse the whole project again.
    dbt checks what it re-uses (project files, vars, profile) and re-parses what changed.
    """
    folder = (target_dir / f"{step}-{run_id[:7]}-{uuid.uuid4().hex[:7]}").resolve()
    folder.mkdir(parents=True)
    parses = [
        path
        for name in (INCREMENTAL_STEP, FULL_STEP)
        for path in target_dir.glob(f"{name}-*-*/partial_parse.msgpack")
    ]
    if parses:
        newest = max(parses, key=lambda path: path.stat().st_mtime)
        shutil.copy2(newest, folder / newest.name)
    return folder


def _build(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    settings: Settings,
    relations: dict[AssetKey, str],
    args: list[str],
    *,
    step_keys: Collection[AssetKey],
    window: tuple[date, date] | None,
    config: DbtBuildConfig,
    is_current: Callable[[duckdb.DuckDBPyConnection, Fingerprints], bool],
) -> Iterator[Any]:
    """Run one dbt invocation and log it in `audit.model_builds`; skip it, materializing
    nothing, when `is_current` says it would change nothing.

    A run with `force` or `full_refresh` always builds. A run of some of the step's models
    (a selection in the UI) is never skipped, and stays in the log only if it fails: its success
    says nothing of the models it did not build. The step holds the warehouse lock throughout.
    """
    step = context.op_execution_context.op.name
    record_worker(context.instance, context.run_id)
    with warehouse_lock(
        settings.warehouse_path, f"dagster run {context.run_id}", say=context.log.info
    ):
        yield from _build_under_lock(
            context, dbt, settings, relations, args, step, step_keys, window, config, is_current
        )


def _build_under_lock(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    settings: Settings,
    relations: dict[AssetKey, str],
    args: list[str],
    step: str,
    step_keys: Collection[AssetKey],
    window: tuple[date, date] | None,
    config: DbtBuildConfig,
    is_current: Callable[[duckdb.DuckDBPyConnection, Fingerprints], bool],
) -> Iterator[Any]:
    whole_step = set(context.selected_asset_keys) == set(step_keys)
    may_skip = whole_step and not (config.full_refresh or config.force)
    actor = f"dagster run {context.run_id}"
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        state = fingerprints(connection, settings.dbt_project_dir)
        if may_skip and is_current(connection, state):
            if publication_is_current(connection, settings):
                context.log.info(
                    f"{step}: the dbt project and the raw data are as they were at its last "
                    "successful build, and the current publication holds what it built; nothing "
                    "to build (run with force or full_refresh to build anyway)."
                )
                return
            context.log.info(
                f"{step}: the models are current, but the current publication does not hold "
                "their last build (a run stopped before publishing): building them again so "
                "that this run publishes."
            )
        started_at = start_build(
            connection, step, window, full_refresh=config.full_refresh, state=state, actor=actor
        )
    # Room for this invocation's folder among the newest KEEP_INVOCATIONS.
    project = dbt_project(settings.dbt_project_dir)
    target_dir = project.project_dir / project.target_path
    prune_invocation_dirs(target_dir, step, keep=KEEP_INVOCATIONS - 1)
    target_path = invocation_target(target_dir, step, context.run_id)
    succeeded = False
    try:
        with _environment(dbt_environment(settings, window)):
            invocation = dbt.cli(args, context=context, target_path=target_path)
        yield from _with_row_counts(context, invocation, settings.warehouse_path, relations)
        succeeded = True
    finally:
        with duckdb.connect(str(settings.warehouse_path)) as connection:
            if whole_step or not succeeded:
                finish_build(connection, step, started_at, succeeded=succeeded, actor=actor)
            else:
                # The success of a build of some of the step's models says nothing of the others.
                discard_build(connection, step, started_at, actor=actor)


def build_dbt_assets(settings: Settings) -> list[AssetsDefinition]:
    project = dbt_project(settings.dbt_project_dir)
    relations = _relations(project.manifest_path)

    @dbt_assets(
        manifest=project.manifest_path,
        select=INCREMENTAL_SELECTION,
        name=INCREMENTAL_STEP,
        project=project,
        dagster_dbt_translator=TRANSLATOR,
        partitions_def=daily_partitions(settings),
        backfill_policy=BackfillPolicy.single_run(),
        pool=WAREHOUSE_WRITER_POOL,
    )
    def incremental_models(
        context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
    ) -> Iterator[Any]:
        if config.full_refresh:
            args = [*BUILD, "--full-refresh"]
            window = None
        else:
            time_window = context.partition_time_window
            window = (time_window.start.date(), time_window.end.date())
            args = BUILD

        def is_current(connection: duckdb.DuckDBPyConnection, state: Fingerprints) -> bool:
            # When this step materializes nothing, Dagster skips the models downstream of it:
            # so it skips only when those are current too.
            return incremental_build_is_current(
                connection, INCREMENTAL_STEP, window, state
            ) and full_build_is_current(connection, FULL_STEP, INCREMENTAL_STEP, state)

        yield from _build(
            context,
            dbt,
            settings,
            relations,
            args,
            step_keys=incremental_models.keys,
            window=window,
            config=config,
            is_current=is_current,
        )

    @dbt_assets(
        manifest=project.manifest_path,
        exclude=INCREMENTAL_SELECTION,
        name=FULL_STEP,
        project=project,
        dagster_dbt_translator=TRANSLATOR,
        pool=WAREHOUSE_WRITER_POOL,
    )
    def models(
        context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
    ) -> Iterator[Any]:
        args = [*BUILD, "--full-refresh"] if config.full_refresh else BUILD

        def is_current(connection: duckdb.DuckDBPyConnection, state: Fingerprints) -> bool:
            return full_build_is_current(connection, FULL_STEP, INCREMENTAL_STEP, state)

        yield from _build(
            context,
            dbt,
            settings,
            relations,
            args,
            step_keys=models.keys,
            window=None,
            config=config,
            is_current=is_current,
        )

    return [incremental_models, models]
