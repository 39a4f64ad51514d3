"""`warehouse`: run the pipeline from the command line, recorded in the Dagster instance.

warehouse run                     load every landed day and build everything
warehouse run --start 2026-03-01 --end 2026-03-07
warehouse export --mart sessions --format csv --tenant t1 --start 2026-03-01 --end 2026-03-07
warehouse cleanup                 remove what is past retention, expire old exports
warehouse forget --user-id U      remove one person (and their linked ids) everywhere
warehouse import dump.ndjson      bring a dump of old events into raw_landing/

Every command that opens the warehouse holds the warehouse lock for its whole duration: a second
command waits for the first (saying which), and stops waiting on Ctrl-C or SIGTERM. Before it
starts, a command marks failed the runs whose process died without finishing.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
from dagster import DagsterInstance, JobExecutionResult
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.execution.api import execute_run
from dagster._core.remote_origin import RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.workspace.load_target import WorkspaceFileTarget

from orchestration.contract import DATASETS
from orchestration.coordination import (
    WORKER_TAG,
    release_dead_runs,
    say_to_stderr,
    warehouse_lock,
    worker_tag,
)
from orchestration.exports import ExportError, ExportStatus, export_mart, parse_request
from orchestration.history_import import DumpFormat, import_history, record_import
from orchestration.landing.loader import landed_dates
from orchestration.maintenance import cleanup, forget_person
from orchestration.partitions import first_partition_day
from orchestration.publishing import (
    DATABASE_FILE,
    PARQUET_DIR,
    PUBLISHED_MARTS_KEY,
    current_publication,
)
from orchestration.settings import PROJECT_ROOT, Settings
from orchestration.spark import built_tables, export_raw_parquet

WORKSPACE_FILE = PROJECT_ROOT / "workspace.yaml"


def _loaded_dates(settings: Settings) -> set[date]:
    """Arrival days the warehouse has loaded files for."""
    if not settings.warehouse_path.exists():
        return set()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        has_manifest = connection.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw' and table_name = 'load_manifest'"
        ).fetchone()[0]
        if not has_manifest:
            return set()
        rows = connection.execute("select distinct landing_date from raw.load_manifest")
        return {day for (day,) in rows.fetchall()}


def days_to_run(settings: Settings) -> tuple[date, date] | None:
    """The arrival days that bring the warehouse in line with raw_landing/: every day with files,
    and every day loaded before (whose files may since have been removed)."""
    days = _loaded_dates(settings) | {
        day
        for dataset in DATASETS.values()
        for day in landed_dates(settings.raw_landing_dir, dataset)
    }
    return (min(days), max(days)) if days else None


def run_pipeline(
    settings: Settings,
    start: date,
    end: date,
    *,
    full_refresh: bool = False,
    unit_tests: bool = False,
    instance: DagsterInstance | None = None,
) -> JobExecutionResult:
    """Run the main job over the arrival days [start, end] as one run, recorded as a run
    launched from the Dagster UI would be (`code_location_job_origin`).

    With `full_refresh`, the range's files are validated and loaded again even if unchanged, and
    every dbt model is rebuilt from all raw data instead of from what arrived in the range.
    With `unit_tests`, the build runs the dbt project's unit tests too.
    Unless PARTITIONS_START_DATE is set, the run's partitions reach back to `start`: a day
    loaded before whose files are gone (so it is no longer the first landed day) is a partition
    of the run that unloads it.
    """
    from orchestration.definitions import build_definitions
    from orchestration.jobs import main_job
    from orchestration.transform import DBT_STEP

    if settings.partitions_start_date is None:
        settings = replace(
            settings, partitions_start_date=min(start, first_partition_day(settings))
        )
    instance = instance or dagster_instance()
    definitions = build_definitions(settings)
    job = definitions.resolve_job_def(main_job.name)
    landing_config = {"config": {"reload_unchanged": full_refresh}}
    run = instance.create_run_for_job(
        job_def=job,
        run_config={
            "ops": {
                DBT_STEP: {"config": {"full_refresh": full_refresh, "unit_tests": unit_tests}},
                **{f"raw__{name}": landing_config for name in DATASETS},
            },
            "loggers": {"console": {"config": {"log_level": "INFO"}}},
        },
        tags={
            **job.run_tags,
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat(),
            WORKER_TAG: worker_tag(),
        },
        remote_job_origin=code_location_job_origin(definitions.get_repository_def().name, job.name),
    )
    # The run executes here, in this process, as `execute_in_process` would run it.
    return execute_run(InMemoryJob(job), run, instance, raise_on_error=False)


def code_location_job_origin(repository_name: str, job_name: str) -> RemoteJobOrigin:
    """The origin a run of the job has when the Dagster UI launches it: the code location named
    in workspace.yaml. A run created with it is listed under its job and on the overview's
    timeline; one executed in process without it is not (dagster-io/dagster#17707). Dagster has
    no public API to create a run with an origin and execute it in process; these internal names
    are used here only."""
    (location,) = WorkspaceFileTarget(paths=[str(WORKSPACE_FILE)]).create_origins()
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, repository_name), job_name)


class _SkippedCheckNotice(logging.Filter):
    """Drops Dagster's notice that a blocking check of a skipped step "emitted no result": when a
    dbt step finds nothing to build, the steps after it are skipped, and each of their blocking
    checks would say so on the terminal (it goes to no run's log). The run's log says once, per
    step, that it was skipped and why."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "emitted no result in step" not in record.getMessage()


_SKIP_LOGGER = logging.getLogger("dagster._core.execution.plan.active")
_SKIP_LOGGER.addFilter(_SkippedCheckNotice())


def dagster_instance() -> DagsterInstance:
    """The instance runs are recorded in: DAGSTER_HOME, or the project's dagster_home/."""
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / "dagster_home"))
    return DagsterInstance.get()


@contextmanager
def exclusive(settings: Settings, command: str) -> Iterator[None]:
    """Hold the warehouse lock for a command, after marking failed the runs that died."""
    with warehouse_lock(settings.warehouse_path, f"`warehouse {command}`", say=say_to_stderr):
        for dead in release_dead_runs(dagster_instance()):
            print(f"Found {dead.describe()}", file=sys.stderr, flush=True)
        yield


def _run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    with exclusive(settings, "run"):
        return _run_exclusively(settings, args)


def _run_exclusively(settings: Settings, args: argparse.Namespace) -> int:
    landed = days_to_run(settings)
    if landed is None and args.start is None:
        print(
            f"No files in {settings.raw_landing_dir}: generate a sample with `warehouse-generate`"
            " or drop Parquet files into raw_landing/<dataset>/date=YYYY-MM-DD/.",
            file=sys.stderr,
        )
        return 1
    start = args.start or landed[0]
    end = args.end or landed[1]
    problem = _range_problem(settings, start, end)
    if problem:
        print(f"Cannot run arrival days {start} to {end}: {problem}", file=sys.stderr)
        return 2
    print(f"Running the pipeline for arrival days {start} to {end} ...", flush=True)
    began = time.monotonic()
    result = run_pipeline(
        settings, start, end, full_refresh=args.full_refresh, unit_tests=args.unit_tests
    )
    elapsed = time.monotonic() - began
    if not result.success:
        print(
            f"The run failed after {elapsed:.0f} s; open the Dagster UI (make ui) to see which "
            "step and why.",
            file=sys.stderr,
        )
        return 1
    published = current_publication(settings)
    if not result.asset_materializations_for_node(PUBLISHED_MARTS_KEY.to_python_identifier()):
        # A run that succeeded without publishing built nothing: a failed blocking check fails
        # the run.
        version = published.resolve().name
        print(f"\nNothing new since the last build: publication {version} stays.")
    engine = (
        f"  Spark:       {settings.spark_tables_dir}   (the models' tables, built by Spark)\n"
        if settings.on_spark
        else ""
    )
    print(
        f"\nDone in {elapsed:.0f} s.\n"
        f"  Warehouse:   {settings.warehouse_path}\n"
        f"{engine}"
        f"  Published:   {published / DATABASE_FILE}   (read-only copy of the marts)\n"
        f"  Parquet:     {published / PARQUET_DIR}/<mart>.parquet\n"
        f"  Query it:    .venv/bin/duckdb -readonly {shlex.quote(str(published / DATABASE_FILE))} "
        '-c "from dashboard_metrics"\n'
        "  Dashboard:   make dashboard, then open http://127.0.0.1:8501\n"
        "  Dagster UI:  make ui   (or: DAGSTER_HOME=dagster_home .venv/bin/dagster dev "
        "-w workspace.yaml), then open http://127.0.0.1:3000"
    )
    return 0


def _range_problem(settings: Settings, start: date, end: date) -> str | None:
    """Why the arrival days [start, end] are not daily partitions a run can cover, if they are not:
    the partitions run to today (UTC), from PARTITIONS_START_DATE when it is set (else from the
    run's first day)."""
    today = datetime.now(UTC).date()
    if start > end:
        return "the first day is after the last."
    first = settings.partitions_start_date
    if first is not None and start < first:
        return (
            f"{start} is before the first partition, PARTITIONS_START_DATE {first}. "
            f"Set PARTITIONS_START_DATE={start} (or earlier) to load it."
        )
    if end > today:
        return f"{end} is after today ({today}, UTC), the last partition."
    return None


def _require_warehouse(settings: Settings) -> None:
    if not settings.warehouse_path.exists():
        raise SystemExit(f"No warehouse at {settings.warehouse_path}: run `warehouse run` first.")


def _connect(settings: Settings, *, create: bool = False) -> duckdb.DuckDBPyConnection:
    """The warehouse, for writing; unless `create`, it must exist already."""
    if not create:
        _require_warehouse(settings)
    try:
        return duckdb.connect(str(settings.warehouse_path))
    except duckdb.IOException as error:
        raise SystemExit(
            f"Cannot open the warehouse {settings.warehouse_path}: {error}\n"
            "A process outside this pipeline (a DuckDB session of your own?) holds it; close it "
            "and try again."
        ) from None


def _export(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        request = parse_request(args.mart, args.format, args.tenant, args.start, args.end)
    except ExportError as error:
        print(f"Cannot export: {error}", file=sys.stderr)
        return 2
    _require_warehouse(settings)
    with (
        exclusive(settings, "export"),
        _connect(settings) as connection,
        built_tables(connection, settings) as source,
    ):
        result = export_mart(
            connection,
            request,
            settings.exports_dir,
            expiry_days=settings.export_expiry_days,
            source=source,
        )
    if result.status is not ExportStatus.COMPLETED:
        print(f"Export {result.export_id} failed: {result.error}", file=sys.stderr)
        return 1
    print(
        f"Exported {result.row_count} rows of marts.{request.mart} to {result.path}\n"
        f"(export {result.export_id}; cleanup deletes it after {result.expires_at:%Y-%m-%d %H:%M}"
        " UTC)"
    )
    return 0


def _export_raw(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.start and args.end and args.end < args.start:
        print("Cannot export: --end is before --start", file=sys.stderr)
        return 2
    _require_warehouse(settings)
    with exclusive(settings, "export-raw"), _connect(settings) as connection:
        days = None
        if args.start or args.end:
            rows = connection.execute(
                "select distinct _landing_date from raw.events union "
                "select distinct _landing_date from raw.metrics order by 1"
            ).fetchall()
            first, last = args.start or date.min, args.end or date.max
            days = [day for (day,) in rows if first <= day <= last]
        exported = export_raw_parquet(connection, args.out.resolve(), days)
    for table in sorted({day.table for day in exported}):
        written = [day for day in exported if day.table == table]
        rows = sum(day.rows for day in written)
        print(f"  {table}: {len(written)} arrival days, {rows:,} rows")
    print(
        f"Raw tables written as Parquet to {args.out}: on Spark, set "
        f"RAW_PARQUET_DIR={args.out.resolve()} "
        "and run dbt with --target spark (README, Running on Apache Spark)."
    )
    return 0


def _cleanup(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    _require_warehouse(settings)
    with exclusive(settings, "cleanup"), _connect(settings) as connection:
        result = cleanup(connection, settings)
    print(
        f"Removed raw rows that arrived before {result.raw_cutoff} and mart rows of days "
        f"before {result.aggregate_cutoff}: {result.total_rows} rows."
    )
    for table, removed in sorted(result.rows_removed.items()):
        if removed:
            print(f"  {table}: {removed}")
    for folder in result.landing_folders_removed:
        print(f"  raw_landing/{folder}: deleted")
    kept: dict[str, list[str]] = {}
    for mart, why in sorted(result.marts_skipped.items()):
        kept.setdefault(why, []).append(mart)
    for why, marts in kept.items():
        print(f"Kept every row of {', '.join(marts)}: {why}.")
    print(f"Expired exports: {len(result.exports_expired)}.")
    return 0


def _forget(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    _require_warehouse(settings)
    with exclusive(settings, "forget"), _connect(settings) as connection:
        result = forget_person(
            connection,
            settings,
            user_id=args.user_id,
            anonymous_id=args.anonymous_id,
            tenant_id=args.tenant,
        )
    print(f"{result.summary}.")
    for table, removed in sorted(result.rows_removed.items()):
        if removed:
            print(f"  {table}: {removed}")
    if result.exports_expired:
        print(f"Expired {len(result.exports_expired)} exports of those marts (files deleted).")
    if settings.on_spark:
        print(
            "The publication no longer holds them. Spark's tables cannot delete rows: the next "
            "`warehouse run` rebuilds every model from the raw rows (a full refresh)."
        )
    else:
        print(
            "The next `warehouse run` recounts the KPI tiles, retention cohorts, feature usage "
            "and funnel results without them; `warehouse run --full-refresh` recounts every "
            "aggregate."
        )
    return 0


def _import(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        dump_format = DumpFormat(args.format or args.file.suffix.lstrip(".").lower())
    except ValueError:
        print(
            f"Cannot tell the format of {args.file} from its name: pass --format "
            f"{'|'.join(DumpFormat)}.",
            file=sys.stderr,
        )
        return 2
    first_partition = first_partition_day(settings)
    try:
        report = import_history(
            args.file,
            dump_format,
            settings.raw_landing_dir,
            future_tolerance_hours=settings.future_tolerance_hours,
        )
    except (OSError, UnicodeDecodeError) as error:
        print(f"Cannot read {args.file} as UTF-8 text: {error}", file=sys.stderr)
        return 2
    print(
        f"{args.file}: {report.rows_read} rows read, {report.rows_accepted} accepted, "
        f"{report.rows_rejected} rejected."
    )
    if report.ignored_columns:
        print(f"Ignored columns the contract does not know: {', '.join(report.ignored_columns)}")
    for message in report.rejected[:_REJECTED_SHOWN]:
        print(f"  rejected {message}")
    if report.rows_rejected > _REJECTED_SHOWN:
        print(f"  ... and {report.rows_rejected - _REJECTED_SHOWN} more (--report FILE lists all)")
    if args.report:
        args.report.write_text("\n".join(report.rejected) + "\n")
    for day, path in sorted(report.files_written.items()):
        print(f"  {day}: {path}")
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with exclusive(settings, "import"), _connect(settings, create=True) as connection:
        record_import(connection, report, settings.raw_landing_dir)
    if report.days is None:
        return 1 if report.rows_read else 0
    start, end = report.days
    if start < first_partition:
        print(_import_before_first_partition(settings, start, first_partition))
    kept_from = datetime.now(UTC).date() - timedelta(days=settings.raw_retention_days)
    if start < kept_from:
        print(
            f"Days before {kept_from} are past RAW_RETENTION_DAYS ({settings.raw_retention_days}):"
            " the next cleanup removes them; raise RAW_RETENTION_DAYS to keep them."
        )
    if not args.backfill:
        print(f"Load and build those days with: warehouse run --start {start} --end {end}")
        return 0
    return _run(argparse.Namespace(start=start, end=end, full_refresh=False, unit_tests=False))


_REJECTED_SHOWN = 20


def _import_before_first_partition(settings: Settings, start: date, first: date) -> str:
    if settings.partitions_start_date is not None:
        return (
            f"The dump reaches back to {start}, before the first partition, PARTITIONS_START_DATE "
            f"{first}: set PARTITIONS_START_DATE={start} (or earlier) to load it."
        )
    return (
        f"The dump reaches back to {start}, before the first partition until now, {first} (the "
        "first landed day): `warehouse run` loads it; a Dagster UI that is running offers those "
        "days once its code location is reloaded (Deployment > Code locations > Reload)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="warehouse", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="load landed files and build every asset")
    run.add_argument(
        "--start", type=date.fromisoformat, help="first arrival day (default: first landed)"
    )
    run.add_argument(
        "--end", type=date.fromisoformat, help="last arrival day (default: last landed)"
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="load the range's files again even if unchanged, and rebuild every dbt model from "
        "all raw data, not just what arrived in the range",
    )
    run.add_argument(
        "--unit-tests",
        action="store_true",
        help="run the dbt project's unit tests in the build too (they check the models' SQL on "
        "the engine, e.g. after switching to Spark)",
    )
    run.set_defaults(handler=_run)

    export = commands.add_parser(
        "export", help="export a mart to CSV, JSON or XLSX in warehouse/exports/"
    )
    export.add_argument("--mart", required=True, help="a table of the marts schema")
    export.add_argument("--format", default="csv", help="csv (default), json or xlsx")
    export.add_argument("--tenant", help="only this tenant's rows")
    export.add_argument("--start", help="first day included (the mart's day or period column)")
    export.add_argument("--end", help="last day included")
    export.set_defaults(handler=_export)

    export_raw = commands.add_parser(
        "export-raw", help="write the raw tables as Parquet for Spark (one folder per arrival day)"
    )
    export_raw.add_argument("--out", type=Path, required=True, help="the Parquet directory")
    export_raw.add_argument(
        "--start", type=date.fromisoformat, help="first arrival day (default: every day)"
    )
    export_raw.add_argument("--end", type=date.fromisoformat, help="last arrival day")
    export_raw.set_defaults(handler=_export_raw)

    commands.add_parser(
        "cleanup", help="remove raw rows, mart rows and exports past their retention"
    ).set_defaults(handler=_cleanup)

    forget = commands.add_parser(
        "forget", help="remove one person's rows, and their linked ids', everywhere"
    )
    person = forget.add_mutually_exclusive_group(required=True)
    person.add_argument("--user-id")
    person.add_argument("--anonymous-id")
    forget.add_argument("--tenant", help="only this tenant's ids (default: every tenant)")
    forget.set_defaults(handler=_forget)

    history = commands.add_parser(
        "import", help="bring a JSON, NDJSON or CSV dump of events into raw_landing/"
    )
    history.add_argument("file", type=Path)
    history.add_argument(
        "--format", choices=list(DumpFormat), help="default: from the file's extension"
    )
    history.add_argument("--report", type=Path, help="write every rejected row to this file")
    history.add_argument(
        "--backfill", action="store_true", help="then load and build the imported days"
    )
    history.set_defaults(handler=_import)

    args = parser.parse_args(argv)
    # SIGTERM stops a command as Ctrl-C does, so that it lets go of what it holds; and so does
    # SIGINT, even where it was ignored when the command started (as a shell script ignores it
    # for the jobs it starts in the background).
    handlers = {signal.SIGTERM: _interrupt, signal.SIGINT: signal.default_int_handler}
    previous = (
        {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}
        if _in_main_thread()
        else {}
    )
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return 130
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
