"""Fingerprints of the landing partitions, so that the blocking checks verify what changed since
they last passed instead of re-reading every row on every run.

A load records, in its own transaction, one row per arrival day whose rows it changed (the days
it loaded and the days whose deliveries won or lost against them) in `raw.landing_fingerprints`:
the day's row count and the sum, as HUGEINT, of DuckDB's `hash()` of each row. A sum is indifferent
to row order but not to a repeated row, and hashing a row's columns in their order tells a value
from the same value in another column.

The checks then re-hash only the days that may differ from their fingerprint:
- days whose row count differs from it (a row deleted, inserted or moved to another day);
- days loaded since the checks last passed, whose keys are also checked against every other day;
- days with rows in a row group DuckDB has written since the checks last passed. Every row group
  is known by a signature of its storage (blocks, offsets, counts, statistics), kept in
  `raw.landing_row_groups` when the checks pass: DuckDB writes a changed value into new blocks,
  or holds it as a pending update, so an UPDATE shows there though it keeps the count.

A day whose rows differ from its fingerprint fails the checks, unless its manifest rows changed
with it: forgetting a person deletes rows and takes them off the manifest in one transaction.
Such a day's fingerprint is taken again once the checks pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import duckdb

from orchestration.contract import Dataset
from orchestration.landing import key_hashes
from orchestration.sql import quote_identifier

FINGERPRINTS_TABLE = "raw.landing_fingerprints"
ROW_GROUPS_TABLE = "raw.landing_row_groups"

FINGERPRINT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("dataset", "VARCHAR", "Dataset of the partition: events or metrics."),
    ("landing_date", "DATE", "Arrival-date partition."),
    ("row_count", "BIGINT", "Rows of raw.<dataset> in the partition."),
    ("content_hash", "HUGEINT", "Sum of hash() of the partition's rows over hashed_columns."),
    ("hashed_columns", "VARCHAR[]", "The columns hashed, in order."),
    ("manifest_hash", "UBIGINT", "hash() of the partition's manifest rows (path, SHA-256, rows)."),
    (
        "keys_verified",
        "BOOLEAN",
        "Whether the checks have found the partition's keys in no other row since it was loaded.",
    ),
    ("recorded_at", "TIMESTAMP", "When the fingerprint was taken (UTC)."),
)

ROW_GROUP_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("dataset", "VARCHAR", "Dataset of the table: events or metrics."),
    ("signature", "VARCHAR", "MD5 of the row group's segments: blocks, offsets, counts, stats."),
    ("verified_at", "TIMESTAMP", "When the checks last passed with this row group (UTC)."),
)


@dataclass(frozen=True)
class Fingerprint:
    row_count: int
    content_hash: int


@dataclass
class Verification:
    """What the checks found in one landing table."""

    table: str
    differences: list[str] = field(default_factory=list)
    """One line per partition whose rows differ from what its load wrote."""
    repeated_keys: list[str] = field(default_factory=list)
    """One line per key that more than one row holds, with the partitions holding it."""
    partitions_verified: int = 0
    """Partitions whose rows were re-hashed."""
    partitions_trusted: int = 0
    """Partitions left unread: count and row groups unchanged since the checks last passed."""
    retake: list[date] = field(default_factory=list)
    """Partitions changed with their manifest (by a forget), to fingerprint again."""
    signatures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.differences and not self.repeated_keys


def _date_list(dates: Iterable[date]) -> str:
    return "[" + ", ".join(f"date '{day.isoformat()}'" for day in sorted(set(dates))) + "]"


def _hash_expression(columns: list[str]) -> str:
    return f"hash({', '.join(quote_identifier(name) for name in columns)})::hugeint"


def partition_contents(
    connection: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    columns: list[str],
    partitions: Iterable[date],
) -> dict[date, Fingerprint]:
    """Row count and content hash of each partition, as the table holds it now."""
    rows = connection.execute(
        f"""
        select _landing_date, count(*), sum({_hash_expression(columns)})
        from {dataset.table}
        where _landing_date in (select unnest({_date_list(partitions)}))
        group by all
        """
    ).fetchall()
    return {day: Fingerprint(count, int(total)) for day, count, total in rows}


def _manifest_hashes(
    connection: duckdb.DuckDBPyConnection, dataset: Dataset, partitions: Iterable[date]
) -> dict[date, int]:
    rows = connection.execute(
        f"""
        select landing_date,
            hash(string_agg(concat_ws(':', file_path, file_sha256, rows_loaded), ','
                order by file_path))
        from raw.load_manifest
        where dataset = ? and landing_date in (select unnest({_date_list(partitions)}))
        group by all
        """,
        [dataset.name],
    ).fetchall()
    return dict(rows)


def record_fingerprints(
    connection: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    dates: Iterable[date],
    competing: Iterable[date],
) -> None:
    """Fingerprint the partitions a load just wrote, and `competing`, the other partitions
    whose rows the load changed (deliveries of theirs that now win or now lose against it).
    Call it inside the load's transaction, after the rows are written."""
    _write_fingerprints(connection, dataset, set(dates) | set(competing), keys_verified=False)


def _write_fingerprints(
    connection: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    partitions: set[date],
    *,
    keys_verified: bool,
) -> None:
    if not partitions:
        return
    columns = [column.name for column in dataset.table_columns()]
    contents = partition_contents(connection, dataset, columns, partitions)
    manifests = _manifest_hashes(connection, dataset, partitions)
    connection.execute(
        f"delete from {FINGERPRINTS_TABLE} "
        f"where dataset = ? and landing_date in (select unnest({_date_list(partitions)}))",
        [dataset.name],
    )
    connection.executemany(
        f"""
        insert into {FINGERPRINTS_TABLE} (dataset, landing_date, row_count, content_hash,
            hashed_columns, manifest_hash, keys_verified, recorded_at)
        values (?, ?, ?, ?::hugeint, ?, ?, ?, cast(now() as timestamp))
        """,
        [
            (
                dataset.name,
                day,
                contents.get(day, Fingerprint(0, 0)).row_count,
                str(contents.get(day, Fingerprint(0, 0)).content_hash),
                columns,
                manifests.get(day),
                keys_verified,
            )
            for day in sorted(partitions)
        ],
    )


@dataclass(frozen=True)
class _RowGroup:
    signature: str
    first_row: int
    rows: int
    settled: bool
    """All its segments are on disk and have no pending update."""


def _row_groups(connection: duckdb.DuckDBPyConnection, dataset: Dataset) -> list[_RowGroup]:
    rows = connection.execute(
        """
        select
            md5(string_agg(
                concat_ws(':', column_path, segment_id, start, count, compression, block_id,
                    block_offset, additional_block_ids::varchar, stats::varchar),
                ';' order by column_path, segment_id
            )),
            sum(count) filter (where column_path = '[0]'),
            bool_and(persistent and not has_updates)
        from pragma_storage_info(?)
        group by row_group_id
        order by row_group_id
        """,
        [dataset.table],
    ).fetchall()
    groups, first_row = [], 0
    for signature, count, settled in rows:
        groups.append(_RowGroup(signature, first_row, count, settled))
        first_row += count
    return groups


def _partitions_in(
    connection: duckdb.DuckDBPyConnection, dataset: Dataset, groups: list[_RowGroup]
) -> set[date]:
    if not groups:
        return set()
    ranges = " or ".join(
        f"rowid between {group.first_row} and {group.first_row + group.rows - 1}"
        for group in groups
    )
    return {
        day
        for (day,) in connection.execute(
            f"select distinct _landing_date from {dataset.table} where {ranges}"
        ).fetchall()
    }


def verify(connection: duckdb.DuckDBPyConnection, dataset: Dataset) -> Verification:
    """Compare the table with its partitions' fingerprints, re-hashing only the partitions that
    may have changed since the checks last passed, and look for the keys of the partitions loaded
    since then in every other row. A table that has no fingerprint yet is fingerprinted first,
    and all of it verified."""
    result = Verification(dataset.table)
    recorded = {
        day: (Fingerprint(count, int(content)), list(columns), manifest, verified)
        for day, count, content, columns, manifest, verified in connection.execute(
            f"""
            select landing_date, row_count, content_hash, hashed_columns, manifest_hash,
                keys_verified
            from {FINGERPRINTS_TABLE} where dataset = ?
            """,
            [dataset.name],
        ).fetchall()
    }
    counts = dict(
        connection.execute(
            f"select _landing_date, count(*) from {dataset.table} group by all"
        ).fetchall()
    )
    if not recorded and counts:
        _write_fingerprints(connection, dataset, set(counts), keys_verified=False)
        return verify(connection, dataset)
    groups = _row_groups(connection, dataset)
    result.signatures = [group.signature for group in groups]
    trusted = {
        signature
        for (signature,) in connection.execute(
            f"select signature from {ROW_GROUPS_TABLE} where dataset = ?", [dataset.name]
        ).fetchall()
    }
    rewritten = [g for g in groups if not g.settled or g.signature not in trusted]
    unverified = {day for day, (_, _, _, verified) in recorded.items() if not verified}
    recounted = {
        day for day in recorded.keys() | counts.keys() if counts.get(day, 0) != _rows(recorded, day)
    }
    suspects = recounted | unverified | _partitions_in(connection, dataset, rewritten)
    result.partitions_verified = len(suspects)
    result.partitions_trusted = len(recorded.keys() | counts.keys()) - len(suspects)
    by_columns: dict[tuple[str, ...], set[date]] = {}
    for day in suspects:
        columns = recorded[day][1] if day in recorded else [c.name for c in dataset.table_columns()]
        by_columns.setdefault(tuple(columns), set()).add(day)
    actual: dict[date, Fingerprint] = {}
    for columns, days in by_columns.items():
        actual |= partition_contents(connection, dataset, list(columns), days)
    manifests = _manifest_hashes(connection, dataset, suspects)
    for day in sorted(suspects):
        now = actual.get(day, Fingerprint(0, 0))
        if day not in recorded:
            result.differences.append(
                f"{dataset.table} {day}: {now.row_count} rows in a partition no load wrote"
            )
            continue
        loaded, _, manifest, _ = recorded[day]
        if now == loaded:
            continue
        if manifests.get(day) != manifest:
            result.retake.append(day)
        elif now.row_count != loaded.row_count:
            result.differences.append(
                f"{dataset.table} {day}: {loaded.row_count} rows when loaded, {now.row_count} now"
            )
        else:
            result.differences.append(
                f"{dataset.table} {day}: the {now.row_count} rows it was loaded with, but "
                "values in them differ from what the load wrote"
            )
    changed = {
        day for day in suspects if actual.get(day, Fingerprint(0, 0)) != _loaded(recorded, day)
    }
    keyed = unverified | changed
    result.repeated_keys = _repeated_keys(
        connection, dataset, keyed, every_partition=keyed >= counts.keys()
    )
    return result


def _loaded(recorded: dict[date, tuple], day: date) -> Fingerprint | None:
    return recorded[day][0] if day in recorded else None


def _rows(recorded: dict[date, tuple], day: date) -> int:
    return recorded[day][0].row_count if day in recorded else 0


def _repeated_keys(
    connection: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    partitions: set[date],
    *,
    every_partition: bool = False,
) -> list[str]:
    """Keys held by a row of `partitions` and by any other row of the table (`every_partition`:
    `partitions` are all the table's).

    The keys are grouped by their `hash()` first, a 64-bit integer, which costs a fraction of
    grouping the key's strings; only the rows of the hashes held more than once (the repeated
    keys, and keys that merely share a hash) are grouped by the key itself."""
    if not partitions:
        return []
    key = key_hashes.key_sql(dataset)
    key_hash = key_hashes.key_hash(key)
    of_partitions = (
        ""
        if every_partition
        else f"""
        where {key_hash} in (
            select {key_hash} from {dataset.table}
            where _landing_date in (select unnest({_date_list(partitions)}))
        )"""
    )
    rows = connection.execute(
        f"""
        with repeated_hashes as (
            select {key_hash} as key_hash from {dataset.table}{of_partitions}
            group by all
            having count(*) > 1
        )
        select {key}, count(*), list(distinct _landing_date order by _landing_date)
        from {dataset.table}
        where {key_hash} in (select key_hash from repeated_hashes)
        group by all
        having count(*) > 1
        order by all
        """
    ).fetchall()
    return [
        f"{dataset.table} ({', '.join(map(str, row[:-2]))}): {row[-2]} rows, in "
        + ", ".join(day.isoformat() for day in row[-1])
        for row in rows
    ]


def accept(connection: duckdb.DuckDBPyConnection, dataset: Dataset, result: Verification) -> None:
    """Record that the table passed: its keys are verified, the partitions a forget changed are
    fingerprinted again, and its row groups are those the next checks need not re-read."""
    _write_fingerprints(connection, dataset, set(result.retake), keys_verified=True)
    connection.execute(
        f"update {FINGERPRINTS_TABLE} set keys_verified = true "
        "where dataset = ? and not keys_verified",
        [dataset.name],
    )
    connection.execute(f"delete from {ROW_GROUPS_TABLE} where dataset = ?", [dataset.name])
    if result.signatures:
        connection.executemany(
            f"insert into {ROW_GROUPS_TABLE} values (?, ?, cast(now() as timestamp))",
            [(dataset.name, signature) for signature in result.signatures],
        )
