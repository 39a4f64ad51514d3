"""The landing tables of the `raw` schema, created from the contract.

For every dataset (`events`, `metrics`):
- `raw.<dataset>`: one row per key, the contract's columns and the lineage columns.
- `raw.<dataset>_duplicates`: every other delivery of a key, with the winner it lost to.
- `raw.<dataset>_rejected`: rows that broke the contract, with the reason and the row as it was.
And `raw.load_manifest`: one row per landing file and load, with its counts; for the blocking
checks, `raw.landing_fingerprints` (per partition) and `raw.landing_row_groups` (see
`orchestration/landing/fingerprints.py`); for the dedup, `raw.<dataset>_key_hashes` and
`raw.key_hash_indexes` (see `orchestration/landing/key_hashes.py`); and `raw.user_agents`,
every distinct user agent of `raw.events` parsed (see `orchestration/landing/user_agents.py`).

When the contract or this module declares a new optional column, the next load adds it to the
tables that exist (NULL in their rows); other changes stop the load with what to do.
"""

from __future__ import annotations

import duckdb

from orchestration.contract import DATASETS, Dataset
from orchestration.landing.fingerprints import (
    FINGERPRINT_COLUMNS,
    FINGERPRINTS_TABLE,
    ROW_GROUP_COLUMNS,
    ROW_GROUPS_TABLE,
)
from orchestration.landing.key_hashes import key_hash_tables
from orchestration.landing.user_agents import (
    USER_AGENT_COLUMNS,
    USER_AGENT_KEY,
    USER_AGENTS_TABLE,
)
from orchestration.sql import DeclaredTable, create_tables_if_missing, transaction

MANIFEST_TABLE = "raw.load_manifest"

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


def dataset_table_columns(dataset: Dataset) -> tuple[tuple[str, str, str], ...]:
    return tuple((c.name, c.type.duckdb, c.description) for c in dataset.table_columns())


def landing_tables() -> list[DeclaredTable]:
    """Every table of the raw schema, as the contract and this module declare it."""
    tables = [
        DeclaredTable(MANIFEST_TABLE, LOAD_MANIFEST_COLUMNS),
        DeclaredTable(FINGERPRINTS_TABLE, FINGERPRINT_COLUMNS),
        DeclaredTable(ROW_GROUPS_TABLE, ROW_GROUP_COLUMNS),
        DeclaredTable(
            USER_AGENTS_TABLE,
            USER_AGENT_COLUMNS,
            required=frozenset(USER_AGENT_KEY),
            primary_key=USER_AGENT_KEY,
        ),
    ]
    for dataset in DATASETS.values():
        columns = dataset_table_columns(dataset)
        # Rows loaded before a required column was declared would have no value for it.
        required = frozenset(c.name for c in dataset.table_columns() if c.required)
        tables += [
            DeclaredTable(dataset.table, columns, required),
            DeclaredTable(dataset.duplicates_table, columns + DUPLICATE_EXTRA_COLUMNS, required),
            DeclaredTable(dataset.rejected_table, REJECTED_COLUMNS),
        ]
    return tables + key_hash_tables()


def create_landing_tables(
    connection: duckdb.DuckDBPyConnection, *, actor: str | None = None
) -> list[tuple[str, str, str]]:
    """Create the raw schema's tables, or add to them the optional columns declared since they
    were created (recorded in the audit log as done by `actor`); return the columns added as
    `(table, column, type)`. Any other change of the contract raises `SchemaChangeError`."""
    with transaction(connection):
        return create_tables_if_missing(connection, landing_tables(), actor=actor)
