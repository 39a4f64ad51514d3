"""The log of dbt builds, and when a build would change nothing.

A build's result depends only on the dbt project (its files) and the raw tables. Each dbt
invocation of a run is logged in `audit.model_builds` when it starts, with both as fingerprints
and the window built, and marked succeeded or failed when it ends; a build whose process died
before it ended stays unfinished, which counts as failed. A later build may be skipped when it
would write exactly what is there:

- the incremental models over a window, when a successful build covered that window with the same
  project and the same raw data, and no build of them failed since (a failed build may have
  left some models changed);
- the models rebuilt in full, when their last build succeeded with the same project and raw
  data, and the incremental models they read have not been built since.

Re-running a day whose files did not change therefore costs the loader's check of the files and
the landing checks, not a dbt build. `full_refresh` and `force` always build.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from orchestration.sql import create_table_if_missing

BUILDS_TABLE = "audit.model_builds"
BUILDS_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("step", "VARCHAR", "Which dbt invocation: dbt_incremental_models or dbt_models."),
    ("window_start", "DATE", "First arrival day built (NULL: every day)."),
    ("window_end", "DATE", "Day after the last arrival day built (NULL: every day)."),
    ("full_refresh", "BOOLEAN", "Whether every model was rebuilt from all raw data."),
    ("code_fingerprint", "VARCHAR", "SHA-256 of the dbt project's files."),
    ("raw_fingerprint", "VARCHAR", "Hash of the load manifest and raw table sizes."),
    ("started_at", "TIMESTAMP", "When the build started (UTC)."),
    ("finished_at", "TIMESTAMP", "When it ended (UTC); NULL while it runs, or if it never ended."),
    ("succeeded", "BOOLEAN", "Whether dbt finished without error; NULL until it ends."),
    ("actor", "VARCHAR", "The run that built: `dagster run <id>`."),
)
_PROJECT_FILES = ("models", "macros", "seeds", "tests", "snapshots", "analyses")
_PROJECT_CONFIG = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")


@dataclass(frozen=True)
class Fingerprints:
    code: str
    raw: str


def code_fingerprint(project_dir: Path) -> str:
    """SHA-256 over the path and bytes of every file dbt reads from the project."""
    files = [project_dir / name for name in _PROJECT_CONFIG if (project_dir / name).is_file()]
    for folder in _PROJECT_FILES:
        files.extend(p for p in (project_dir / folder).rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(project_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def raw_fingerprint(connection: duckdb.DuckDBPyConnection) -> str:
    """A hash of everything loaded: every manifest row (file, bytes' hash, counts) and the size
    of each raw table, which also changes when cleanup or forget removes rows."""
    tables = connection.execute(
        """
        select table_schema || '.' || table_name
        from information_schema.tables
        where table_schema = 'raw'
        order by all
        """
    ).fetchall()
    parts = []
    for (table,) in tables:
        parts.append(f"{table}={connection.execute(f'select count(*) from {table}').fetchone()[0]}")
    if ("raw.load_manifest",) in tables:
        manifest = connection.execute(
            """
            select coalesce(sum(hash(dataset, landing_date, file_path, file_sha256, status,
                rows_read, rows_loaded, rows_rejected, rows_duplicate, loaded_at)), 0)
            from raw.load_manifest
            """
        ).fetchone()[0]
        parts.append(f"manifest={manifest}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def fingerprints(connection: duckdb.DuckDBPyConnection, project_dir: Path) -> Fingerprints:
    return Fingerprints(code=code_fingerprint(project_dir), raw=raw_fingerprint(connection))


def create_builds_table(connection: duckdb.DuckDBPyConnection) -> None:
    create_table_if_missing(connection, BUILDS_TABLE, BUILDS_COLUMNS)


def start_build(
    connection: duckdb.DuckDBPyConnection,
    step: str,
    window: tuple[date, date] | None,
    *,
    full_refresh: bool,
    state: Fingerprints,
    actor: str,
) -> datetime:
    """Log a build as started, unfinished; `state` is the project and raw data it builds from.
    Returns its start time, which `finish_build` is given to find it."""
    create_builds_table(connection)
    start, end = window or (None, None)
    return connection.execute(
        f"""
        insert into {BUILDS_TABLE}
        values (?, ?, ?, ?, ?, ?, cast(now() as timestamp), NULL, NULL, ?)
        returning started_at
        """,
        [step, start, end, full_refresh, state.code, state.raw, actor],
    ).fetchone()[0]


def finish_build(
    connection: duckdb.DuckDBPyConnection,
    step: str,
    started_at: datetime,
    *,
    succeeded: bool,
    actor: str,
) -> None:
    connection.execute(
        f"""
        update {BUILDS_TABLE}
        set finished_at = cast(now() as timestamp), succeeded = ?
        where step = ? and started_at = ? and actor = ?
        """,
        [succeeded, step, started_at, actor],
    )


def discard_build(
    connection: duckdb.DuckDBPyConnection, step: str, started_at: datetime, *, actor: str
) -> None:
    connection.execute(
        f"delete from {BUILDS_TABLE} where step = ? and started_at = ? and actor = ?",
        [step, started_at, actor],
    )


def _has_builds(connection: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        connection.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'audit' and table_name = 'model_builds'"
        ).fetchone()[0]
    )


def incremental_build_is_current(
    connection: duckdb.DuckDBPyConnection,
    step: str,
    window: tuple[date, date],
    state: Fingerprints,
) -> bool:
    """Whether building the incremental models over `window` would change nothing."""
    if not _has_builds(connection):
        return False
    start, end = window
    return bool(
        connection.execute(
            f"""
            with covering as (
                select max(finished_at) as finished_at
                from {BUILDS_TABLE}
                where step = ? and succeeded
                    and code_fingerprint = ? and raw_fingerprint = ?
                    and (full_refresh or (window_start <= ? and window_end >= ?))
            )
            select covering.finished_at is not null and not exists (
                select 1 from {BUILDS_TABLE} as failed
                where failed.step = ? and not coalesce(failed.succeeded, false)
                    and coalesce(failed.finished_at, failed.started_at) > covering.finished_at
            )
            from covering
            """,
            [step, state.code, state.raw, start, end, step],
        ).fetchone()[0]
    )


def full_build_is_current(
    connection: duckdb.DuckDBPyConnection,
    step: str,
    upstream_step: str,
    state: Fingerprints,
) -> bool:
    """Whether rebuilding the models of `step` would change nothing: its last build succeeded
    on the same project and raw data, after the last build of `upstream_step`."""
    if not _has_builds(connection):
        return False
    row = connection.execute(
        f"""
            with latest as (
                select succeeded, code_fingerprint, raw_fingerprint, finished_at
                from {BUILDS_TABLE}
                where step = ?
                order by coalesce(finished_at, started_at) desc
                limit 1
            )
            select coalesce(latest.succeeded, false)
                and latest.code_fingerprint = ? and latest.raw_fingerprint = ?
                and latest.finished_at > coalesce(
                    (
                        select max(coalesce(finished_at, started_at))
                        from {BUILDS_TABLE} where step = ?
                    ),
                    '-infinity'::timestamp
                )
            from latest
            """,
        [step, state.code, state.raw, upstream_step],
    ).fetchone()
    return bool(row and row[0])
