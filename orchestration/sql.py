"""Small pieces of SQL shared by every module that talks to the warehouse."""

from __future__ import annotations

from collections.abc import Iterator
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
