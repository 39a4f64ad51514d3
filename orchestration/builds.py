"""What changed since the last dbt build, read from the load manifest; and the log of builds.

The load manifest (`raw.load_manifest`) is the record of what the raw tables hold: one row per
landed file, with when it was loaded. A file loaded again unchanged keeps its `loaded_at`; a
re-delivered file gets a new one; a file removed from its folder loses its row when its day is
loaded again. The *load state* of an arrival day is a hash of its rows' (dataset, file,
`loaded_at`): it changes exactly when a load changed what the day contributes.

When a dbt build succeeds, the load state of every arrival day is kept in
`audit.built_arrival_days`. An arrival day is *pending* when its load state differs from the
kept one (new or re-delivered files, a file removed) or when it is kept but no longer loaded.
The dbt step builds from the first pending day to the last: a run that loaded nothing new
builds nothing, and a run after one that died between landing and dbt builds what that one
loaded. Forget and cleanup change raw rows on purpose without loading (forget rewrites the marts
itself; cleanup ages out raw rows, not the marts built from them), so they leave the load state
alone; cleanup removes the days it ages out from both tables in one transaction.

The project's code is the other input of a build: `code_fingerprint` hashes every file dbt
reads. The same hash decides when the project must be parsed again (`transform.dbt_project`).

Each dbt invocation is logged in `audit.model_builds` when it starts and marked succeeded or
failed when it ends; a build whose process died before it ended stays unfinished, which counts
as failed. A build of a selection of models ends neither succeeded nor failed. The builds after
the last successful one are *unsettled* (`unsettled_builds`): the next build covers their
windows and marks what it re-derives as they did, so that every mart sees what they changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from orchestration.audit import AUDIT_TABLE
from orchestration.sql import column_types, create_table_if_missing, transaction

BUILDS_TABLE = "audit.model_builds"
BUILDS_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("step", "VARCHAR", "Which dbt invocation built (the Dagster step)."),
    ("window_start", "DATE", "First arrival day built (NULL: every day)."),
    ("window_end", "DATE", "Day after the last arrival day built (NULL: every day)."),
    ("full_refresh", "BOOLEAN", "Whether every model was rebuilt from all raw data."),
    ("code_fingerprint", "VARCHAR", "SHA-256 of the dbt project's files."),
    ("raw_fingerprint", "VARCHAR", "SHA-256 of the load state of every arrival day."),
    ("started_at", "TIMESTAMP", "When the build started (UTC)."),
    ("finished_at", "TIMESTAMP", "When it ended (UTC); NULL while it runs, or if it never ended."),
    (
        "succeeded",
        "BOOLEAN",
        "Whether dbt finished without error; NULL until it ends, and for a build of a "
        "selection of models (its success says nothing of the others).",
    ),
    ("actor", "VARCHAR", "The run that built: `dagster run <id>`."),
)
BUILT_DAYS_TABLE = "audit.built_arrival_days"
BUILT_DAYS_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("landing_date", "DATE", "Arrival day."),
    ("load_state", "UBIGINT", "Hash of the day's load manifest rows (dataset, file, loaded_at)."),
    ("built_at", "TIMESTAMP", "When the build that saw this load state started (UTC)."),
)
_PROJECT_FILES = ("models", "macros", "seeds", "tests", "snapshots", "analyses")
_PROJECT_CONFIG = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")

_SELECTION = "(finished_at is not null and succeeded is null)"
"""A logged build of a selection of models: ended, neither succeeded nor failed."""

_LOAD_STATE = "bit_xor(hash(dataset, file_path, loaded_at))"
"""The load state of the manifest rows of a group (an arrival day; one row per file)."""

Window = tuple[date, date]
"""Arrival days [start, end), half-open."""


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


def build_code(project_dir: Path, engine: str) -> str:
    """What a build records as its code: the project's `code_fingerprint`, prefixed by the
    engine on engines other than DuckDB (`spark:<sha>`), so that a build after a switch of
    engine sees the last build was made elsewhere."""
    code = code_fingerprint(project_dir)
    return code if engine == "duckdb" else f"{engine}:{code}"


def engine_of(code: str) -> str:
    """The engine a build with this recorded code ran on (`build_code`)."""
    return code.split(":", 1)[0] if ":" in code else "duckdb"


def _exists(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(column_types(connection, table))


def load_states(connection: duckdb.DuckDBPyConnection) -> dict[date, int]:
    """The load state of every arrival day the manifest holds."""
    if not _exists(connection, "raw.load_manifest"):
        return {}
    return dict(
        connection.execute(
            f"""
            select landing_date, {_LOAD_STATE}
            from raw.load_manifest group by landing_date
            """
        ).fetchall()
    )


def raw_fingerprint(connection: duckdb.DuckDBPyConnection) -> str:
    """One hash of the load state of every arrival day."""
    states = sorted(load_states(connection).items())
    return hashlib.sha256(repr(states).encode()).hexdigest()


def create_builds_tables(connection: duckdb.DuckDBPyConnection) -> None:
    create_table_if_missing(connection, BUILDS_TABLE, BUILDS_COLUMNS)
    if not _exists(connection, BUILT_DAYS_TABLE):
        create_table_if_missing(connection, BUILT_DAYS_TABLE, BUILT_DAYS_COLUMNS)
        _adopt_earlier_builds(connection)


def _adopt_earlier_builds(connection: duckdb.DuckDBPyConnection) -> None:
    """A warehouse whose builds were logged before the load states were kept: the days as they
    were loaded when its last successful build started count as built."""
    last = connection.execute(
        f"select max(started_at) from {BUILDS_TABLE} where succeeded"
    ).fetchone()[0]
    if last is not None:
        _keep_load_states(connection, last, loaded_until=last)


def _keep_load_states(
    connection: duckdb.DuckDBPyConnection, built_at: datetime, *, loaded_until: datetime | None
) -> None:
    """Keep the load state of every arrival day (of the files loaded until `loaded_until`, if
    given) as the one a build started at `built_at` saw."""
    if not _exists(connection, "raw.load_manifest"):
        return
    connection.execute(
        f"""
        insert into {BUILT_DAYS_TABLE}
        select landing_date, {_LOAD_STATE}, ?
        from raw.load_manifest where ?::timestamp is null or loaded_at <= ?
        group by landing_date
        """,
        [built_at, loaded_until, loaded_until],
    )


def pending_days(connection: duckdb.DuckDBPyConnection) -> list[date]:
    """The arrival days whose load state differs from the one the last successful build saw."""
    create_builds_tables(connection)
    built = dict(
        connection.execute(f"select landing_date, load_state from {BUILT_DAYS_TABLE}").fetchall()
    )
    current = load_states(connection)
    return sorted(
        day for day in built.keys() | current.keys() if built.get(day) != current.get(day)
    )


def window_of(days: list[date], requested: Window | None = None) -> Window | None:
    """The half-open window from the first to the last of `days` and of `requested`."""
    bounds = list(days)
    if requested is not None and requested[0] < requested[1]:
        bounds += [requested[0], requested[1] - timedelta(days=1)]
    if not bounds:
        return None
    return min(bounds), max(bounds) + timedelta(days=1)


def last_build_code(connection: duckdb.DuckDBPyConnection) -> str | None:
    """The code fingerprint of the last build, if it succeeded (a build of a selection of
    models does not count)."""
    create_builds_tables(connection)
    row = connection.execute(
        f"""
        select succeeded, code_fingerprint from {BUILDS_TABLE}
        where not {_SELECTION}
        order by coalesce(finished_at, started_at) desc limit 1
        """
    ).fetchone()
    return row[1] if row and row[0] else None


def tables_with_other_columns(
    connection: duckdb.DuckDBPyConnection, manifest_path: Path
) -> list[str]:
    """The incremental models whose table in the warehouse has other columns than the parsed
    project declares for them (every model documents each of its columns), each as
    `schema.table (adds a; drops b)`. An incremental run reads and writes its table as it is, so
    such a model can only be built anew; a model without a table yet is built anew anyway."""
    manifest = json.loads(manifest_path.read_text())
    changed = []
    for node in sorted(manifest["nodes"].values(), key=lambda node: node["unique_id"]):
        if node["resource_type"] != "model" or node["config"]["materialized"] != "incremental":
            continue
        relation = f"{node['schema']}.{node['alias']}"
        existing = {name.lower() for name in column_types(connection, relation)}
        declared = {name.lower() for name in node["columns"]}
        if existing and declared != existing:
            differences = [
                f"{verb} {', '.join(sorted(columns))}"
                for verb, columns in (("adds", declared - existing), ("drops", existing - declared))
                if columns
            ]
            changed.append(f"{relation} ({'; '.join(differences)})")
    return changed


@dataclass(frozen=True)
class Unsettled:
    """The builds since the last successful one: failed, stopped, or of a selection of models.

    Each may have re-derived rows that the marts it did not reach have not seen. The next build
    goes on with theirs: it covers their windows (every day if one had none), and marks what it
    re-derives with `label`, the start of the first of them, as they did, so that the marts see
    their changes as its own (`window_label` in dbt_project/macros/incremental.sql).
    """

    label: str
    days: list[date]
    every_day: bool


def unsettled_builds(connection: duckdb.DuckDBPyConnection) -> Unsettled | None:
    """The builds since the last successful one, if any (see `Unsettled`)."""
    create_builds_tables(connection)
    rows = connection.execute(
        f"""
        select started_at, window_start, window_end, full_refresh from {BUILDS_TABLE}
        where started_at > coalesce(
            (select max(started_at) from {BUILDS_TABLE} where succeeded and not {_SELECTION}),
            '-infinity'::timestamp
        )
        order by started_at
        """
    ).fetchall()
    if not rows:
        return None
    days = [
        day
        for _, start, end, _ in rows
        if start is not None and end is not None and start < end
        for day in (start, end - timedelta(days=1))
    ]
    every_day = any(start is None or end is None or full for _, start, end, full in rows)
    return Unsettled(label=build_label(rows[0][0]), days=days, every_day=every_day)


def forgotten_since_last_build(connection: duckdb.DuckDBPyConnection) -> bool:
    """Whether a person was forgotten (`forget` in the audit log) after the last successful
    build started. On Spark, whose Parquet tables cannot delete rows, the next build then
    rebuilds every model from the raw tables, which no longer hold the person."""
    create_builds_tables(connection)
    if not _exists(connection, AUDIT_TABLE):
        return False
    (forgotten,) = connection.execute(
        f"""
        select count(*) > 0 from {AUDIT_TABLE}
        where action = 'forget' and occurred_at > (
            select max(started_at) from {BUILDS_TABLE} where succeeded and not {_SELECTION}
        )
        """
    ).fetchone()
    return bool(forgotten)


def build_label(started_at: datetime) -> str:
    """What a build writes beside the rows it re-derives: its start, to the microsecond."""
    return f"build {started_at:%Y-%m-%dT%H:%M:%S.%f}"


def start_build(
    connection: duckdb.DuckDBPyConnection,
    step: str,
    window: Window | None,
    *,
    full_refresh: bool,
    code: str,
    actor: str,
) -> datetime:
    """Log a build as started, unfinished. Returns its start time, which `finish_build` is
    given to find it."""
    create_builds_tables(connection)
    start, end = window or (None, None)
    return connection.execute(
        f"""
        insert into {BUILDS_TABLE}
        values (?, ?, ?, ?, ?, ?, cast(now() as timestamp), NULL, NULL, ?)
        returning started_at
        """,
        [step, start, end, full_refresh, code, raw_fingerprint(connection), actor],
    ).fetchone()[0]


def finish_build(
    connection: duckdb.DuckDBPyConnection,
    step: str,
    started_at: datetime,
    *,
    succeeded: bool,
    actor: str,
) -> None:
    """Mark a build ended; a successful one makes every arrival day's load state the built one
    (no load can happen while it runs: both hold the warehouse lock)."""
    with transaction(connection):
        connection.execute(
            f"""
            update {BUILDS_TABLE}
            set finished_at = cast(now() as timestamp), succeeded = ?
            where step = ? and started_at = ? and actor = ?
            """,
            [succeeded, step, started_at, actor],
        )
        if succeeded:
            connection.execute(f"delete from {BUILT_DAYS_TABLE}")
            _keep_load_states(connection, started_at, loaded_until=None)


def finish_selection_build(
    connection: duckdb.DuckDBPyConnection, step: str, started_at: datetime, *, actor: str
) -> None:
    """Mark a build of a selection of models ended, neither succeeded nor failed: its success
    says nothing of the models it did not build, so the next build goes on from it."""
    connection.execute(
        f"""
        update {BUILDS_TABLE} set finished_at = cast(now() as timestamp)
        where step = ? and started_at = ? and actor = ?
        """,
        [step, started_at, actor],
    )
