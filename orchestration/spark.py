"""Apache Spark as the engine of the dbt models (`WAREHOUSE_ENGINE=spark`, `dbt --target spark`).

The raw tables as Parquet for Spark, which runs the same dbt project, and Spark's tables as
DuckDB views, for what reads the built tables outside dbt (row counts, contract checks, the
publication).

The landing validates, deduplicates and anonymizes into DuckDB; Spark reads what it loaded as
Parquet: `<directory>/<table>/_landing_date=YYYY-MM-DD/data.parquet` for `raw.events` and
`raw.metrics` (one folder per arrival day, Spark's partition layout) and
`<directory>/user_agents/data.parquet`. On Spark, the project declares its raw sources over
these folders before every run (`dbt_project/macros/spark_sources.sql`, with `RAW_PARQUET_DIR`
set to the directory).

Exporting arrival days again replaces their folders: each file is written beside its final
name and renamed over it, so a Spark run reading the folder sees a day whole, before or after.
A day without rows any more loses its folder.

Spark writes each table as plain Parquet files under `<tables>/<schema>.db/<table>/` (its
warehouse directory, `spark.sql.warehouse.dir`), which DuckDB reads as they are (`built_tables`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from orchestration.contract import DATASETS
from orchestration.landing.user_agents import USER_AGENTS_TABLE
from orchestration.mart_contracts import declared_models
from orchestration.settings import Settings
from orchestration.sql import quote_identifier, sql_string

PARTITION_COLUMN = "_landing_date"
# The database of `built_tables` that holds the views over Spark's tables.
SPARK_DATABASE = "spark_tables"


@dataclass(frozen=True)
class ExportedDay:
    table: str
    day: date
    rows: int


def export_raw_parquet(
    connection: duckdb.DuckDBPyConnection, directory: Path, days: Iterable[date] | None = None
) -> list[ExportedDay]:
    """Write the arrival days `days` (every day when None) of the raw tables to `directory`.

    The folders of days the table no longer holds (aged out by cleanup) are removed. The user
    agents are written whole every time (one small file). Returns the rows
    written per table and day.
    """
    directory.mkdir(parents=True, exist_ok=True)
    exported = []
    for dataset in DATASETS.values():
        table = dataset.table
        name = table.split(".", 1)[1]
        held = _days_of(connection, table)
        for day in sorted(set(days)) if days is not None else held:
            folder = directory / name / f"{PARTITION_COLUMN}={day.isoformat()}"
            rows = _export_day(connection, table, day, folder)
            exported.append(ExportedDay(table=table, day=day, rows=rows))
        kept = {f"{PARTITION_COLUMN}={day.isoformat()}" for day in held}
        for folder in (directory / name).glob(f"{PARTITION_COLUMN}=*"):
            if folder.name not in kept:
                shutil.rmtree(folder)
    _write_file(
        connection,
        f"select * from {USER_AGENTS_TABLE} order by user_agent",
        directory / USER_AGENTS_TABLE.split(".", 1)[1] / "data.parquet",
    )
    return exported


def _days_of(connection: duckdb.DuckDBPyConnection, table: str) -> list[date]:
    column = quote_identifier(PARTITION_COLUMN)
    rows = connection.execute(f"select distinct {column} from {table} order by 1").fetchall()
    return [day for (day,) in rows]


def _export_day(connection: duckdb.DuckDBPyConnection, table: str, day: date, folder: Path) -> int:
    column = quote_identifier(PARTITION_COLUMN)
    where = f"{column} = date {sql_string(day.isoformat())}"
    (rows,) = connection.execute(f"select count(*) from {table} where {where}").fetchone()
    if rows == 0:
        shutil.rmtree(folder, ignore_errors=True)
        return 0
    # The partition column lives in the folder name, as Spark lays partitions out.
    query = (
        f"select * exclude ({column}) from {table} where {where} order by _source_file, _source_row"
    )
    _write_file(connection, query, folder / "data.parquet")
    return rows


def _write_file(connection: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    connection.execute(f"copy ({query}) to {sql_string(str(partial))} (format parquet)")
    os.replace(partial, path)


@contextmanager
def built_tables(connection: duckdb.DuckDBPyConnection, settings: Settings) -> Iterator[str]:
    """The database, in `connection`, that holds the tables dbt built, for the block.

    On DuckDB, the warehouse itself. On Spark, a database attached for the block with a view of
    each table Spark wrote (`<schema>.<table>`, reading its Parquet files and, for a partitioned
    table, the partition column from its folders; Spark's views are left out, as they hold no
    rows of their own). A mart's view has its columns in the order of its YAML.
    """
    if not settings.on_spark:
        yield connection.execute("select current_database()").fetchone()[0]
        return
    marts_dir = settings.dbt_project_dir / "models" / "marts"
    declared = {
        mart: [column["name"] for column in columns]
        for mart, columns in (declared_models(marts_dir) if marts_dir.is_dir() else {}).items()
    }
    connection.execute(f"attach ':memory:' as {SPARK_DATABASE} (read_write)")
    try:
        for schema_dir in sorted(settings.spark_tables_dir.glob("*.db")):
            schema = quote_identifier(schema_dir.name.removesuffix(".db"))
            connection.execute(f"create schema {SPARK_DATABASE}.{schema}")
            for table_dir in sorted(path for path in schema_dir.iterdir() if path.is_dir()):
                if not any(table_dir.rglob("*.parquet")):
                    continue
                relation = f"{SPARK_DATABASE}.{schema}.{quote_identifier(table_dir.name)}"
                pattern = sql_string(str(table_dir / "**" / "*.parquet"))
                files = f"read_parquet({pattern}, hive_partitioning = true)"
                connection.execute(f"create view {relation} as from {files}")
                # A partitioned table holds its partition column last (in the folder names):
                # a mart's columns are read in the order its contract declares.
                order = declared.get(table_dir.name)
                stored = [
                    name
                    for (name,) in connection.execute(
                        f"select column_name from (describe {relation})"
                    ).fetchall()
                ]
                if order and order != stored and sorted(order) == sorted(stored):
                    listed = ", ".join(quote_identifier(column) for column in order)
                    connection.execute(
                        f"create or replace view {relation} as select {listed} from {files}"
                    )
        yield SPARK_DATABASE
    finally:
        connection.execute(f"detach database if exists {SPARK_DATABASE}")
