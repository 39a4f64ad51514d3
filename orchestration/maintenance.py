"""Retention and forget-a-person: the two ways rows leave the warehouse on purpose.

**Retention** (`cleanup`, the `maintenance/cleanup` asset, `warehouse cleanup`). "Older than"
means, per table:
- `raw.*` tables (events, metrics, their duplicates and rejected rows) and `raw.load_manifest`:
  the arrival day (`_landing_date`, the day of `received_at` that partitions the landing files)
  is more than `RAW_RETENTION_DAYS` before today. The landing folders of those days in
  `raw_landing/` are deleted too, so that no later run loads them again;
- event-level intermediate tables (e.g. `int_event_sessions`): their arrival day
  (`_landing_date`, else the day of `received_at`), with the same setting, since they hold one
  row per raw event;
- marts: the date or timestamp column the mart's YAML declares, read from dbt's manifest
  (`config: meta: retention: {column: session_start}`), is more than
  `AGGREGATE_RETENTION_DAYS` before today. A mart that keeps every row says why instead
  (`retention: {keep: <why>}`): users, identities, deployments, preferences, funnel
  definitions describe current state. A mart table that declares neither, or whose declared
  column it lacks, is kept and reported (`tests/dbt/test_mart_retention.py` fails on a mart
  of the project without a declaration, so a new mart must decide);
- `audit.built_arrival_days`: the days aged out of the manifest, so that the next run finds
  nothing to build for them (`orchestration/builds.py`);
- exports: a COMPLETED export past its `expires_at` loses its file and becomes EXPIRED.
Everything is removed in one transaction with its `cleanup` audit record.

**Forget a person** (`forget_person`, the `forget` job, `warehouse forget`). From a user_id, the
person is that user and every anonymous_id ever linked to it; from an anonymous_id, every user_id
linked to it and all of their anonymous_ids (or the anonymous_id alone). Links are read from every
table holding both an `anonymous_id` and a `user_id` (raw events and their duplicates, the
identity tables) and from the rejected rows. Then every row holding one of those ids in a person
column (`user_id`, `anonymous_id`, `person_id`) of any table, and every rejected row whose
`raw_row` holds one, is deleted; the landing files that held such rows are rewritten without them
(so no reload brings them back), and their `raw.load_manifest` rows take the new size, hash and
counts. Every kept publication (`published/versions/*`) is rewritten without the person at
once: each DuckDB and Parquet file that holds them is copied without their rows and the copy
renamed over it, and the manifest's row counts follow; a reader who has the old file open keeps
reading it. A publication a publish left half-built is deleted. Completed exports of a mart that
held the person may hold them too: their files are deleted and they become EXPIRED; files that
interrupted exports of such a mart left are deleted. Aggregates without a person column (hourly
rollups, page analytics, retention cohorts, dashboard tiles, ...) hold no one's identity and are
left as they are; the next run recounts those it rebuilds (see the README). Nothing else changes.
The `forget` audit record names the person only by the SHA-256 of the id given.
"""

import hashlib
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from dagster import (
    AssetExecutionContext,
    Config,
    MaterializeResult,
    MetadataValue,
    OpExecutionContext,
    asset,
    job,
    op,
)
from dagster_duckdb import DuckDBResource

from orchestration.audit import record_action
from orchestration.builds import BUILT_DAYS_TABLE
from orchestration.catalog import MARTS_SCHEMA, Table, base_tables
from orchestration.contract import DATASETS, EVENTS
from orchestration.exports import EXPORTS_TABLE, ExportStatus, create_exports_table
from orchestration.landing.loader import landed_dates, partition_dir
from orchestration.owners import SOURCE_OWNERS
from orchestration.publishing import (
    DATABASE_FILE,
    MANIFEST_FILE,
    PARQUET_DIR,
    PARQUET_OPTIONS,
    published_dir,
)
from orchestration.resources import WAREHOUSE_WRITER_POOL
from orchestration.settings import Settings
from orchestration.sql import quote_identifier, sql_string, transaction
from orchestration.transform import dbt_project

MAINTENANCE_GROUP = "maintenance"
RAW_SCHEMA = "raw"
INTERMEDIATE_SCHEMA = "intermediate"
# Forget deletes nothing here: the audit log and the export records are the history of actions.
_KEPT_SCHEMAS = ("audit",)
# The name every statement gives the row a person condition looks at.
_ROW = "candidate"


@dataclass
class Cleanup:
    """What one cleanup removed."""

    raw_cutoff: date
    aggregate_cutoff: date
    rows_removed: dict[str, int] = field(default_factory=dict)
    """Table -> rows deleted (every table looked at, zeros included)."""
    landing_folders_removed: list[str] = field(default_factory=list)
    exports_expired: list[str] = field(default_factory=list)
    marts_kept: list[str] = field(default_factory=list)
    """Marts that declare they keep every row."""
    marts_skipped: dict[str, str] = field(default_factory=dict)
    """Mart tables kept because their retention cannot be applied -> why."""

    @property
    def total_rows(self) -> int:
        return sum(self.rows_removed.values())


@dataclass(frozen=True)
class MartRetention:
    """A mart's `config: meta: retention` declaration: exactly one of the two."""

    column: str | None = None
    """Rows whose value of this date or timestamp column is before the aggregate cutoff go."""
    keep: str | None = None
    """Why the mart keeps every row."""


SPARK_MARTS_KEPT = (
    "the marts are built by Spark (WAREHOUSE_ENGINE=spark), whose Parquet tables cannot delete "
    "rows; a full refresh (warehouse run --full-refresh) rebuilds them from the raw rows kept"
)
RETENTION_DECLARATION = (
    "declare it in the mart's YAML under `config: meta: retention:`, either "
    "`{column: <date or timestamp column>}` or `{keep: <why every row is kept>}`"
)


def _mart_nodes(manifest: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The models and seeds of a dbt manifest that are tables of the marts schema, by table."""
    return {
        node["alias"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed") and node["schema"] == MARTS_SCHEMA
    }


def _declared_retention(node: Mapping[str, Any]) -> MartRetention | None:
    declared = node["config"].get("meta", {}).get("retention")
    if not isinstance(declared, Mapping) or len(declared) != 1:
        return None
    column, keep = declared.get("column"), declared.get("keep")
    if isinstance(column, str) and column:
        return MartRetention(column=column)
    if isinstance(keep, str) and keep.strip():
        return MartRetention(keep=keep)
    return None


def mart_retention(manifest: Mapping[str, Any]) -> dict[str, MartRetention]:
    """Each mart of a dbt manifest that declares its retention -> the declaration."""
    declared = {name: _declared_retention(node) for name, node in _mart_nodes(manifest).items()}
    return {name: retention for name, retention in declared.items() if retention is not None}


def retention_problems(manifest: Mapping[str, Any]) -> dict[str, str]:
    """Each mart of a dbt manifest whose retention declaration is missing or wrong -> what
    is wrong and what to do."""
    problems = {}
    for name, node in sorted(_mart_nodes(manifest).items()):
        retention = _declared_retention(node)
        if retention is None:
            problems[name] = f"no valid retention declaration: {RETENTION_DECLARATION}"
        elif retention.column is not None:
            data_type = (node["columns"].get(retention.column) or {}).get("data_type") or ""
            if data_type.lower() not in ("date", "timestamp"):
                problems[name] = (
                    f"retention column {retention.column!r} is not a column of the mart's YAML "
                    f"with data_type date or timestamp (found {data_type or 'none'!r})"
                )
    return problems


def project_retention(settings: Settings) -> dict[str, MartRetention]:
    """The retention each mart of the dbt project declares, read from its manifest."""
    manifest_path = dbt_project(settings.dbt_project_dir).manifest_path
    return mart_retention(json.loads(manifest_path.read_text()))


def cleanup(
    connection: duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    now: datetime | None = None,
    actor: str | None = None,
) -> Cleanup:
    """Remove what is past retention at `now` (UTC, default: the clock) and record it."""
    connection.execute("set TimeZone = 'UTC'")
    create_exports_table(connection)
    now = now or datetime.now(UTC).replace(tzinfo=None)
    today = now.date()
    result = Cleanup(
        raw_cutoff=today - timedelta(days=settings.raw_retention_days),
        aggregate_cutoff=today - timedelta(days=settings.aggregate_retention_days),
    )
    retention = project_retention(settings)
    tables = base_tables(connection)
    if settings.on_spark:
        # The marts and intermediate tables are Spark's, not in this file.
        for name, declared in sorted(retention.items()):
            if declared.column is not None:
                result.marts_skipped[name] = SPARK_MARTS_KEPT
    with transaction(connection):
        for table in tables:
            if table.schema == MARTS_SCHEMA:
                condition = _mart_retention_condition(table, retention.get(table.name), result)
            else:
                condition = _retention_condition(table, result)
            if condition is None:
                continue
            removed = connection.execute(
                f"delete from {table.relation} where {condition}"
            ).fetchone()[0]
            result.rows_removed[table.qualified_name] = removed
        expired = connection.execute(
            f"""
            update {EXPORTS_TABLE} set status = ?
            where status = ? and expires_at < ?
            returning path
            """,
            [ExportStatus.EXPIRED, ExportStatus.COMPLETED, now],
        ).fetchall()
        result.exports_expired = sorted(path for (path,) in expired)
        result.landing_folders_removed = [
            partition_dir(settings.raw_landing_dir, dataset, day)
            .relative_to(settings.raw_landing_dir)
            .as_posix()
            for dataset in DATASETS.values()
            for day in landed_dates(settings.raw_landing_dir, dataset)
            if day < result.raw_cutoff
        ]
        record_action(
            connection,
            "cleanup",
            "warehouse",
            actor=actor,
            rows_affected=result.total_rows,
            details={
                "raw_cutoff": result.raw_cutoff,
                "aggregate_cutoff": result.aggregate_cutoff,
                "rows_removed": {t: n for t, n in result.rows_removed.items() if n},
                "landing_folders_removed": result.landing_folders_removed,
                "exports_expired": len(result.exports_expired),
                "marts_skipped": result.marts_skipped,
            },
        )
    # Files go once the transaction holds: a failed cleanup leaves them, and a re-run retries.
    for folder in result.landing_folders_removed:
        shutil.rmtree(settings.raw_landing_dir / folder, ignore_errors=True)
    for path in result.exports_expired:
        Path(path).unlink(missing_ok=True)
    return result


def _retention_condition(table: Table, cleanup: Cleanup) -> str | None:
    """SQL selecting the table's rows past retention; None when retention does not apply."""
    raw_cutoff = f"date '{cleanup.raw_cutoff.isoformat()}'"
    if table.schema == RAW_SCHEMA:
        if "_landing_date" in table.columns:
            return f"_landing_date < {raw_cutoff}"
        if "landing_date" in table.columns:
            return f"landing_date < {raw_cutoff}"
        return None
    if table.schema == INTERMEDIATE_SCHEMA:
        if "_landing_date" in table.columns:
            return f"_landing_date < {raw_cutoff}"
        if "received_at" in table.columns:
            return f"received_at < {raw_cutoff}"
        return None
    if table.qualified_name == BUILT_DAYS_TABLE:
        # The days aged out of the manifest are no longer loaded, but not changed: nothing to
        # build for them.
        return f"landing_date < {raw_cutoff}"
    return None


def _mart_retention_condition(
    table: Table, retention: MartRetention | None, cleanup: Cleanup
) -> str | None:
    """SQL selecting a mart's rows past retention by its declared column; None when the mart
    keeps its rows (noted in `cleanup`)."""
    if retention is None:
        cleanup.marts_skipped[table.name] = f"it declares no retention: {RETENTION_DECLARATION}"
        return None
    if retention.keep is not None:
        cleanup.marts_kept.append(table.name)
        return None
    if retention.column not in table.columns:
        cleanup.marts_skipped[table.name] = (
            f"its declared retention column {retention.column!r} is not in the table; "
            "rebuild the mart or correct its YAML"
        )
        return None
    return f"{quote_identifier(retention.column)} < date '{cleanup.aggregate_cutoff.isoformat()}'"


@dataclass
class Forget:
    """What forgetting one person removed."""

    id_sha256: str
    linked_ids: int
    """How many ids (the one given, its linked user_ids and anonymous_ids) were forgotten."""
    rows_removed: dict[str, int] = field(default_factory=dict)
    landing_files_rewritten: list[str] = field(default_factory=list)
    exports_expired: list[str] = field(default_factory=list)
    """Files of completed exports of a mart that held the person, deleted."""
    unfinished_export_files_removed: list[str] = field(default_factory=list)
    """Files an interrupted export of such a mart left behind, deleted."""
    published_versions_rewritten: list[str] = field(default_factory=list)
    """Kept publications that held the person, their files rewritten without them."""
    unfinished_publications_removed: list[str] = field(default_factory=list)
    """Publications left half-built by a publish that did not finish, deleted."""

    @property
    def total_rows(self) -> int:
        return sum(self.rows_removed.values())

    @property
    def summary(self) -> str:
        return (
            f"Forgot person sha256:{self.id_sha256} ({self.linked_ids} linked ids): "
            f"{self.total_rows} rows removed, "
            f"{len(self.landing_files_rewritten)} landing files rewritten, "
            f"{len(self.published_versions_rewritten)} published versions rewritten"
        )


def id_sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _json_field(column: str, name: str) -> str:
    return f"json_extract_string({column}, {sql_string('$.' + name)})"


def _link_sources(tables: list[Table]) -> list[str]:
    """SELECTs of (tenant_id, anonymous_id, user_id) from every table that links the two."""
    sources = []
    for table in tables:
        if table.schema in _KEPT_SCHEMAS:
            continue
        if {"tenant_id", "anonymous_id", "user_id"} <= table.columns.keys():
            sources.append(f"select tenant_id, anonymous_id, user_id from {table.relation}")
        if table.columns.get("raw_row") == "JSON":
            tenant, anonymous, user = (
                _json_field("raw_row", name) for name in ("tenant_id", "anonymous_id", "user_id")
            )
            sources.append(f"select {tenant}, {anonymous}, {user} from {table.relation}")
    return sources


def _resolve_person(
    connection: duckdb.DuckDBPyConnection,
    tables: list[Table],
    *,
    user_id: str | None,
    anonymous_id: str | None,
    tenant_id: str | None,
) -> None:
    """Fill the temp table `_forget_ids (tenant_id, id)`: the ids of the person. A NULL
    tenant_id matches every tenant (the id as given, when no tenant was given)."""
    links = " union ".join(_link_sources(tables)) or (
        "select null::varchar, null::varchar, null::varchar where false"
    )
    connection.execute(
        f"""
        create or replace temp table _links as
        select * from ({links}) as l(tenant_id, anonymous_id, user_id)
        where anonymous_id is not null and user_id is not null
            and ($tenant is null or tenant_id = cast($tenant as varchar))
        """,
        {"tenant": tenant_id},
    )
    connection.execute(
        """
        create or replace temp table _forget_users as
        select cast($tenant as varchar) as tenant_id, cast($user as varchar) as user_id
        where $user is not null
        union
        select tenant_id, user_id from _links where anonymous_id = cast($anonymous as varchar)
        """,
        {"tenant": tenant_id, "user": user_id, "anonymous": anonymous_id},
    )
    connection.execute(
        """
        create or replace temp table _forget_ids as
        select tenant_id, user_id as id from _forget_users
        union
        select cast($tenant as varchar), cast($anonymous as varchar) where $anonymous is not null
        union
        select l.tenant_id, l.anonymous_id
        from _links as l join _forget_users as u
            on l.user_id = u.user_id and (u.tenant_id is null or l.tenant_id = u.tenant_id)
        """,
        {"tenant": tenant_id, "anonymous": anonymous_id},
    )


def _column(name: str) -> str:
    """A column of the row a person condition looks at, which the statement names `_ROW`:
    unqualified, `tenant_id` inside the condition's subquery would be `_forget_ids`' own."""
    return f"{_ROW}.{quote_identifier(name)}"


def _matches_person(values: dict[str, str], tenant: str | None) -> str:
    """SQL true when any of `values` (expressions) is one of the person's ids in the tenant."""
    tenant_match = f" and (f.tenant_id is null or f.tenant_id = {tenant})" if tenant else ""
    return " or ".join(
        f"exists (select 1 from _forget_ids as f where f.id = {expression}{tenant_match})"
        for expression in values.values()
    )


def _person_condition(table: Table) -> str | None:
    """SQL selecting the person's rows of a table, read as `_ROW`; None when the table holds
    no person id."""
    tenant = _column("tenant_id") if "tenant_id" in table.columns else None
    if table.person_columns:
        return _matches_person({name: _column(name) for name in table.person_columns}, tenant)
    if table.columns.get("raw_row") == "JSON":
        raw_row = _column("raw_row")
        return _matches_person(
            {name: _json_field(raw_row, name) for name in ("anonymous_id", "user_id")},
            _json_field(raw_row, "tenant_id"),
        )
    return None


@dataclass
class _Rewrite:
    path: Path
    source_file: str
    partial: Path
    size: int
    sha256: str


def _rewrite_landing_files(
    connection: duckdb.DuckDBPyConnection, raw_landing_dir: Path
) -> list[_Rewrite]:
    """Write, beside each events landing file holding the person's rows, a copy without them
    (same schema); the caller renames the copies over the originals once the warehouse holds."""
    rewrites = []
    for day in landed_dates(raw_landing_dir, EVENTS):
        for path in sorted(partition_dir(raw_landing_dir, EVENTS, day).glob("*.parquet")):
            file_sql = f"read_parquet({sql_string(str(path))}, file_row_number = true)"
            try:
                columns = {
                    name
                    for name, *_ in connection.execute(
                        f"describe select * from {file_sql}"
                    ).fetchall()
                }
                person = {
                    name: f"cast({_column(name)} as varchar)"
                    for name in ("anonymous_id", "user_id")
                    if name in columns
                }
                if not person:
                    continue
                tenant = (
                    f"cast({_column('tenant_id')} as varchar)" if "tenant_id" in columns else None
                )
                forgotten = connection.execute(
                    f"select file_row_number from {file_sql} as {_ROW} "
                    f"where {_matches_person(person, tenant)}"
                ).fetchall()
            except duckdb.Error:
                continue  # an unreadable file holds no rows the loader could have loaded
            if not forgotten:
                continue
            table = pq.read_table(path)
            keep = np.ones(table.num_rows, dtype=bool)
            keep[[row for (row,) in forgotten]] = False
            partial = _partial(path)
            pq.write_table(table.filter(pa.array(keep)), partial, compression="zstd")
            digest = hashlib.sha256(partial.read_bytes()).hexdigest()
            rewrites.append(
                _Rewrite(
                    path,
                    path.relative_to(raw_landing_dir).as_posix(),
                    partial,
                    partial.stat().st_size,
                    digest,
                )
            )
    return rewrites


def _partial(path: Path) -> Path:
    """Where the copy of `path` without the person is written, beside it, before it replaces it."""
    return path.with_name(f".{path.name}.forget")


def _remove_partial(partial: Path) -> None:
    partial.unlink(missing_ok=True)
    # A DuckDB file being written has its write-ahead log beside it.
    partial.with_name(f"{partial.name}.wal").unlink(missing_ok=True)


@dataclass
class _PublishedRewrite:
    """The files of one kept publication that held the person, each written anew beside itself
    as `(partial, path)`; renamed over the originals, the manifest last, once the warehouse
    holds. A rename is atomic, and a reader who has the old file open keeps reading it."""

    version: str
    replacements: list[tuple[Path, Path]] = field(default_factory=list)

    def discard(self) -> None:
        for partial, _ in self.replacements:
            _remove_partial(partial)

    def replace(self) -> None:
        for partial, path in self.replacements:
            partial.chmod(0o444)
            partial.replace(path)


def _rewrite_publications(
    connection: duckdb.DuckDBPyConnection, settings: Settings
) -> list[_PublishedRewrite]:
    """Write, beside each file of every kept publication that holds the person, a copy without
    them: the DuckDB file (in the storage version it had) and the Parquet files, and the
    manifest with the row counts left."""
    # Rewritten rather than published anew: a new publication would copy marts whose blocking
    # checks have not run since, and would push out the version kept for rollback. Each kept
    # version stays what it was, less the person.
    versions_dir = published_dir(settings) / "versions"
    versions = (
        sorted(p for p in versions_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
        if versions_dir.is_dir()
        else []
    )
    rewrites = []
    try:
        for version in versions:
            rewrite = _PublishedRewrite(version.name)
            rewrites.append(rewrite)
            row_counts = {}
            for parquet in sorted((version / PARQUET_DIR).glob("*.parquet")):
                rows = _write_parquet_without_person(connection, parquet, rewrite)
                if rows is not None:
                    row_counts[parquet.stem] = rows
            database = version / DATABASE_FILE
            if database.is_file():
                row_counts |= _write_database_without_person(connection, database, rewrite)
            manifest = version / MANIFEST_FILE
            if rewrite.replacements and manifest.is_file():
                _write_manifest_with_row_counts(manifest, row_counts, rewrite)
    except BaseException:
        for rewrite in rewrites:
            rewrite.discard()
        raise
    return [rewrite for rewrite in rewrites if rewrite.replacements]


def _write_parquet_without_person(
    connection: duckdb.DuckDBPyConnection, path: Path, rewrite: _PublishedRewrite
) -> int | None:
    """Copy a published Parquet file without the person's rows; the rows left, or None (and no
    copy) when it holds none of them."""
    source = f"read_parquet({sql_string(str(path))})"
    columns = dict(
        (name, column_type)
        for name, column_type, *_ in connection.execute(
            f"describe select * from {source}"
        ).fetchall()
    )
    condition = _person_condition(Table(PARQUET_DIR, path.stem, columns))
    if condition is None or not _holds_person(connection, source, condition):
        return None
    partial = _partial(path)
    rewrite.replacements.append((partial, path))
    (rows,) = connection.execute(
        f"copy (select * from {source} as {_ROW} where not ({condition})) "
        f"to {sql_string(str(partial))} ({PARQUET_OPTIONS})"
    ).fetchone()
    return rows


def _write_database_without_person(
    connection: duckdb.DuckDBPyConnection, path: Path, rewrite: _PublishedRewrite
) -> dict[str, int]:
    """Copy a published DuckDB file without the person's rows, table by table into a new file
    (deleted rows would stay in the old file's blocks); the rows of each table of the copy, or
    nothing (and no copy) when it holds none of them."""
    warehouse = connection.execute("select current_database()").fetchone()[0]
    connection.execute(f"attach {sql_string(str(path))} as _published (read_only)")
    try:
        connection.execute("use _published")
        conditions = [(table, _person_condition(table)) for table in base_tables(connection)]
        if not any(
            _holds_person(connection, table.relation, condition)
            for table, condition in conditions
            if condition is not None
        ):
            return {}
        storage_version = connection.execute(
            "select tags['storage_version'] from duckdb_databases() "
            "where database_name = '_published'"
        ).fetchone()[0]
        partial = _partial(path)
        _remove_partial(partial)  # an interrupted forget's: attach would open it, not a new file
        rewrite.replacements.append((partial, path))
        connection.execute(
            f"attach {sql_string(str(partial))} as _rewritten "
            # The copy opens in the clients that opened the file: "v1.4.0+" is v1.4.0 or later.
            f"(storage_version {sql_string(storage_version.removesuffix('+'))})"
        )
        try:
            with transaction(connection):
                for schema in sorted({table.schema for table, _ in conditions}):
                    connection.execute(
                        f"create schema if not exists _rewritten.{quote_identifier(schema)}"
                    )
                for table, condition in conditions:
                    kept = "" if condition is None else f" where not ({condition})"
                    connection.execute(
                        f"create table _rewritten.{table.relation} as "
                        f"select * from {table.relation} as {_ROW}{kept}"
                    )
                _copy_views(connection, "_published", "_rewritten")
            return {
                table.name: connection.execute(
                    f"select count(*) from _rewritten.{table.relation}"
                ).fetchone()[0]
                for table, _ in conditions
            }
        finally:
            connection.execute("detach database if exists _rewritten")
    finally:
        connection.execute(f"use {quote_identifier(warehouse)}")
        connection.execute("detach database if exists _published")


def _copy_views(connection: duckdb.DuckDBPyConnection, source: str, target: str) -> None:
    """Create in `target` the views of `source` (the publication's marts without a schema prefix),
    each in the schema it had; their SQL names no database, so they read `target`'s tables."""
    views = connection.execute(
        "select schema_name, sql from duckdb_views() where database_name = ? and not internal "
        "order by all",
        [source],
    ).fetchall()
    for schema, sql in views:
        connection.execute(f"use {quote_identifier(target)}.{quote_identifier(schema)}")
        connection.execute(sql)
    connection.execute(f"use {quote_identifier(source)}")


def _holds_person(connection: duckdb.DuckDBPyConnection, relation: str, condition: str) -> bool:
    return connection.execute(
        f"select exists (select 1 from {relation} as {_ROW} where {condition})"
    ).fetchone()[0]


def _write_manifest_with_row_counts(
    path: Path, row_counts: dict[str, int], rewrite: _PublishedRewrite
) -> None:
    """Copy a publication's manifest with the marts' new row counts, so that it stays true."""
    manifest = json.loads(path.read_text())
    for name, mart in manifest.get("marts", {}).items():
        if name in row_counts:
            mart["rows"] = row_counts[name]
    partial = _partial(path)
    rewrite.replacements.append((partial, path))
    partial.write_text(json.dumps(manifest, indent=2) + "\n")


def _unfinished_publications(settings: Settings) -> list[Path]:
    """Folders of publications that a publish began and never finished: the hidden ones, which
    publish renames when complete. None is being written while forget holds the warehouse;
    none is ever current, and the next publish would remove them, but they may hold the
    person."""
    versions_dir = published_dir(settings) / "versions"
    if not versions_dir.is_dir():
        return []
    return sorted(p for p in versions_dir.iterdir() if p.is_dir() and p.name.startswith("."))


def forget_person(
    connection: duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    tenant_id: str | None = None,
    actor: str | None = None,
) -> Forget:
    """Remove every row of one person from the warehouse, the landing files and the kept
    publications, and record it."""
    if (user_id is None) == (anonymous_id is None):
        raise ValueError("give exactly one of user_id and anonymous_id")
    given = user_id if user_id is not None else anonymous_id
    if not given or not given.strip():
        raise ValueError("the id to forget is empty")
    connection.execute("set TimeZone = 'UTC'")
    tables = [t for t in base_tables(connection) if t.schema not in _KEPT_SCHEMAS]
    _resolve_person(
        connection, tables, user_id=user_id, anonymous_id=anonymous_id, tenant_id=tenant_id
    )
    result = Forget(
        id_sha256=id_sha256(given),
        linked_ids=connection.execute("select count(distinct id) from _forget_ids").fetchone()[0],
    )
    rewrites = _rewrite_landing_files(connection, settings.raw_landing_dir)
    publications: list[_PublishedRewrite] = []
    try:
        publications = _rewrite_publications(connection, settings)
        with transaction(connection):
            _delete_person_rows(connection, tables, result)
            if any(t.qualified_name == "raw.load_manifest" for t in tables):
                _update_manifest(connection, rewrites)
            result.landing_files_rewritten = [r.source_file for r in rewrites]
            result.exports_expired = _expire_exports_of_changed_marts(connection, result)
            result.published_versions_rewritten = [p.version for p in publications]
            unfinished_publications = _unfinished_publications(settings)
            result.unfinished_publications_removed = [p.name for p in unfinished_publications]
            unfinished_exports = _unfinished_export_files(settings.exports_dir, result)
            result.unfinished_export_files_removed = [p.name for p in unfinished_exports]
            record_action(
                connection,
                "forget",
                f"person sha256:{result.id_sha256}",
                actor=actor,
                rows_affected=result.total_rows,
                details={
                    "id_kind": "user_id" if user_id is not None else "anonymous_id",
                    "id_sha256": result.id_sha256,
                    "tenant_id": tenant_id,
                    "linked_ids": result.linked_ids,
                    "rows_removed": {t: n for t, n in result.rows_removed.items() if n},
                    "landing_files_rewritten": len(rewrites),
                    "exports_expired": len(result.exports_expired),
                    "unfinished_export_files_removed": len(unfinished_exports),
                    "published_versions_rewritten": len(publications),
                    "unfinished_publications_removed": len(unfinished_publications),
                },
            )
    except BaseException:
        for rewrite in rewrites:
            rewrite.partial.unlink(missing_ok=True)
        for publication in publications:
            publication.discard()
        raise
    for rewrite in rewrites:
        rewrite.partial.replace(rewrite.path)
    for publication in publications:
        publication.replace()
    for folder in unfinished_publications:
        shutil.rmtree(folder)
    for path in [*map(Path, result.exports_expired), *unfinished_exports]:
        path.unlink(missing_ok=True)
    for name in ("_links", "_forget_users", "_forget_ids", "_forgotten_rows"):
        connection.execute(f"drop table if exists {name}")
    return result


def _expire_exports_of_changed_marts(
    connection: duckdb.DuckDBPyConnection, result: Forget
) -> list[str]:
    """Expire the completed exports of every mart that held the person: their files may hold
    the person too. The paths of the files to delete."""
    marts = _changed_marts(result)
    has_exports = connection.execute(
        "select count(*) from information_schema.tables "
        "where table_catalog = current_database() and table_schema || '.' || table_name = ?",
        [EXPORTS_TABLE],
    ).fetchone()[0]
    if not marts or not has_exports:
        return []
    expired = connection.execute(
        f"""
        update {EXPORTS_TABLE} set status = ?
        where status = ? and mart in (select unnest(?::varchar[]))
        returning path
        """,
        [ExportStatus.EXPIRED, ExportStatus.COMPLETED, marts],
    ).fetchall()
    return sorted(path for (path,) in expired)


def _unfinished_export_files(exports_dir: Path, result: Forget) -> list[Path]:
    """Files of exports of a mart that held the person, other than completed ones: left by an
    export that was interrupted (its `.<mart>-<id>.<format>.partial`, or a file renamed into
    place before its export was marked COMPLETED). No export is being written while forget
    holds the warehouse."""
    marts = _changed_marts(result)
    if not marts or not exports_dir.is_dir():
        return []
    completed = set(result.exports_expired)
    return sorted(
        path
        for path in exports_dir.iterdir()
        if path.is_file()
        and str(path) not in completed
        and any(path.name.lstrip(".").startswith(f"{mart}-") for mart in marts)
    )


def _changed_marts(result: Forget) -> list[str]:
    """The marts the person's rows were deleted from."""
    return [
        table.removeprefix(f"{MARTS_SCHEMA}.")
        for table, removed in result.rows_removed.items()
        if removed and table.startswith(f"{MARTS_SCHEMA}.")
    ]


def _delete_person_rows(
    connection: duckdb.DuckDBPyConnection, tables: list[Table], result: Forget
) -> None:
    """Delete the person's rows everywhere, noting in `_forgotten_rows` the landing file and
    side (loaded, duplicate, rejected) of each raw row removed, for the manifest."""
    connection.execute(
        "create or replace temp table _forgotten_rows (dataset varchar, side varchar, "
        "file_path varchar)"
    )
    sides = {}
    for dataset in DATASETS.values():
        sides[dataset.table] = (dataset.name, "loaded")
        sides[dataset.duplicates_table] = (dataset.name, "duplicate")
        sides[dataset.rejected_table] = (dataset.name, "rejected")
    for table in tables:
        condition = _person_condition(table)
        if condition is None:
            continue
        if table.qualified_name in sides:
            dataset, side = sides[table.qualified_name]
            connection.execute(
                f"insert into _forgotten_rows select ?, ?, _source_file "
                f"from {table.relation} as {_ROW} where {condition}",
                [dataset, side],
            )
        removed = connection.execute(
            f"delete from {table.relation} as {_ROW} where {condition}"
        ).fetchone()[0]
        result.rows_removed[table.qualified_name] = removed


def _update_manifest(connection: duckdb.DuckDBPyConnection, rewrites: list[_Rewrite]) -> None:
    """Take the removed rows off their files' manifest counts, and give rewritten files their
    new size and hash, so that the manifest still reconciles with the tables and the files."""
    connection.execute(
        """
        update raw.load_manifest as m set
            rows_read = m.rows_read - r.loaded - r.duplicate - r.rejected,
            rows_loaded = m.rows_loaded - r.loaded,
            rows_duplicate = m.rows_duplicate - r.duplicate,
            rows_rejected = m.rows_rejected - r.rejected
        from (
            select dataset, file_path,
                count(*) filter (where side = 'loaded') as loaded,
                count(*) filter (where side = 'duplicate') as duplicate,
                count(*) filter (where side = 'rejected') as rejected
            from _forgotten_rows group by all
        ) as r
        where m.dataset = r.dataset and m.file_path = r.file_path
        """
    )
    for rewrite in rewrites:
        connection.execute(
            """
            update raw.load_manifest set file_size_bytes = ?, file_sha256 = ?
            where dataset = ? and file_path = ?
            """,
            [rewrite.size, rewrite.sha256, EVENTS.name, rewrite.source_file],
        )


def _rows_removed_table(rows_removed: dict[str, int]) -> MetadataValue:
    return MetadataValue.md(
        "\n".join(
            ["| table | rows removed |", "|---|---|"]
            + [f"| {table} | {n} |" for table, n in sorted(rows_removed.items())]
        )
    )


def build_cleanup_asset(settings: Settings):
    @asset(
        key=["maintenance", "cleanup"],
        group_name=MAINTENANCE_GROUP,
        description=(
            f"Retention: removes raw rows and landing folders older than RAW_RETENTION_DAYS "
            f"({settings.raw_retention_days}), mart rows whose retention column (declared in "
            "the mart's YAML) is older than AGGREGATE_RETENTION_DAYS "
            f"({settings.aggregate_retention_days}), and the files of exports past their "
            "expiry; records a `cleanup` audit action."
        ),
        kinds={"duckdb"},
        owners=SOURCE_OWNERS,
        pool=WAREHOUSE_WRITER_POOL,
    )
    def cleanup_asset(context: AssetExecutionContext, warehouse: DuckDBResource):
        with warehouse.get_connection() as connection:
            result = cleanup(connection, settings, actor=f"dagster run {context.run_id}")
        for table, removed in sorted(result.rows_removed.items()):
            if removed:
                context.log.info(f"cleanup: removed {removed} rows from {table}")
        for folder in result.landing_folders_removed:
            context.log.info(f"cleanup: removed raw_landing/{folder}")
        for mart, why in sorted(result.marts_skipped.items()):
            context.log.warning(f"cleanup: kept every row of marts.{mart}: {why}")
        return MaterializeResult(
            metadata={
                "raw_cutoff": result.raw_cutoff.isoformat(),
                "aggregate_cutoff": result.aggregate_cutoff.isoformat(),
                "rows_removed": result.total_rows,
                "rows_removed_by_table": _rows_removed_table(result.rows_removed),
                "landing_folders_removed": len(result.landing_folders_removed),
                "exports_expired": len(result.exports_expired),
                "marts_kept": ", ".join(result.marts_kept) or "none",
                "marts_skipped": ", ".join(sorted(result.marts_skipped)) or "none",
            }
        )

    return cleanup_asset


class ForgetConfig(Config):
    """Run config of the `forget` job: exactly one of user_id and anonymous_id."""

    user_id: str | None = None
    anonymous_id: str | None = None
    tenant_id: str | None = None
    """Only this tenant's ids; every tenant when unset."""


def build_forget_job(settings: Settings):
    @op(
        name="forget_person",
        pool=WAREHOUSE_WRITER_POOL,
        description=(
            "Remove one person's rows from raw, every table, the landing files and every kept "
            "publication."
        ),
    )
    def forget_op(context: OpExecutionContext, config: ForgetConfig, warehouse: DuckDBResource):
        with warehouse.get_connection() as connection:
            result = forget_person(
                connection,
                settings,
                user_id=config.user_id,
                anonymous_id=config.anonymous_id,
                tenant_id=config.tenant_id,
                actor=f"dagster run {context.run_id}",
            )
        context.log.info(result.summary)
        if settings.on_spark:
            context.log.info(
                "Spark's tables cannot delete rows: the next run rebuilds every model from the "
                "raw rows (a full refresh)."
            )

    @job(
        name="forget",
        description=(
            "Forget a person: run config "
            '{"ops": {"forget_person": {"config": {"user_id": "..."}}}} '
            "(or anonymous_id, optionally tenant_id)."
        ),
    )
    def forget_job() -> None:
        forget_op()

    return forget_job
