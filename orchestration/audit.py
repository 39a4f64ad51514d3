"""The audit log: one row per destructive or administrative action, appended and never changed.

Loads, reloads, cleanups, forgets, publications and exports each call `record_action` in the
same transaction as the work they record, so the log and the data cannot disagree. A column
added to a table the code declares (`orchestration.sql.create_tables_if_missing`) is a
`migrate` action of its own.
"""

from __future__ import annotations

import getpass
import json
import os
from typing import Any

import duckdb

from orchestration.sql import create_table_if_missing

AUDIT_TABLE = "audit.actions"
ACTIONS = ("load", "reload", "cleanup", "forget", "publish", "export", "import", "migrate")

AUDIT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("action_id", "UUID", "Unique id of the action."),
    ("action", "VARCHAR", f"What was done: {', '.join(ACTIONS)}."),
    ("target", "VARCHAR", "What it was done to, e.g. `raw.events 2026-03-01`."),
    ("actor", "VARCHAR", "Who or what did it: `dagster run <id>` or the operating-system user."),
    ("occurred_at", "TIMESTAMP", "When (UTC)."),
    ("rows_affected", "BIGINT", "How many rows the action read, wrote or removed."),
    ("details", "JSON", "Counts and parameters of the action."),
)


def default_actor() -> str:
    """The actor of an action started outside Dagster: the operating-system user."""
    try:
        return f"user {getpass.getuser()}"
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def create_audit_table(connection: duckdb.DuckDBPyConnection) -> None:
    create_table_if_missing(connection, AUDIT_TABLE, AUDIT_COLUMNS)


def record_action(
    connection: duckdb.DuckDBPyConnection,
    action: str,
    target: str,
    *,
    actor: str | None = None,
    rows_affected: int = 0,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one action to the audit log (inside the caller's transaction, if any)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; expected one of {', '.join(ACTIONS)}")
    create_audit_table(connection)
    connection.execute(
        f"""
        insert into {AUDIT_TABLE}
            (action_id, action, target, actor, occurred_at, rows_affected, details)
        values (uuid(), ?, ?, ?, cast(now() as timestamp), ?, ?)
        """,
        [
            action,
            target,
            actor or default_actor(),
            rows_affected,
            json.dumps(details or {}, sort_keys=True, default=str),
        ],
    )
