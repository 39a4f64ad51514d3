"""`warehouse`: run the pipeline from the command line, recorded in the Dagster instance.

warehouse run                     load every landed day and build everything
warehouse run --start 2026-03-01 --end 2026-03-07
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date

import duckdb
from dagster import DagsterInstance, ExecuteInProcessResult

from orchestration.contract import DATASETS
from orchestration.landing.loader import landed_dates
from orchestration.settings import PROJECT_ROOT, Settings


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
    instance: DagsterInstance | None = None,
) -> ExecuteInProcessResult:
    """Run the main job over the arrival days [start, end] as one run.

    With `full_refresh`, every dbt model is rebuilt from all raw data instead of from what
    arrived in the range.
    """
    from orchestration.definitions import build_definitions

    if instance is None:
        os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / "dagster_home"))
        instance = DagsterInstance.get()
    dbt_config = {"config": {"full_refresh": full_refresh}}
    return (
        build_definitions(settings)
        .resolve_job_def("main")
        .execute_in_process(
            instance=instance,
            run_config={
                "ops": {"dbt_incremental_models": dbt_config, "dbt_models": dbt_config},
                "loggers": {"console": {"config": {"log_level": "INFO"}}},
            },
            tags={
                "dagster/asset_partition_range_start": start.isoformat(),
                "dagster/asset_partition_range_end": end.isoformat(),
            },
            raise_on_error=False,
        )
    )


def _run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
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
    print(f"Running the pipeline for arrival days {start} to {end} ...", flush=True)
    began = time.monotonic()
    succeeded = run_pipeline(settings, start, end, full_refresh=args.full_refresh).success
    elapsed = time.monotonic() - began
    if not succeeded:
        print(
            f"The run failed after {elapsed:.0f} s; open the Dagster UI (make ui) to see which "
            "step and why.",
            file=sys.stderr,
        )
        return 1
    print(
        f"\nDone in {elapsed:.0f} s.\n"
        f"  Warehouse:   {settings.warehouse_path}\n"
        f'  Query it:    .venv/bin/python -c "import duckdb; '
        f"print(duckdb.connect('{settings.warehouse_path}', read_only=True)"
        ".sql('select count(*) from raw.events'))\"\n"
        "  Dagster UI:  make ui   (or: DAGSTER_HOME=dagster_home .venv/bin/dagster dev "
        "-w workspace.yaml), then open http://127.0.0.1:3000"
    )
    return 0


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
        help="rebuild every dbt model from all raw data, not just what arrived in the range",
    )
    run.set_defaults(handler=_run)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
