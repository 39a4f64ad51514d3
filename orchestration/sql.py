"""Small pieces of SQL shared by every module that talks to the warehouse."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import duckdb


def sql_string(value: str) -> str:
    """A SQL string literal for `value` (quotes doubled), for text that is not a bound parameter."""
    return "'" + value.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def transaction(connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Everything inside commits together, or not at all."""
    connection.execute("begin transaction")
    try:
        yield
    except BaseException:
        connection.execute("rollback")
        raise
    connection.execute("commit")


def create_table_if_missing(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    columns: Iterable[tuple[str, str, str]],
) -> None:
    """Create `schema.table` with `(name, type, description)` columns unless it exists."""
    schema = table.split(".", 1)[0]
    connection.execute(f"create schema if not exists {quote_identifier(schema)}")
    definitions = ",\n    ".join(f"{quote_identifier(name)} {type_}" for name, type_, _ in columns)
    connection.execute(f"create table if not exists {table} (\n    {definitions}\n)")
