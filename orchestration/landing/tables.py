"""The landing tables of the `raw` schema, created from the contract.

For every dataset (`events`, `metrics`):
- `raw.<dataset>`: one row per key, the contract's columns then the lineage columns.
- `raw.<dataset>_duplicates`: every other delivery of a key, with the winner it lost to.
- `raw.<dataset>_rejected`: rows that broke the contract, with the reason and the row as it was.
And `raw.load_manifest`: one row per landing file and load, with its counts.
"""

from __future__ import annotations

import duckdb

from orchestration.contract import DATASETS, Dataset

LOAD_MANIFEST_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("dataset", "VARCHAR", "Dataset the file belongs to: events or metrics."),
    ("landing_date", "DATE", "Arrival-date partition of the file."),
    ("file_path", "VARCHAR", "File path relative to raw_landing/."),
    ("file_size_bytes", "BIGINT", "Size of the file."),
    ("file_sha256", "VARCHAR", "SHA-256 of the file's bytes."),
    ("status", "VARCHAR", "loaded, or rejected when the file could not be used at all."),
    ("reason", "VARCHAR", "Why the file was rejected; NULL when loaded."),
    ("rows_read", "BIGINT", "Rows in the file (0 when it could not be read)."),
    ("rows_loaded", "BIGINT", "Rows of the file that are in raw.<dataset>."),
    ("rows_rejected", "BIGINT", "Rows of the file in raw.<dataset>_rejected."),
    ("rows_duplicate", "BIGINT", "Rows of the file in raw.<dataset>_duplicates."),
    (
        "extra_columns",
        "VARCHAR[]",
        "Columns of the file that the contract does not know (ignored).",
    ),
    ("loaded_at", "TIMESTAMP", "When the file was loaded (UTC)."),
)

REJECTED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("_source_file", "VARCHAR", "Landing file, relative to raw_landing/."),
    ("_source_row", "BIGINT", "Row number in the landing file, from 0."),
    ("_landing_date", "DATE", "Arrival-date partition the file landed in."),
    ("reject_columns", "VARCHAR[]", "Columns that broke the contract."),
    ("reject_reason", "VARCHAR", "What was wrong, one clause per broken rule."),
    ("raw_row", "JSON", "The row as it was in the file (IP address anonymized)."),
    ("_rejected_at", "TIMESTAMP", "When the row was rejected (UTC)."),
)

DUPLICATE_EXTRA_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("_kept_source_file", "VARCHAR", "Landing file of the delivery that was kept."),
    ("_kept_source_row", "BIGINT", "Row of the delivery that was kept."),
)


def _columns_ddl(columns: tuple[tuple[str, str, str], ...]) -> str:
    return ",\n    ".join(f'"{name}" {sql_type}' for name, sql_type, _ in columns)


def dataset_table_columns(dataset: Dataset) -> tuple[tuple[str, str, str], ...]:
    return tuple((c.name, c.type.duckdb, c.description) for c in dataset.table_columns())


def create_landing_tables(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and its tables if they do not exist yet."""
    connection.execute("create schema if not exists raw")
    manifest_columns = _columns_ddl(LOAD_MANIFEST_COLUMNS)
    connection.execute(f"create table if not exists raw.load_manifest (\n    {manifest_columns}\n)")
    for dataset in DATASETS.values():
        columns = dataset_table_columns(dataset)
        connection.execute(
            f"create table if not exists {dataset.table} (\n    {_columns_ddl(columns)}\n)"
        )
        connection.execute(
            f"create table if not exists {dataset.duplicates_table} (\n"
            f"    {_columns_ddl(columns + DUPLICATE_EXTRA_COLUMNS)}\n)"
        )
        connection.execute(
            f"create table if not exists {dataset.rejected_table} (\n"
            f"    {_columns_ddl(REJECTED_COLUMNS)}\n)"
        )
