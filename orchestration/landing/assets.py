"""The landing assets: one per dataset, partitioned by arrival date.

Materializing a partition (or a range, in one run) loads its files from raw_landing/ with
`load_partitions`. Each partition's materialization carries what a data engineer looks for about
its load: its rows in the table (`dagster/row_count`), the manifest numbers and rows of its
files, rejected files and examples of rejected rows; and, from the run, the table's size
(`table_rows`) and schema, a preview, the files in no partition (also logged as a warning) and,
for events, the user agents it parsed into `raw.user_agents`. The log has one message per batch
of days loaded.
"""

import warnings
from datetime import date

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    BackfillPolicy,
    BetaWarning,
    Config,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    asset,
)
from dagster_duckdb import DuckDBResource

from orchestration.contract import DATASETS, Dataset
from orchestration.landing.loader import PartitionLoad, StrayFile, load_partitions, stray_files
from orchestration.landing.tables import create_landing_tables
from orchestration.landing.user_agents import USER_AGENTS_TABLE, parses_user_agents
from orchestration.metadata import query_table, rows_table
from orchestration.owners import SOURCE_OWNERS
from orchestration.partitions import daily_partitions
from orchestration.resources import WAREHOUSE_WRITER_POOL
from orchestration.settings import Settings
from orchestration.sql import sql_string

LANDING_GROUP = "landing"
OWNERS = SOURCE_OWNERS
PREVIEW_ROWS = 5
MANIFEST_ROWS = 100

# Single-run backfills (a range of days in one run, one load per day inside it) are what the
# landing assets need; the parameter is marked beta in this Dagster version.
warnings.filterwarnings("ignore", category=BetaWarning, message=".*backfill_policy.*")


class LandingConfig(Config):
    reload_unchanged: bool = False
    """Validate and load again partitions whose files are those loaded before, byte for byte
    (after a change of the contract's rules, say); by default they are left as they are."""


def landing_asset_key(dataset: Dataset) -> AssetKey:
    # The same key dagster-dbt gives the dbt source `raw.<dataset>`, so lineage connects.
    return AssetKey(["raw", dataset.name])


def contract_table_schema(dataset: Dataset) -> TableSchema:
    return TableSchema(
        columns=[
            TableColumn(
                name=column.name,
                type=column.type.duckdb,
                description=column.description,
            )
            for column in dataset.table_columns()
        ]
    )


def stray_files_markdown(strays: list[StrayFile]) -> str:
    return "\n".join(f"- `{stray.path}`: {stray.reason}" for stray in strays) or "none"


def stray_files_summary(dataset: Dataset, strays: list[StrayFile]) -> str:
    """How many files no partition loads, and what to do about them."""
    files = f"{len(strays)} file{'' if len(strays) == 1 else 's'}"
    return (
        f"{files} under raw_landing/{dataset.name}/ in no partition, not loaded: move each into "
        f"raw_landing/{dataset.name}/date=YYYY-MM-DD/ of the day it arrived (or delete it), "
        "and load that day"
    )


def _materialization_metadata(
    connection: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    loads: list[PartitionLoad],
    strays: list[StrayFile],
) -> dict[str, object]:
    """What every partition's materialization of the run shows: the table and the run."""
    dates = [load.landing_date for load in loads if not load.nothing_landed]
    table_rows = connection.execute(f"select count(*) from {dataset.table}").fetchone()[0]
    user_agents = (
        {"user_agents_parsed": sum(load.user_agents_parsed for load in loads)}
        if parses_user_agents(dataset)
        else {}
    )
    return {
        "table_rows": table_rows,
        **user_agents,
        "dagster/column_schema": contract_table_schema(dataset),
        "partitions_loaded": len(loads),
        "partitions_unchanged": sum(load.unchanged for load in loads),
        "partitions_without_files": sum(load.nothing_landed for load in loads),
        "stray_files": MetadataValue.md(stray_files_markdown(strays)),
        "preview": _preview(connection, dataset, dates),
    }


def _preview(
    connection: duckdb.DuckDBPyConnection, dataset: Dataset, dates: list[date]
) -> MetadataValue:
    """The first rows the run's days hold: those of their first files that loaded rows, in file
    and row order. The files come from the manifest, and the table is read for them alone,
    named as constants: DuckDB then skips the other files' row groups. (One query reading the
    days' rows twice, for their files and then for the rows, had DuckDB store every column of
    every row of the days before reading them.)"""
    files = [
        path
        for (path,) in connection.execute(
            f"""
            select file_path from raw.load_manifest
            where dataset = ? and landing_date in (select unnest(?::date[])) and rows_loaded > 0
            order by file_path
            limit {PREVIEW_ROWS}
            """,
            [dataset.name, dates],
        ).fetchall()
    ]
    in_files = ", ".join(map(sql_string, files)) or "null"
    return query_table(
        connection,
        f"""
        select * exclude (_loaded_at) from {dataset.table}
        where _source_file in ({in_files})
        order by _source_file, _source_row
        limit {PREVIEW_ROWS}
        """,
    )


def _partition_metadata(
    connection: duckdb.DuckDBPyConnection, dataset: Dataset, loads: list[PartitionLoad]
) -> dict[str, dict[str, object]]:
    """What each partition's materialization shows of its own load, by partition key: the rows
    of its arrival day in the table (`dagster/row_count`), the manifest numbers, its rejected
    files and rows, and its manifest rows (one query for each)."""
    days = [load.landing_date for load in loads]
    day_rows = dict(
        connection.execute(
            f"""
            select _landing_date, count(*) from {dataset.table}
            where _landing_date in (select unnest(?::date[]))
            group by _landing_date
            """,
            [days],
        ).fetchall()
    )
    manifest = connection.execute(
        f"""
        select landing_date, file_path, status, rows_read, rows_loaded, rows_rejected,
            rows_duplicate, file_size_bytes, reason
        from raw.load_manifest
        where dataset = ? and landing_date in (select unnest(?::date[]))
        qualify row_number() over (partition by landing_date order by file_path)
            <= {MANIFEST_ROWS}
        order by landing_date, file_path
        """,
        [dataset.name, [load.landing_date for load in loads if load.files]],
    )
    columns = [column for column, *_ in manifest.description][1:]
    manifest_rows: dict[date, list[tuple]] = {}
    for day, *row in manifest.fetchall():
        manifest_rows.setdefault(day, []).append(tuple(row))
    return {
        load.landing_date.isoformat(): {
            "dagster/row_count": day_rows.get(load.landing_date, 0),
            "files": len(load.files),
            "files_rejected": len(load.files_rejected),
            "rows_read": load.rows_read,
            "rows_loaded": load.rows_loaded,
            "rows_rejected": load.rows_rejected,
            "rows_duplicate": load.rows_duplicate,
            "unchanged": load.unchanged,
            "rejected_files": MetadataValue.md(
                "\n".join(f"- `{f.file_path}`: {f.reason}" for f in load.files_rejected) or "none"
            ),
            "rejected_row_examples": MetadataValue.md(
                "\n".join(f"- {example}" for example in load.rejected_examples) or "none"
            ),
            "load_manifest": rows_table(columns, manifest_rows.get(load.landing_date, [])),
        }
        for load in loads
    }


def build_landing_asset(dataset: Dataset, settings: Settings) -> AssetsDefinition:
    @asset(
        key=landing_asset_key(dataset),
        description=(
            f"{dataset.description} Loaded from `raw_landing/{dataset.name}/date=YYYY-MM-DD/`: "
            "validated against the landing contract, deduplicated across files and days; bad "
            f"rows go to `{dataset.rejected_table}`, other deliveries to "
            f"`{dataset.duplicates_table}`, every file to `raw.load_manifest`."
            + (
                f" Each user agent new to the warehouse is parsed into `{USER_AGENTS_TABLE}`."
                if parses_user_agents(dataset)
                else ""
            )
        ),
        group_name=LANDING_GROUP,
        partitions_def=daily_partitions(settings),
        backfill_policy=BackfillPolicy.single_run(),
        kinds={"duckdb", "parquet"},
        owners=OWNERS,
        pool=WAREHOUSE_WRITER_POOL,
        metadata={"dagster/column_schema": contract_table_schema(dataset)},
    )
    def landing(
        context: AssetExecutionContext, warehouse: DuckDBResource, config: LandingConfig
    ) -> MaterializeResult:
        def log_loads(partition_loads: list[PartitionLoad]) -> None:
            # One message per batch: each log line is an event the instance stores.
            lines = [
                f"{dataset.name} {load.landing_date}: "
                f"{'unchanged since loaded, ' if load.unchanged else ''}"
                f"{len(load.files)} files, {load.rows_read} rows read, {load.rows_loaded} "
                f"loaded, {load.rows_rejected} rejected, {load.rows_duplicate} duplicates"
                for load in partition_loads
                if not load.nothing_landed
            ]
            if lines and parses_user_agents(dataset):
                parsed = sum(load.user_agents_parsed for load in partition_loads)
                lines.append(f"{dataset.name}: {parsed} new user agents parsed")
            if lines:
                context.log.info("\n".join(lines))
            rejected = [f for load in partition_loads for f in load.files_rejected]
            if rejected:
                context.log.warning(
                    "\n".join(f"rejected file {f.file_path}: {f.reason}" for f in rejected)
                )

        strays = stray_files(settings.raw_landing_dir, dataset)
        if strays:
            context.log.warning(
                f"{stray_files_summary(dataset, strays)}:\n"
                + "\n".join(f"{stray.path}: {stray.reason}" for stray in strays)
            )
        with warehouse.get_connection() as connection:
            actor = f"dagster run {context.run_id}"
            # The loader would add them too; adding them first lets the log say which.
            for table, column, column_type in create_landing_tables(connection, actor=actor):
                context.log.info(f"added column {column} {column_type} to {table}")
            loads = load_partitions(
                connection,
                dataset,
                settings.raw_landing_dir,
                [date.fromisoformat(key) for key in context.partition_keys],
                future_tolerance_hours=settings.future_tolerance_hours,
                actor=actor,
                force=config.reload_unchanged,
                on_loaded=log_loads,
            )
            without_files = sum(load.nothing_landed for load in loads)
            if without_files:
                context.log.info(
                    f"{dataset.name}: no files on {without_files} of the days, and none loaded "
                    "before: nothing to do"
                )
            # Each partition's own numbers first, then the run's and the table's.
            run_metadata = _materialization_metadata(connection, dataset, loads, strays)
            for key, metadata in _partition_metadata(connection, dataset, loads).items():
                context.add_asset_metadata({**metadata, **run_metadata}, partition_key=key)
            return MaterializeResult()

    return landing


def build_landing_assets(settings: Settings) -> list[AssetsDefinition]:
    return [build_landing_asset(dataset, settings) for dataset in DATASETS.values()]
