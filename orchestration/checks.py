"""Asset checks on the landing tables.

The blocking checks (contract, key, unchanged since load, reconciliation) hold the whole table,
not a partition: a contract or a key is either kept by the table the marts read, or not, and a
failure stops every asset downstream. The key and the rows are verified through the partitions'
fingerprints, re-reading only what may have changed since the checks last passed. Stray files,
freshness and volume only warn: a file in a mistyped folder, late or thin data is worth a look,
not a stop.
"""

import json
import statistics
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    AssetsDefinition,
    MetadataValue,
    asset_check,
    multi_asset_check,
)
from dagster_duckdb import DuckDBResource

from orchestration.contract import DATASETS, EVENTS, Dataset
from orchestration.landing import fingerprints
from orchestration.landing.assets import (
    landing_asset_key,
    stray_files_markdown,
    stray_files_summary,
)
from orchestration.landing.loader import stray_files
from orchestration.resources import WAREHOUSE_WRITER_POOL
from orchestration.settings import Settings
from orchestration.spark import built_tables
from orchestration.sql import canonical_types, column_differences, column_types, transaction
from orchestration.transform import TRANSLATOR

MAX_LISTED = 10


def table_schema_differences(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    expected: list[tuple[str, str]],
    database: str | None = None,
) -> list[str]:
    """How a table's columns and types differ from `expected` (name, DuckDB type). Columns are
    matched by name: their order does not matter, as a column added later comes last."""
    differences = column_differences(column_types(connection, table, database), expected)
    return (
        [f"missing column {n} {t}" for n, t in differences.missing]
        + [f"unexpected column {n} {t}" for n, t in differences.unexpected]
        + [f"column {n} is {actual}, the contract says {t}" for n, actual, t in differences.retyped]
    )


def _matches_contract(dataset: Dataset) -> AssetChecksDefinition:
    @asset_check(
        asset=landing_asset_key(dataset),
        name="matches_contract",
        description=(
            f"{dataset.table} has the contract's columns with the contract's types, in any "
            "order, and no other column."
        ),
        blocking=True,
        pool=WAREHOUSE_WRITER_POOL,
    )
    def check(warehouse: DuckDBResource) -> AssetCheckResult:
        expected = [(c.name, c.type.duckdb) for c in dataset.table_columns()]
        with warehouse.get_connection() as connection:
            differences = table_schema_differences(connection, dataset.table, expected)
        return AssetCheckResult(
            passed=not differences,
            severity=AssetCheckSeverity.ERROR,
            description="; ".join(differences) or "columns and types match the contract",
            metadata={"differences": len(differences)},
        )

    return check


def _fingerprint_checks(dataset: Dataset) -> AssetChecksDefinition:
    """`unique_key` and `unchanged_since_load`, from one pass over what may have changed (see
    `orchestration/landing/fingerprints.py`)."""
    key = ", ".join(dataset.key)
    asset_key = landing_asset_key(dataset)

    @multi_asset_check(
        name=f"{dataset.name}_fingerprints",
        specs=[
            AssetCheckSpec(
                name="unique_key",
                asset=asset_key,
                blocking=True,
                description=(
                    f"No two rows of {dataset.table} share ({key}): the keys of every partition "
                    "loaded since the checks last passed are looked for in every other row."
                ),
            ),
            AssetCheckSpec(
                name="unchanged_since_load",
                asset=asset_key,
                blocking=True,
                description=(
                    f"Every arrival day of {dataset.table} holds the rows its load wrote: same "
                    "count, same hash of their values. Days whose count or row groups changed "
                    "since the checks last passed are re-hashed."
                ),
            ),
        ],
        pool=WAREHOUSE_WRITER_POOL,
    )
    def check(warehouse: DuckDBResource) -> Iterator[AssetCheckResult]:
        with warehouse.get_connection() as connection, transaction(connection):
            result = fingerprints.verify(connection, dataset)
            if result.passed:
                fingerprints.accept(connection, dataset, result)
        yield AssetCheckResult(
            asset_key=asset_key,
            check_name="unique_key",
            passed=not result.repeated_keys,
            description=f"{len(result.repeated_keys)} keys appear more than once",
            metadata={
                "repeated_keys": len(result.repeated_keys),
                "examples": "\n".join(result.repeated_keys[:MAX_LISTED]) or "none",
            },
        )
        yield AssetCheckResult(
            asset_key=asset_key,
            check_name="unchanged_since_load",
            passed=not result.differences,
            description="; ".join(result.differences[:MAX_LISTED])
            or "every partition holds the rows its load wrote",
            metadata={
                "partitions_changed": len(result.differences),
                "partitions_rehashed": result.partitions_verified,
                "partitions_unread": result.partitions_trusted,
            },
        )

    return check


def reconciliation_failures(connection: duckdb.DuckDBPyConnection, dataset: Dataset) -> list[str]:
    """Files whose manifest breaks `read = loaded + rejected + duplicates`, or whose manifest
    counts differ from the rows the tables actually hold for the file."""
    rows = connection.execute(
        f"""
        with actual as (
            select _source_file as file_path, count(*) as loaded, 0 as rejected, 0 as duplicate
            from {dataset.table} group by all
            union all
            select _source_file, 0, count(*), 0 from {dataset.rejected_table} group by all
            union all
            select _source_file, 0, 0, count(*) from {dataset.duplicates_table} group by all
        ),
        per_file as (
            select file_path, sum(loaded) as loaded, sum(rejected) as rejected,
                sum(duplicate) as duplicate
            from actual group by file_path
        )
        select
            coalesce(m.file_path, a.file_path),
            m.rows_read, m.rows_loaded, m.rows_rejected, m.rows_duplicate,
            coalesce(a.loaded, 0), coalesce(a.rejected, 0), coalesce(a.duplicate, 0)
        from (select * from raw.load_manifest where dataset = ?) as m
        full join per_file as a using (file_path)
        where m.file_path is null
            or m.rows_read <> m.rows_loaded + m.rows_rejected + m.rows_duplicate
            or m.rows_loaded <> coalesce(a.loaded, 0)
            or m.rows_rejected <> coalesce(a.rejected, 0)
            or m.rows_duplicate <> coalesce(a.duplicate, 0)
        order by 1
        """,
        [dataset.name],
    ).fetchall()
    failures = []
    for path, read, loaded, rejected, duplicate, in_table, in_rejected, in_duplicates in rows:
        if read is None:
            failures.append(f"{path}: rows in the tables but no manifest entry")
        else:
            failures.append(
                f"{path}: manifest read {read} = loaded {loaded} + rejected {rejected} + "
                f"duplicates {duplicate}; tables hold {in_table} + {in_rejected} + {in_duplicates}"
            )
    return failures


def _reconciles(dataset: Dataset) -> AssetChecksDefinition:
    @asset_check(
        asset=landing_asset_key(dataset),
        name="reconciles_with_manifest",
        description=(
            "For every landing file: rows read = rows loaded + rows rejected + duplicates, "
            "and the tables hold exactly those rows."
        ),
        blocking=True,
        pool=WAREHOUSE_WRITER_POOL,
    )
    def check(warehouse: DuckDBResource) -> AssetCheckResult:
        with warehouse.get_connection() as connection:
            failures = reconciliation_failures(connection, dataset)
        return AssetCheckResult(
            passed=not failures,
            description=f"{len(failures)} files do not reconcile",
            metadata={
                "files_not_reconciling": len(failures),
                "examples": "\n".join(failures[:MAX_LISTED]) or "none",
            },
        )

    return check


def events_freshness_problem(
    connection: duckdb.DuckDBPyConnection, now: datetime, max_age: timedelta
) -> str | None:
    newest = connection.execute(f"select max(received_at) from {EVENTS.table}").fetchone()[0]
    if newest is None:
        return "no events have been loaded"
    if now - newest > max_age:
        return f"the newest event was received at {newest:%Y-%m-%d %H:%M} UTC, {now - newest} ago"
    return None


def _no_stray_files(dataset: Dataset, settings: Settings) -> AssetChecksDefinition:
    @asset_check(
        asset=landing_asset_key(dataset),
        name="no_stray_files",
        description=(
            f"Warns about every file under raw_landing/{dataset.name}/ that no partition loads "
            "(outside a date=YYYY-MM-DD folder, in a folder whose name is not a valid date, in "
            "a subfolder of one, or not a .parquet file), naming each. It does not block: the "
            "other files load, and the warning stays until the file is moved or deleted."
        ),
        pool=WAREHOUSE_WRITER_POOL,
    )
    def check() -> AssetCheckResult:
        strays = stray_files(settings.raw_landing_dir, dataset)
        return AssetCheckResult(
            passed=not strays,
            severity=AssetCheckSeverity.WARN,
            description=(
                stray_files_summary(dataset, strays)
                if strays
                else "every file is in a date=YYYY-MM-DD folder"
            ),
            metadata={
                "stray_files": len(strays),
                "files": MetadataValue.md(stray_files_markdown(strays)),
            },
        )

    return check


def _events_freshness(settings: Settings) -> AssetChecksDefinition:
    max_age = timedelta(hours=settings.freshness_warn_hours)

    @asset_check(
        asset=landing_asset_key(EVENTS),
        name="fresh",
        description=(
            f"Warns when the newest event was received more than {settings.freshness_warn_hours}"
            " hours ago (FRESHNESS_WARN_HOURS): files may have stopped landing."
        ),
        pool=WAREHOUSE_WRITER_POOL,
    )
    def check(warehouse: DuckDBResource) -> AssetCheckResult:
        now = datetime.now(UTC).replace(tzinfo=None)
        with warehouse.get_connection() as connection:
            problem = events_freshness_problem(connection, now, max_age)
        return AssetCheckResult(
            passed=problem is None,
            severity=AssetCheckSeverity.WARN,
            description=problem or "events are fresh",
        )

    return check


def events_volume_problem(connection: duckdb.DuckDBPyConnection, today: date) -> str | None:
    """Whether the latest complete arrival day has fewer than half the events of the median of
    the 7 days before it (days with no events count as 0)."""
    latest = connection.execute(
        f"select max(_landing_date) from {EVENTS.table} where _landing_date < ?", [today]
    ).fetchone()[0]
    if latest is None:
        return None
    counts = dict(
        connection.execute(
            f"""
            select _landing_date, count(*) from {EVENTS.table}
            where _landing_date between ? - interval 7 day and ?
            group by all
            """,
            [latest, latest],
        ).fetchall()
    )
    first_landed = connection.execute(f"select min(_landing_date) from {EVENTS.table}").fetchone()[
        0
    ]
    trailing = [
        counts.get(latest - timedelta(days=n), 0)
        for n in range(1, 8)
        if latest - timedelta(days=n) >= first_landed
    ]
    if len(trailing) < 3:
        return None
    median = statistics.median(trailing)
    if counts.get(latest, 0) < median / 2:
        return (
            f"{latest} has {counts.get(latest, 0)} events, less than half the median "
            f"{median:g} of the {len(trailing)} days before it"
        )
    return None


def _events_volume() -> AssetChecksDefinition:
    @asset_check(
        asset=landing_asset_key(EVENTS),
        name="volume",
        description=(
            "Warns when the latest complete arrival day has less than half the events of the "
            "median of the 7 days before it."
        ),
        pool=WAREHOUSE_WRITER_POOL,
    )
    def check(warehouse: DuckDBResource) -> AssetCheckResult:
        with warehouse.get_connection() as connection:
            problem = events_volume_problem(connection, datetime.now(UTC).date())
        return AssetCheckResult(
            passed=problem is None,
            severity=AssetCheckSeverity.WARN,
            description=problem or "volume is in line with the trailing week",
        )

    return check


def build_landing_checks(settings: Settings) -> list[AssetChecksDefinition]:
    """Blocking contract checks on every landing table, warnings on files no partition loads,
    and warnings on the events' arrival."""
    blocking = [
        factory(dataset)
        for dataset in DATASETS.values()
        for factory in (_matches_contract, _fingerprint_checks, _reconciles)
    ]
    stray = [_no_stray_files(dataset, settings) for dataset in DATASETS.values()]
    return [*blocking, *stray, _events_freshness(settings), _events_volume()]


def declared_contracts(
    manifest_path: Path, *, tables_only: bool = False
) -> dict[AssetKey, tuple[str, list[tuple[str, str]]]]:
    """Every model with an enforced contract (only those stored as tables, when asked): its
    relation and its declared (column, type)."""
    manifest = json.loads(manifest_path.read_text())
    return {
        TRANSLATOR.get_asset_key(node): (
            f"{node['schema']}.{node['alias']}",
            [(column["name"], column["data_type"]) for column in node["columns"].values()],
        )
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"]["contract"]["enforced"]
        and not (tables_only and node["config"]["materialized"] == "view")
    }


def build_model_contract_checks(
    dbt_assets: list[AssetsDefinition], manifest_path: Path, settings: Settings
) -> list[AssetChecksDefinition]:
    """Blocking checks that each contracted model's table has exactly the columns and types its
    YAML declares. dbt enforces the contract when it builds the model; these checks hold the
    table analysts and the publication read to it, whoever wrote it last. One check step per
    group of dbt assets, so that a group's checks can gate the groups downstream of it.

    On Spark, a table is read from its Parquet files, with the types DuckDB reads them as; a
    view has no files to read, and keeps the check dbt makes of its columns when it creates it.
    """
    contracts = declared_contracts(manifest_path, tables_only=settings.on_spark)
    if settings.on_spark:
        # Spark has no JSON type: its contract declares the JSON text a string.
        contracts = {
            key: (relation, [(c, "varchar" if t.lower() == "json" else t) for c, t in columns])
            for key, (relation, columns) in contracts.items()
        }
    return [
        _contract_check(f"{group.node_def.name}_match_contracts", contracted, settings)
        for group in dbt_assets
        if (contracted := {key: contracts[key] for key in group.keys if key in contracts})
    ]


def _contract_check(
    name: str, contracts: dict[AssetKey, tuple[str, list[tuple[str, str]]]], settings: Settings
) -> AssetChecksDefinition:
    @multi_asset_check(
        name=name,
        specs=[
            AssetCheckSpec(
                name="matches_contract",
                asset=key,
                blocking=True,
                description=f"{relation} has exactly the columns and types its contract declares.",
            )
            for key, (relation, _) in contracts.items()
        ],
        pool=WAREHOUSE_WRITER_POOL,
    )
    def check(warehouse: DuckDBResource) -> Iterator[AssetCheckResult]:
        with warehouse.get_connection() as connection, built_tables(connection, settings) as db:
            for key, (relation, columns) in contracts.items():
                differences = table_schema_differences(
                    connection, relation, canonical_types(connection, columns), db
                )
                yield AssetCheckResult(
                    asset_key=key,
                    check_name="matches_contract",
                    passed=not differences,
                    description="; ".join(differences) or "columns and types match the contract",
                )

    return check
