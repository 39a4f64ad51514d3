"""Write-audit-publish: the checked marts, copied out for analysts and BI tools.

`serving/published_marts` runs after every mart, so a failed blocking check on the landing tables
or on any mart skips it and the last good publication stays in place. It writes a new version:

    warehouse/published/versions/<version>/analytics.duckdb   the marts, in DuckDB 1.4's format
    warehouse/published/versions/<version>/parquet/<mart>.parquet
    warehouse/published/versions/<version>/manifest.json      built at, arrival days, row counts,
                                                             the version it patched

The DuckDB file of a new version is a copy of the current version's, patched: a mart whose
dbt runs logged the keys of the rows they changed since (`change_keys` in macros/incremental.sql)
gets the rows of those keys again, any other is written whole. A version is written afresh
instead when there is none to copy, after a forget or a cleanup that removed rows (they delete
mart rows outside dbt), from
Spark, and after PATCHES_BETWEEN_REWRITES patched versions in a row (a patched file keeps the
space of the rows it deleted). The Parquet files are written whole from the new file. The logs
are dropped in the transaction that records the publication: a crash before it leaves them, and
the next version copies their rows again.

It then points `warehouse/published/current` at it by renaming a new symlink over the old one,
one atomic step: a reader resolves `current` to the old version or to the new one, never to a
half-written one. Readers never share a file with the pipeline: a connection held on an old
version keeps reading it, and a new connection sees the new version.

Whether the current publication holds what the warehouse holds is read from the publication
itself: its manifest records the warehouse's state when it was written (`warehouse_state`: every
dbt build logged and every forget and cleanup), and a run whose dbt step finds the models
current builds and publishes anyway when the two differ, as after a run that stopped before
publishing. A version left half-built by a run that stopped while writing it is removed by the
next publication.

What is published: the `marts` schema, every table and view of it as a table. The marts are the
contracted, tested interface; the raw, staging and intermediate tables are the pipeline's working
state (the staging views read raw tables that would not be there), and the raw events would make
every publication several times larger.

How it reads: as any client expects, without knowing the warehouse's conventions. The schema
`main`, which a client opens in, holds a view of each mart under its own name (`show tables`,
`from sessions`), beside the tables in `marts`. The marts keep their UTC instants as TIMESTAMP
and their JSON as DuckDB's JSON type; the copy types the instants TIMESTAMPTZ (UTC-adjusted
timestamps in Parquet) and the JSON as text (which polars and BI drivers read as strings). Its
numbers are the marts': integers of at most 64 bits and doubles, which every driver reads; a
mart with a wider integer or a decimal is not published, and says which column to cast.
"""

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
)
from dagster_duckdb import DuckDBResource

from orchestration.audit import AUDIT_TABLE, record_action
from orchestration.metadata import query_table
from orchestration.owners import SOURCE_OWNERS
from orchestration.resources import WAREHOUSE_WRITER_POOL
from orchestration.settings import Settings
from orchestration.spark import built_tables
from orchestration.sql import column_types, quote_identifier, sql_string

PUBLISHED_MARTS_KEY = AssetKey(["serving", "published_marts"])
SERVING_GROUP = "serving"
OWNERS = SOURCE_OWNERS

PUBLISHED_SCHEMAS = ("marts",)
# The schema a client opens in: a view of each mart under its own name.
DEFAULT_SCHEMA = "main"
DATABASE_FILE = "analytics.duckdb"
PARQUET_DIR = "parquet"
# zstd's fastest level: the marts' files come out about 4% larger than at the default level
# (3) and are written a fifth faster.
PARQUET_OPTIONS = "format parquet, compression zstd, compression_level 1"
MANIFEST_FILE = "manifest.json"
# BI drivers often bundle an older DuckDB, which cannot open a file in DuckDB 2.0's format.
STORAGE_VERSION = "v1.4.0"
# The current version, and the one before it: a reader may have resolved `current` to it just
# before the swap and not yet opened it. Older versions are removed; a connection still open on
# one keeps reading it (an open file outlives its unlink).
VERSIONS_KEPT = 2
# The logs of what dbt runs changed in the marts (macros/incremental.sql, `change_keys`).
CHANGE_LOG_SCHEMA = "audit"
CHANGED_KEYS = "__changed_keys"
REBUILT = "__rebuilt"
# A patched copy keeps the rows it deleted until DuckDB rewrites their row groups: after so
# many patched publications in a row, the next one is written afresh.
PATCHES_BETWEEN_REWRITES = 7
PREVIEW_MART = "dashboard_metrics"
PREVIEW_ROWS = 10


def published_dir(settings: Settings) -> Path:
    return settings.warehouse_dir / "published"


def current_publication(settings: Settings) -> Path:
    """The folder of the current publication (a symlink, swapped atomically by each publish)."""
    return published_dir(settings) / "current"


@dataclass(frozen=True)
class Publication:
    version: str
    path: Path
    manifest: dict[str, Any]
    removed_versions: list[str]
    seconds: dict[str, float] = field(default_factory=dict)
    """Seconds per part of writing it: `copy` (the base's file), `tables` (patching or creating
    the marts), `parquet`, and `total` (the whole publication, swap and pruning included)."""

    @property
    def database_path(self) -> Path:
        return self.path / DATABASE_FILE

    @property
    def parquet_dir(self) -> Path:
        return self.path / PARQUET_DIR


def warehouse_state(connection: duckdb.DuckDBPyConnection) -> str:
    """What the marts hold as of now, as a fingerprint of everything that writes them: every dbt
    build logged (finished or not) and every forget and cleanup in the audit log."""
    tables = {
        row[0]
        for row in connection.execute(
            "select schema_name || '.' || table_name from duckdb_tables() "
            "where database_name = current_database() and schema_name = 'audit'"
        ).fetchall()
    }
    parts = []
    if "audit.model_builds" in tables:
        parts.append(
            connection.execute(
                "select count(*), max(started_at), max(finished_at), count(succeeded) "
                "from audit.model_builds"
            ).fetchone()
        )
    if "audit.actions" in tables:
        parts.append(
            connection.execute(
                "select count(*), max(occurred_at) from audit.actions "
                "where action in ('forget', 'cleanup')"
            ).fetchone()
        )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def publication_is_current(connection: duckdb.DuckDBPyConnection, settings: Settings) -> bool:
    """Whether the current publication is complete and holds the warehouse's marts as they are."""
    current = current_publication(settings)
    try:
        manifest = json.loads((current / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return False
    files = [current / DATABASE_FILE] + [
        current / mart["parquet"] for mart in manifest["marts"].values()
    ]
    return manifest.get("warehouse_state") == warehouse_state(connection) and all(
        path.is_file() for path in files
    )


def _published_relations(
    connection: duckdb.DuckDBPyConnection, database: str
) -> list[tuple[str, str]]:
    return connection.execute(
        """
        select schema_name, table_name from duckdb_tables()
        where database_name = $database and schema_name in (select unnest($schemas))
        union
        select schema_name, view_name from duckdb_views()
        where database_name = $database and schema_name in (select unnest($schemas))
            and not internal
        order by all
        """,
        {"database": database, "schemas": list(PUBLISHED_SCHEMAS)},
    ).fetchall()


def _arrival_days(connection: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The arrival days each dataset has loaded files for, as the load manifest records them."""
    has_manifest = connection.execute(
        "select count(*) from duckdb_tables() "
        "where database_name = current_database() "
        "and schema_name = 'raw' and table_name = 'load_manifest'"
    ).fetchone()[0]
    if not has_manifest:
        return {}
    rows = connection.execute(
        """
        select dataset, list(distinct landing_date order by landing_date)
        from raw.load_manifest group by dataset order by dataset
        """
    ).fetchall()
    return {dataset: [day.isoformat() for day in days] for dataset, days in rows}


class UnpublishableColumnError(Exception):
    """A mart column of a type clients read poorly; the message names it and what to do."""


# Integers wider than 64 bits (a sum of BIGINT is a HUGEINT), unsigned 64-bit integers and
# decimals: BI drivers read them as text, as lossy doubles or not at all.
_WIDE_NUMBER = re.compile(r"\b(U?HUGEINT|UBIGINT|DECIMAL)\b")


def published_column(name: str, data_type: str, relation: str) -> str:
    """The select expression that writes a mart column (of `data_type` as DuckDB spells it)
    into the publication: UTC instants as TIMESTAMPTZ, JSON as text, anything else as it is."""
    column = quote_identifier(name)
    if _WIDE_NUMBER.search(data_type):
        raise UnpublishableColumnError(
            f"{relation}.{name} is {data_type}, which BI drivers do not read as a number: cast it "
            "to bigint or double in the model and declare that type in its contract"
        )
    if data_type == "TIMESTAMP":
        return f"timezone('UTC', {column}) as {column}"
    if data_type == "TIMESTAMP[]":
        return f"list_transform({column}, lambda instant: timezone('UTC', instant)) as {column}"
    if data_type == "JSON":
        return f"cast({column} as varchar) as {column}"
    if re.search(r"\bTIMESTAMP\b(?! WITH TIME ZONE)|\bJSON\b", data_type):
        raise UnpublishableColumnError(
            f"{relation}.{name} is {data_type}: the publication has no UTC or text form of it "
            "(orchestration/publishing.py, published_column)"
        )
    return column


def _published_select(
    connection: duckdb.DuckDBPyConnection, database: str, schema: str, name: str
) -> str:
    columns = column_types(connection, f"{schema}.{name}", database).items()
    relation = f"{schema}.{name}"
    expressions = ", ".join(published_column(c, t, relation) for c, t in columns)
    source = ".".join(map(quote_identifier, (database, schema, name)))
    return f"select {expressions} from {source}"


@contextmanager
def _timed(seconds: dict[str, float], part: str) -> Iterator[None]:
    began = time.perf_counter()
    try:
        yield
    finally:
        seconds[part] = seconds.get(part, 0.0) + time.perf_counter() - began


def _write_copy(
    connection: duckdb.DuckDBPyConnection,
    building: Path,
    source: str,
    relations: list[tuple[str, str]],
    seconds: dict[str, float],
    base: Publication | None = None,
    logs: dict[str, dict[str, str] | None] | None = None,
) -> tuple[dict[str, int], str, dict[str, int]]:
    """Write the relations of the database `source` into a DuckDB file in STORAGE_VERSION (a
    copy of `base`'s, patched with the `logs`' rows, when given) and each to Parquet; return
    the row count per relation, the storage version the file is in and the keys patched per
    relation, adding the seconds of each part to `seconds`."""
    database = building / DATABASE_FILE
    (building / PARQUET_DIR).mkdir()
    if base is not None:
        # A copy keeps the storage version the base was written in.
        with _timed(seconds, "copy"):
            shutil.copyfile(base.database_path, database)
        database.chmod(0o644)
    options = f" (storage_version '{STORAGE_VERSION}')" if base is None else ""
    connection.execute(f"attach {sql_string(str(database))} as published{options}")
    try:
        with _timed(seconds, "tables"):
            connection.begin()
            try:
                if base is None:
                    patched = _create_tables(connection, source, relations)
                else:
                    patched = _patch_tables(connection, source, relations, logs or {})
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
        row_counts: dict[str, int] = {}
        for schema, name in relations:
            published = f"published.{quote_identifier(schema)}.{quote_identifier(name)}"
            row_counts[name] = connection.execute(f"select count(*) from {published}").fetchone()[0]
            parquet = building / PARQUET_DIR / f"{name}.parquet"
            with _timed(seconds, "parquet"):
                connection.execute(
                    f"copy {published} to {sql_string(str(parquet))} ({PARQUET_OPTIONS})"
                )
        storage_version = connection.execute(
            "select tags['storage_version'] from duckdb_databases() "
            "where database_name = 'published'"
        ).fetchone()[0]
    finally:
        connection.execute("detach database if exists published")
    return row_counts, storage_version, patched


def _create_view(connection: duckdb.DuckDBPyConnection, schema: str, name: str) -> None:
    """The mart's view in DEFAULT_SCHEMA. It refers to a table of its own database, whatever
    name a client attaches the file under."""
    connection.execute(
        f"create or replace view published.{DEFAULT_SCHEMA}.{quote_identifier(name)} "
        f"as from {quote_identifier(schema)}.{quote_identifier(name)}"
    )


def _create_tables(
    connection: duckdb.DuckDBPyConnection, source: str, relations: list[tuple[str, str]]
) -> dict[str, int]:
    for schema in PUBLISHED_SCHEMAS:
        connection.execute(f"create schema published.{quote_identifier(schema)}")
    for schema, name in relations:
        connection.execute(
            f"create table published.{quote_identifier(schema)}.{quote_identifier(name)} "
            f"as {_published_select(connection, source, schema, name)}"
        )
    for schema, name in relations:
        _create_view(connection, schema, name)
    return {}


def _patch_tables(
    connection: duckdb.DuckDBPyConnection,
    source: str,
    relations: list[tuple[str, str]],
    logs: dict[str, dict[str, str] | None],
) -> dict[str, int]:
    """Bring the copy of the previous version to the marts of `source`: a mart with a log of
    changed keys gets the rows of those keys again; any other is written whole (a table rebuilt
    on every run, or a mart rebuilt whole since); a mart that is gone is dropped."""
    previous = set(_published_relations(connection, "published"))
    patched: dict[str, int] = {}
    for schema, name in relations:
        table = f"published.{quote_identifier(schema)}.{quote_identifier(name)}"
        select = _published_select(connection, source, schema, name)
        keys = logs.get(name)
        same_columns = list(column_types(connection, f"{schema}.{name}", "published")) == list(
            column_types(connection, f"{schema}.{name}", source)
        )
        if (schema, name) in previous and keys and same_columns:
            # The logged keys once, as the copy holds them (UTC instants, JSON as text).
            connection.execute(
                "create or replace temp table changed_keys as select distinct "
                + ", ".join(published_column(key, type_, name) for key, type_ in keys.items())
                + f" from {CHANGE_LOG_SCHEMA}.{quote_identifier(name + CHANGED_KEYS)}"
            )
            matches = " and ".join(
                f"changed.{quote_identifier(k)} is not distinct from mart_row.{quote_identifier(k)}"
                for k in keys
            )
            changed = f"exists (select 1 from temp.changed_keys as changed where {matches})"
            connection.execute(f"delete from {table} as mart_row where {changed}")
            connection.execute(
                f"insert into {table} select * from ({select}) as mart_row where {changed}"
            )
            patched[name] = connection.execute("select count(*) from temp.changed_keys").fetchone()[
                0
            ]
            connection.execute("drop table temp.changed_keys")
        else:
            connection.execute(f"create or replace table {table} as {select}")
            _create_view(connection, schema, name)
    for schema, name in sorted(previous - set(relations)):
        connection.execute(
            f"drop view if exists published.{DEFAULT_SCHEMA}.{quote_identifier(name)}"
        )
        connection.execute(
            f"drop table if exists published.{quote_identifier(schema)}.{quote_identifier(name)}"
        )
    return patched


def change_logs(connection: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str] | None]:
    """What the dbt runs since the last publication logged, per mart (macros/incremental.sql,
    `change_keys`): the key columns of its log of changed keys and their types, or None when it
    was rebuilt whole."""
    tables = connection.execute(
        """
        select table_name from duckdb_tables()
        where database_name = current_database() and schema_name = $schema
            and (suffix(table_name, $keys) or suffix(table_name, $rebuilt))
        order by table_name
        """,
        {"schema": CHANGE_LOG_SCHEMA, "keys": CHANGED_KEYS, "rebuilt": REBUILT},
    ).fetchall()
    logs: dict[str, dict[str, str] | None] = {}
    for (table,) in tables:
        if table.endswith(REBUILT):
            logs[table.removesuffix(REBUILT)] = None
    for (table,) in tables:
        name = table.removesuffix(CHANGED_KEYS)
        if table.endswith(CHANGED_KEYS) and name not in logs:
            logs[name] = column_types(connection, f"{CHANGE_LOG_SCHEMA}.{table}")
    return logs


def _drop_change_logs(connection: duckdb.DuckDBPyConnection, marts: Sequence[str]) -> None:
    for name in marts:
        for suffix in (CHANGED_KEYS, REBUILT):
            table = f"{CHANGE_LOG_SCHEMA}.{quote_identifier(name + suffix)}"
            connection.execute(f"drop table if exists {table}")


def _rows_removed_outside_dbt(connection: duckdb.DuckDBPyConnection) -> int:
    """How many forgets and cleanups removed rows, as the audit log holds them: they delete mart
    rows outside dbt (a person's, rows past their retention)."""
    if not column_types(connection, AUDIT_TABLE):
        return 0
    return connection.execute(
        f"select count(*) from {AUDIT_TABLE} "
        "where action in ('forget', 'cleanup') and rows_affected > 0"
    ).fetchone()[0]


def _patch_base(
    connection: duckdb.DuckDBPyConnection, settings: Settings, source: str
) -> Publication | None:
    """The current publication, when the next one can be a patched copy of it: the marts are
    the warehouse's (not Spark's), nothing removed rows outside dbt since (a forget, a cleanup),
    and fewer than PATCHES_BETWEEN_REWRITES publications were patched in a row."""
    if source != connection.execute("select current_database()").fetchone()[0]:
        return None
    current = current_publication(settings)
    try:
        manifest = json.loads((current / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return None
    base = Publication(manifest.get("version", ""), current.resolve(), manifest, [])
    if (
        not base.database_path.is_file()
        or manifest.get("removals_outside_dbt") != _rows_removed_outside_dbt(connection)
        or manifest.get("patches_in_a_row", PATCHES_BETWEEN_REWRITES) >= PATCHES_BETWEEN_REWRITES
    ):
        return None
    return base


def _point_current_at(settings: Settings, version: str) -> None:
    """Replace the `current` symlink in one rename: readers see the old target or the new one."""
    current = current_publication(settings)
    staged = current.with_name(f".current-{version}")
    staged.symlink_to(Path("versions") / version, target_is_directory=True)
    os.replace(staged, current)


def _prune(settings: Settings) -> list[str]:
    """Remove versions older than the VERSIONS_KEPT newest, and any left half-built."""
    versions_dir = published_dir(settings) / "versions"
    current = os.readlink(current_publication(settings))
    complete = sorted(p for p in versions_dir.iterdir() if not p.name.startswith("."))
    stale = [p for p in complete[:-VERSIONS_KEPT] if Path(current).name != p.name]
    stale += [p for p in versions_dir.iterdir() if p.name.startswith(".")]
    for path in stale:
        shutil.rmtree(path)
    return [p.name for p in stale]


def publish(
    connection: duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    actor: str | None = None,
    built_at: datetime | None = None,
    source: str | None = None,
) -> Publication:
    """Write a new publication of the marts, swap it in, record it in the audit log and remove
    versions no reader needs. The marts are read from the database `source` of the connection
    (on Spark, `orchestration.spark.built_tables`), by default the warehouse itself."""
    began = time.perf_counter()
    seconds: dict[str, float] = {"copy": 0.0, "tables": 0.0, "parquet": 0.0}
    built_at = built_at or datetime.now(UTC)
    version = f"{built_at:%Y-%m-%dT%H-%M-%S.%f}Z"
    versions_dir = published_dir(settings) / "versions"
    versions_dir.mkdir(parents=True, exist_ok=True)
    # Left by a run that stopped while writing a version.
    half_built = [path.name for path in versions_dir.glob(".*.building")]
    for name in half_built:
        shutil.rmtree(versions_dir / name)
    building = versions_dir / f".{version}.building"
    building.mkdir()

    source = source or connection.execute("select current_database()").fetchone()[0]
    relations = _published_relations(connection, source)
    logs = change_logs(connection)
    base = _patch_base(connection, settings, source)
    row_counts, storage_version, patched = _write_copy(
        connection, building, source, relations, seconds, base, logs
    )
    manifest = {
        "version": version,
        "built_at": built_at.isoformat(),
        "built_by": actor,
        "database": DATABASE_FILE,
        "storage_version": storage_version,
        "warehouse_state": warehouse_state(connection),
        "arrival_days": _arrival_days(connection),
        "patched_from": base.version if base else None,
        "patches_in_a_row": base.manifest["patches_in_a_row"] + 1 if base else 0,
        "removals_outside_dbt": _rows_removed_outside_dbt(connection),
        "marts": {
            name: {
                "rows": row_counts[name],
                "parquet": f"{PARQUET_DIR}/{name}.parquet",
                **({"patched_keys": patched[name]} if name in patched else {}),
            }
            for _, name in relations
        },
    }
    (building / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    for path in building.rglob("*"):
        if path.is_file():
            path.chmod(0o444)
    final = versions_dir / version
    building.rename(final)

    connection.begin()
    try:
        record_action(
            connection,
            "publish",
            str(final),
            actor=actor,
            rows_affected=sum(row_counts.values()),
            details={
                "version": version,
                "storage_version": storage_version,
                "marts": row_counts,
                "patched_from": manifest["patched_from"],
            },
        )
        # Published: what the logs held is in this version (a crash before the commit keeps
        # them, and the next publication copies those rows again).
        _drop_change_logs(connection, list(logs))
        _point_current_at(settings, version)
    except BaseException:
        connection.rollback()
        shutil.rmtree(final)
        raise
    connection.commit()
    removed = half_built + _prune(settings)
    seconds["total"] = time.perf_counter() - began
    return Publication(version, final, manifest, removed, seconds)


def _preview(database: Path) -> MetadataValue | None:
    with duckdb.connect(str(database), read_only=True) as connection:
        exists = connection.execute(
            "select count(*) from duckdb_tables() where schema_name = 'marts' and table_name = ?",
            [PREVIEW_MART],
        ).fetchone()[0]
        if not exists:
            return None
        return query_table(connection, f"from marts.{PREVIEW_MART} limit {PREVIEW_ROWS}")


def _metadata(publication: Publication) -> dict[str, Any]:
    marts = publication.manifest["marts"]
    metadata: dict[str, Any] = {
        "path": MetadataValue.path(str(publication.database_path)),
        "parquet": MetadataValue.path(str(publication.parquet_dir)),
        "version": publication.version,
        "storage_version": publication.manifest["storage_version"],
        "marts": len(marts),
        "row_counts": MetadataValue.table(
            records=[TableRecord({"mart": name, "rows": m["rows"]}) for name, m in marts.items()],
            schema=TableSchema(
                columns=[
                    TableColumn(name="mart", type="string"),
                    TableColumn(name="rows", type="int"),
                ]
            ),
        ),
        "arrival_days": MetadataValue.json(publication.manifest["arrival_days"]),
        # Where the publication's time went: copying the base's file, patching or creating the
        # marts, writing the Parquet files, and the whole of it.
        "seconds": MetadataValue.json(
            {part: round(seconds, 3) for part, seconds in publication.seconds.items()}
        ),
    }
    preview = _preview(publication.database_path)
    if preview is not None:
        metadata["preview"] = preview
    return metadata


def build_published_marts(
    settings: Settings,
    landing_assets: Sequence[AssetsDefinition],
    dbt_assets: Sequence[AssetsDefinition],
) -> AssetsDefinition:
    """The publication asset, downstream of every landing asset and every published dbt model,
    so that their blocking checks gate it."""
    deps = [key for assets_def in landing_assets for key in assets_def.keys] + [
        key
        for assets_def in dbt_assets
        for key in assets_def.keys
        if key.path[0] in PUBLISHED_SCHEMAS
    ]

    @asset(
        key=PUBLISHED_MARTS_KEY,
        description=(
            "The marts, published for analysts and BI tools once every blocking check passed: "
            f"`{DATABASE_FILE}` (a read-only copy in DuckDB {STORAGE_VERSION}'s storage format, "
            f"each mart also a view in `{DEFAULT_SCHEMA}`: `from sessions`), one Parquet file per "
            f"mart and `{MANIFEST_FILE}`, swapped in atomically under "
            "`warehouse/published/current/`. Timestamps are UTC TIMESTAMPTZ, JSON is text."
        ),
        group_name=SERVING_GROUP,
        deps=deps,
        kinds={"duckdb", "parquet"},
        owners=OWNERS,
        pool=WAREHOUSE_WRITER_POOL,
    )
    def published_marts(
        context: AssetExecutionContext, warehouse: DuckDBResource
    ) -> MaterializeResult:
        with warehouse.get_connection() as connection, built_tables(connection, settings) as db:
            publication = publish(
                connection, settings, actor=f"dagster run {context.run_id}", source=db
            )
        seconds = publication.seconds
        how = "patched copy of the last" if publication.manifest["patched_from"] else "new file"
        context.log.info(
            f"published {len(publication.manifest['marts'])} marts to {publication.path} in "
            f"{seconds['total']:.1f} s ({how}: copying it {seconds['copy']:.1f} s, the tables "
            f"{seconds['tables']:.1f} s, Parquet {seconds['parquet']:.1f} s); "
            f"removed older versions: {', '.join(publication.removed_versions) or 'none'}"
        )
        return MaterializeResult(metadata=_metadata(publication))

    return published_marts
