"""The dbt project as Dagster assets, built by one dbt invocation per run.

The dbt assets are not partitioned: what a run builds is decided from the load manifest, not
from the run's partitions (`orchestration/builds.py`). The step builds the window of arrival days
from the first day whose loads changed since the last successful build to the last, and nothing
when no day changed (passing it to dbt as `min_date` / `max_date`, half-open); the days the run
covers are built too when asked (`force`), when the project changed since the last build, or
when the current publication does not hold the last build. dbt tests become asset checks; an
error-severity test blocks what depends on its model.
"""

import json
import os
import shutil
import sys
import uuid
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, timedelta
from functools import cache, cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import duckdb
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetObservation,
    AssetsDefinition,
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
from packaging.version import Version

from orchestration.builds import (
    Unsettled,
    Window,
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
    tables_with_other_columns,
    unsettled_builds,
    window_of,
)
from orchestration.coordination import file_lock, record_worker, warehouse_lock
from orchestration.publishing import (
    PUBLISHED_MARTS_KEY,
    current_publication,
    publication_is_current,
)
from orchestration.resources import WAREHOUSE_WRITER_POOL
from orchestration.settings import Settings
from orchestration.spark import built_tables, export_raw_parquet
from orchestration.sql import column_types, quote_identifier

DBT_STEP = "dbt_models"
# Unit tests check the SQL, not the data: the test suite runs them, pipeline runs do not (dbt's
# advice).
BUILD = ["build", "--exclude-resource-type", "unit_test"]
# dagster-dbt gives every invocation its own `target/<step>-<run>-<id>/` (artifacts, compiled
# SQL, a copy of the manifest); only the newest are kept per step.
KEEP_INVOCATIONS = 10


class DbtBuildConfig(Config):
    full_refresh: bool = False
    """Rebuild every model from all raw data instead of the window of changed arrival days."""
    force: bool = False
    """Build the requested arrival days even when nothing changed since the last build."""
    start_date: str | None = None
    """First of the requested arrival days (YYYY-MM-DD); default: the first day of the run."""
    end_date: str | None = None
    """Last of the requested arrival days (YYYY-MM-DD, inclusive); default: the run's last day.
    Without either, and outside a run over partitions, `force` builds every day."""
    unit_tests: bool = False
    """Run the dbt project's unit tests in the build too: they check the models' SQL on this
    engine (after switching to Spark or upgrading it), not the data; runs leave them out."""


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """dbt nodes as assets keyed `<schema>/<name>` (the relation), grouped by layer; owners
    are dagster-dbt's default, `meta.dagster.owners` (declared in dbt_project.yml). A source is
    keyed `raw/<table>`, the landing asset that writes it, unless its YAML names the asset that
    does (`meta.dagster.asset_key`): `raw.user_agents` is written by the events landing."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["schema"]


# Several sources may name one landing asset: `raw.events` and `raw.user_agents` are both
# written by `raw/events`.
TRANSLATOR = WarehouseDbtTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True, enable_duplicate_source_asset_keys=True
    )
)


def dbt_executable() -> str:
    """The dbt of this Python environment, so nothing depends on what PATH holds."""
    return str(Path(sys.executable).with_name("dbt"))


class WarehouseDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, which knows the version of the dbt it runs: the executable is
    this environment's (`dbt_executable`), whose dbt-core is installed here, so no run needs to
    ask `dbt --version` (3 s of every run's dbt step, as dagster-dbt does by default)."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))


@cache
def dbt_project(project_dir: Path) -> DbtProject:
    """The dbt project with an up-to-date manifest, prepared once per process.

    Unlike `prepare_if_dev()`, which parses only under `dagster dev`, this parses whenever the
    project's files differ from those the manifest was parsed from (their `code_fingerprint`,
    kept beside it), so the CLI, tests and the UI all load the project as it is on disk, and
    nothing parses when nothing changed.
    """
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    manifest = project.manifest_path
    parsed_from = manifest.with_name("manifest.code_fingerprint")
    # One process parses at a time (a run and `dagster dev` may start together); the others
    # wait, then find the manifest current.
    with file_lock(manifest.with_name("parse.lock"), "dbt parse"):
        code = code_fingerprint(project_dir)
        current = manifest.exists() and parsed_from.is_file() and parsed_from.read_text() == code
        if not current:
            WarehouseDbtCliResource(project_dir=project, dbt_executable=dbt_executable()).cli(
                ["parse", "--quiet"], target_path=project.target_path, raise_on_error=True
            ).wait()
            parsed_from.write_text(code)
    return project


def dbt_resource(settings: Settings) -> DbtCliResource:
    """dbt, run against the profile's target of the warehouse engine (`warehouse` or `spark`)."""
    return WarehouseDbtCliResource(
        project_dir=dbt_project(settings.dbt_project_dir),
        dbt_executable=dbt_executable(),
        target="spark" if settings.on_spark else None,
    )


def _relations(manifest_path: Path) -> dict[AssetKey, tuple[str, str]]:
    """The warehouse table (schema, name) behind each model and seed asset that stores rows.

    Views are left out: they hold no rows of their own, and counting one runs its query.
    """
    manifest = json.loads(manifest_path.read_text())
    return {
        TRANSLATOR.get_asset_key(node): (node["schema"], node["alias"])
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
        and node["config"].get("materialized") != "view"
    }


def _with_row_counts(
    context: AssetExecutionContext,
    invocation: DbtCliInvocation,
    settings: Settings,
    relations: dict[AssetKey, tuple[str, str]],
) -> Iterator[Output | AssetMaterialization | AssetCheckResult]:
    """Stream dbt's events, adding `dagster/row_count` to every table's materialization.

    The counts are read once dbt has exited: while it runs, the dbt process holds DuckDB's
    write lock on the warehouse file. On Spark, they are read from the tables' Parquet files.
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
    with (
        duckdb.connect(str(settings.warehouse_path), read_only=True) as connection,
        built_tables(connection, settings) as database,
    ):
        for key in keys & relations.keys():
            schema, name = relations[key]
            if column_types(connection, f"{schema}.{name}", database):
                relation = ".".join(map(quote_identifier, (database, schema, name)))
                counts[key] = connection.execute(f"select count(*) from {relation}").fetchone()[0]
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


_NODE_KINDS = {
    "model": "models",
    "seed": "seeds",
    "snapshot": "snapshots",
    "test": "data tests",
    "unit_test": "unit tests",
}


def results_summary(run_results: Mapping[str, Any]) -> str:
    """What a dbt invocation did, from its run_results.json: e.g. `30 models success, 2 seeds
    success, 459 data tests pass, 44 unit tests pass`."""
    counts = Counter(
        (_NODE_KINDS.get(kind, kind), result["status"])
        for result in run_results["results"]
        for kind in [result["unique_id"].split(".", 1)[0]]
    )
    rank = {kind: position for position, kind in enumerate(_NODE_KINDS.values())}
    parts = sorted(counts.items(), key=lambda item: (rank.get(item[0][0], len(rank)), item[0]))
    return ", ".join(f"{n} {kind} {status}" for (kind, status), n in parts) or "no nodes ran"


def prune_invocation_dirs(target_dir: Path, step: str, keep: int = KEEP_INVOCATIONS) -> None:
    """Remove all but the `keep` newest invocation folders of `step` under `target_dir`."""
    folders = sorted(
        (p for p in target_dir.glob(f"{step}-*-*") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for folder in folders[keep:]:
        shutil.rmtree(folder, ignore_errors=True)


def dbt_environment(
    settings: Settings, window: Window | None, label: str | None = None
) -> dict[str, str]:
    """What a dbt invocation is told through the environment rather than `--vars`.

    dbt parses the whole project again whenever its vars change, which would be every run (the
    window moves). The warehouse (profiles.yml) and the window (`window_bound` in
    macros/incremental.sql, read only when SQL is compiled for execution) are environment
    variables instead, so each invocation re-uses the previous one's parse; so is the label the
    build marks the rows it re-derives with (`window_label`).
    """
    environment = {
        "WAREHOUSE_DIR": str(settings.warehouse_dir),
        "WAREHOUSE_MIN_DATE": window[0].isoformat() if window else "",
        "WAREHOUSE_MAX_DATE": window[1].isoformat() if window else "",
        "WAREHOUSE_BUILD_LABEL": label or "",
    }
    if settings.on_spark:
        # Where the spark target keeps its tables and reads the exported raw tables.
        environment["SPARK_WAREHOUSE_DIR"] = str(settings.spark_warehouse_dir)
        environment["RAW_PARQUET_DIR"] = str(settings.spark_raw_dir)
    return environment


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
    the newest partial parse left by an earlier invocation.

    Left to itself, dagster-dbt would copy the partial parse of the `dbt parse` that prepared
    the manifest, made with another profile path, so dbt would parse the whole project again.
    dbt checks what it re-uses (project files, vars, profile) and re-parses what changed.
    """
    folder = (target_dir / f"{step}-{run_id[:7]}-{uuid.uuid4().hex[:7]}").resolve()
    folder.mkdir(parents=True)
    parses = list(target_dir.glob(f"{step}-*-*/partial_parse.msgpack"))
    if parses:
        newest = max(parses, key=lambda path: path.stat().st_mtime)
        shutil.copy2(newest, folder / newest.name)
    return folder


def next_invocation_target(project: DbtProject, step: str, run_id: str) -> Path:
    """The folder of the next dbt invocation of `step` (`invocation_target`), after removing
    the oldest ones but KEEP_INVOCATIONS - 1, so that the new one is among the newest
    KEEP_INVOCATIONS."""
    target_dir = project.project_dir / project.target_path
    prune_invocation_dirs(target_dir, step, keep=KEEP_INVOCATIONS - 1)
    return invocation_target(target_dir, step, run_id)


def parse_for_runs(settings: Settings) -> Path:
    """Parse the project as the dbt step's next invocation will (the warehouse of `settings`,
    whose path its profile reads: dbt parses everything again when the profile differs from
    that of the parse it is given), into a new invocation folder of the step, which that
    invocation seeds its partial parse from (`invocation_target`). Return the folder.

    `dbt_project()` parses with the environment of the process; a build of another warehouse
    than the default one then parses the project again before its first model.
    """
    folder = next_invocation_target(dbt_project(settings.dbt_project_dir), DBT_STEP, "parse")
    with _environment(dbt_environment(settings, None)):
        dbt_resource(settings).cli(
            ["parse", "--quiet"], target_path=folder, raise_on_error=True
        ).wait()
    return folder


def _requested_days(context: AssetExecutionContext, config: DbtBuildConfig) -> Window | None:
    """The arrival days a run asks for: the config's range, else the run's partitions."""
    if config.start_date or config.end_date:
        if not (config.start_date and config.end_date):
            raise ValueError("give both start_date and end_date, or neither")
        start, end = date.fromisoformat(config.start_date), date.fromisoformat(config.end_date)
        if end < start:
            raise ValueError(f"end_date {end} is before start_date {start}")
        return start, end + timedelta(days=1)
    # A run of one partition has a key, a run of several a range: both have the range.
    if context.has_partition_key or context.has_partition_key_range:
        keys = context.partition_key_range
        return date.fromisoformat(keys.start), date.fromisoformat(keys.end) + timedelta(days=1)
    return None


def _describe(window: Window | None) -> str:
    if window is None:
        return "every arrival day"
    last = window[1] - timedelta(days=1)
    return f"arrival day {last}" if window[0] == last else f"arrival days {window[0]} to {last}"


NOTHING_NEW = (
    "no arrival day's loads changed since the last successful build, the dbt project is as it "
    "was, and the current publication holds that build"
)


def _nothing_to_build(
    context: AssetExecutionContext, settings: Settings, step: str
) -> Iterator[AssetObservation]:
    """The step's answer when there is nothing to build: it materializes none of its assets, so
    Dagster skips the steps after it (publication among them), and an observation of each asset,
    and of the published marts, says why in its `reason` (the asset's events in the UI)."""
    context.log.info(
        f"{step}: {NOTHING_NEW}; nothing to build (run with force or full_refresh to build anyway)."
    )
    for key in sorted(context.selected_asset_keys):
        yield AssetObservation(asset_key=key, metadata={"reason": f"Not built: {NOTHING_NEW}."})
    version = current_publication(settings).resolve().name
    yield AssetObservation(
        asset_key=PUBLISHED_MARTS_KEY,
        metadata={"reason": f"Not published: nothing new, publication {version} stays."},
    )


def _build(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    settings: Settings,
    relations: dict[AssetKey, tuple[str, str]],
    config: DbtBuildConfig,
    step_keys: Collection[AssetKey],
) -> Iterator[Any]:
    """Run one dbt build of what changed, logged in `audit.model_builds`; or skip it,
    materializing nothing, when nothing changed. The step holds the warehouse lock throughout.

    A run of some of the step's models (a selection in the UI) is never skipped, and stays in
    the log only if it fails: its success says nothing of the models it did not build.
    """
    record_worker(context.instance, context.run_id)
    with warehouse_lock(
        settings.warehouse_path, f"dagster run {context.run_id}", say=context.log.info
    ):
        yield from _build_under_lock(context, dbt, settings, relations, config, step_keys)


def _build_under_lock(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    settings: Settings,
    relations: dict[AssetKey, tuple[str, str]],
    config: DbtBuildConfig,
    step_keys: Collection[AssetKey],
) -> Iterator[Any]:
    step = context.op_execution_context.op.name
    whole_step = set(context.selected_asset_keys) == set(step_keys)
    actor = f"dagster run {context.run_id}"
    requested = _requested_days(context, config)
    code = build_code(settings.dbt_project_dir, settings.warehouse_engine)
    project = dbt_project(settings.dbt_project_dir)
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        pending = pending_days(connection)
        last_code = last_build_code(connection)
        code_changed = last_code != code
        unsettled = unsettled_builds(connection)
        published = publication_is_current(connection, settings)
        full_refresh = config.full_refresh
        if full_refresh:
            window = None
            context.log.info(f"{step}: rebuilding every model from all raw data (full refresh).")
        elif rebuild := _why_rebuild_everything(
            connection, settings, last_code, code, unsettled, project.manifest_path
        ):
            window, full_refresh = None, True
            context.log.info(
                f"{step}: rebuilding every model from all raw data (full refresh): {rebuild}."
            )
        elif unsettled is not None:
            # What the builds since the last successful one did is settled by covering their
            # days too (or every day, if one had no window).
            window = (
                None if unsettled.every_day else window_of([*pending, *unsettled.days], requested)
            )
            context.log.info(
                f"{step}: building {_describe(window)}: the last build failed, stopped or built "
                "a selection of models, so this one goes on from it."
            )
        elif config.force or code_changed or not published or not whole_step:
            # Days the run asks for are built even if unchanged; without any, every day.
            window = window_of(pending, requested) if requested else None
            why = (
                "asked to (force)"
                if config.force
                else "no build has succeeded yet"
                if last_code is None
                else "the dbt project changed since the last build"
                if code_changed
                else "the current publication does not hold the last build (a run stopped "
                "before publishing)"
                if not published
                else "a selection of models"
            )
            context.log.info(f"{step}: building {_describe(window)}: {why}.")
        elif pending:
            window = window_of(pending)
            context.log.info(
                f"{step}: building {_describe(window)}: loads changed "
                f"{len(pending)} arrival day(s) since the last build."
            )
        else:
            yield from _nothing_to_build(context, settings, step)
            return
        started_at = start_build(
            connection, step, window, full_refresh=full_refresh, code=code, actor=actor
        )
        label = unsettled.label if unsettled is not None else build_label(started_at)
        if settings.on_spark:
            _export_for_spark(context, connection, settings, window)
    args = ["build"] if config.unit_tests else list(BUILD)
    if full_refresh:
        args.append("--full-refresh")
    target_path = next_invocation_target(project, step, context.run_id)
    succeeded = False
    try:
        with _environment(dbt_environment(settings, window, label)):
            invocation = dbt.cli(args, context=context, target_path=target_path)
        yield from _with_row_counts(context, invocation, settings, relations)
        context.log.info(f"{step}: {results_summary(invocation.get_artifact('run_results.json'))}")
        succeeded = True
    finally:
        with duckdb.connect(str(settings.warehouse_path)) as connection:
            if whole_step or not succeeded:
                finish_build(connection, step, started_at, succeeded=succeeded, actor=actor)
            else:
                finish_selection_build(connection, step, started_at, actor=actor)


def _why_rebuild_everything(
    connection: duckdb.DuckDBPyConnection,
    settings: Settings,
    last_code: str | None,
    code: str,
    unsettled: Unsettled | None,
    manifest_path: Path | None = None,
) -> str | None:
    """Why the engine's tables cannot go on from the last build, when they cannot: it ran on
    another engine (WAREHOUSE_ENGINE changed since); on DuckDB, the dbt project changed the
    columns of an incremental model whose table exists (`manifest_path`: the parsed project;
    any other change builds every day in the existing tables, which costs as much as a full
    refresh); or, on Spark, whose Parquet tables have neither DELETE nor transactions, Spark
    holds no tables yet, the last build did not finish (it may have left a table half-written),
    a person was forgotten since, or the dbt project changed (a model may now lay its table out
    in other partitions or columns)."""
    engine = settings.warehouse_engine
    if last_code is not None and engine_of(last_code) != engine:
        return f"the last build ran on {engine_of(last_code)}, this one on {engine}"
    if not settings.on_spark:
        # Also after a failed build (no last code): it may have failed on a changed table.
        if last_code == code or manifest_path is None:
            return None
        changed = tables_with_other_columns(connection, manifest_path)
        return (
            f"the dbt project changed the columns of {', '.join(changed)}, and an incremental "
            "run reads and writes its table as it is"
            if changed
            else None
        )
    if last_code is not None and not any(settings.spark_tables_dir.glob("marts.db/*")):
        return f"Spark holds no tables yet in {settings.spark_tables_dir}"
    if unsettled is not None:
        return (
            "the last build failed, stopped or built a selection of models, and Spark's "
            "Parquet tables have no transactions to undo what it left half-written"
        )
    if forgotten_since_last_build(connection):
        return (
            "a person was forgotten since the last build, and Spark's tables cannot delete "
            "their rows"
        )
    if last_code is not None and last_code != code:
        return (
            "the dbt project changed since the last build, and Spark's tables are laid out "
            "again with it"
        )
    return None


def _export_for_spark(
    context: AssetExecutionContext,
    connection: duckdb.DuckDBPyConnection,
    settings: Settings,
    window: Window | None,
) -> None:
    """Write the raw tables' arrival days of the window (every day without one) as the Parquet
    Spark reads them from (`orchestration/spark.py`)."""
    days = None
    if window is not None:
        days = [window[0] + timedelta(days=n) for n in range((window[1] - window[0]).days)]
    exported = export_raw_parquet(connection, settings.spark_raw_dir, days)
    rows = sum(day.rows for day in exported)
    context.log.info(
        f"exported {rows} raw rows of {_describe(window)} to {settings.spark_raw_dir} for Spark"
    )


def build_dbt_assets(settings: Settings) -> list[AssetsDefinition]:
    project = dbt_project(settings.dbt_project_dir)
    relations = _relations(project.manifest_path)

    @dbt_assets(
        manifest=project.manifest_path,
        name=DBT_STEP,
        project=project,
        dagster_dbt_translator=TRANSLATOR,
        pool=WAREHOUSE_WRITER_POOL,
    )
    def models(
        context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
    ) -> Iterator[Any]:
        yield from _build(context, dbt, settings, relations, config, models.keys)

    return [models]
