"""The index of every delivery's key hash by arrival day: where a load finds its contested keys.

A load must rank every delivery of each key it brings, wherever in the history the other
deliveries landed. Reading the keys of every earlier day to find them costs each load a scan
of the whole table's key strings, and a full build of D days D such scans. Instead, each load
writes the 64-bit `hash()` of the key of every delivery it keeps (loaded or duplicate) with
its arrival day into `raw.<dataset>_key_hashes`, and the next load reads that narrow table to
find the few days that hold one of its hashes; only those days' rows are read, by their keys.

The index may hold more than the tables, never less: rows a forget deletes leave their hashes,
which only send a load to read a day for nothing; a cleanup removes a day's hashes with its
rows (they share `_landing_date`). DuckDB does not promise `hash()` stays the same from one
version to the next, so `raw.key_hash_indexes` keeps, per dataset, the hash of a fixed value
as the index was built; a load that computes another one builds the index again from the
tables, as it does the first time (a warehouse whose rows predate the index).
"""

from __future__ import annotations

import duckdb

from orchestration.contract import DATASETS, Dataset
from orchestration.sql import DeclaredTable, quote_identifier

KEY_HASH_INDEXES_TABLE = "raw.key_hash_indexes"

KEY_HASH_INDEX_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("dataset", "VARCHAR", "Dataset whose key hashes raw.<dataset>_key_hashes holds."),
    (
        "hash_probe",
        "UBIGINT",
        "hash() of a fixed value when the index was built: another value means DuckDB's hash "
        "changed, and the index is built again.",
    ),
    ("built_at", "TIMESTAMP", "When the index was built from the tables (UTC)."),
)

KEY_HASH_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("_landing_date", "DATE", "Arrival-date partition of a delivery, loaded or duplicate."),
    ("key_hash", "UBIGINT", "hash() of the delivery's key."),
)

_PROBE = "'analytics warehouse key hash probe'"


def key_hash(key: str) -> str:
    """The SQL of the 64-bit hash of a key (`key`: its columns, comma-separated). Keys that
    share a hash are told apart by their columns wherever it is used."""
    return f"hash({key})"


def key_sql(dataset: Dataset, table_alias: str | None = None) -> str:
    """The dataset's key columns, comma-separated (qualified by `table_alias`)."""
    prefix = f"{table_alias}." if table_alias else ""
    return ", ".join(prefix + quote_identifier(name) for name in dataset.key)


def key_hash_tables() -> list[DeclaredTable]:
    return [DeclaredTable(KEY_HASH_INDEXES_TABLE, KEY_HASH_INDEX_COLUMNS)] + [
        DeclaredTable(dataset.key_hashes_table, KEY_HASH_COLUMNS, frozenset(["_landing_date"]))
        for dataset in DATASETS.values()
    ]


def ensure_index(connection: duckdb.DuckDBPyConnection, dataset: Dataset) -> None:
    """Build the dataset's index from its tables unless it was built with today's `hash()`.
    Run in a transaction of its own, before the load's (see `loader._load_batch`)."""
    probe_key = ", ".join(f"{_PROBE} as {quote_identifier(name)}" for name in dataset.key)
    probe = connection.execute(
        f"select {key_hash(key_sql(dataset))} from (select {probe_key})"
    ).fetchone()[0]
    built = connection.execute(
        f"select hash_probe from {KEY_HASH_INDEXES_TABLE} where dataset = ?", [dataset.name]
    ).fetchone()
    if built is not None and built[0] == probe:
        return
    key = key_sql(dataset)
    connection.execute(f"delete from {dataset.key_hashes_table}")
    connection.execute(
        f"""
        insert into {dataset.key_hashes_table}
        select _landing_date, {key_hash(key)} from {dataset.table}
        union all
        select _landing_date, {key_hash(key)} from {dataset.duplicates_table}
        order by _landing_date
        """
    )
    connection.execute(f"delete from {KEY_HASH_INDEXES_TABLE} where dataset = ?", [dataset.name])
    connection.execute(
        f"insert into {KEY_HASH_INDEXES_TABLE} values (?, ?, cast(now() as timestamp))",
        [dataset.name, probe],
    )


def days_holding(
    connection: duckdb.DuckDBPyConnection, dataset: Dataset, hashes: str, partitions: str
) -> list[str]:
    """The arrival days other than `partitions` (an SQL list of dates) that hold a delivery
    whose key hash is among `hashes` (an SQL query of one column), as SQL date literals."""
    days = connection.execute(
        f"""
        select distinct _landing_date from {dataset.key_hashes_table}
        where _landing_date not in {partitions} and key_hash in ({hashes})
        order by 1
        """
    ).fetchall()
    return [f"date '{day.isoformat()}'" for (day,) in days]


def replace_partitions(
    connection: duckdb.DuckDBPyConnection, dataset: Dataset, partitions: str, hashes: str
) -> None:
    """Give `partitions` the hashes of the deliveries they now hold: `hashes`, an SQL query of
    (arrival day, key hash)."""
    connection.execute(
        f"delete from {dataset.key_hashes_table} where _landing_date in {partitions}"
    )
    connection.execute(f"insert into {dataset.key_hashes_table} {hashes}")
