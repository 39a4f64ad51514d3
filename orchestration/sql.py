"""Small pieces of SQL shared by every module that talks to the warehouse."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

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


class SchemaChangeError(Exception):
    """A table differs from its declared columns in a way adding nullable columns cannot mend;
    the message says what differs and what to do."""


def column_types(
    connection: duckdb.DuckDBPyConnection, table: str, database: str | None = None
) -> dict[str, str]:
    """The columns of `schema.table` (of `database`, default the current one) and their types as
    DuckDB spells them, in table order; empty when the table does not exist."""
    schema, name = table.split(".", 1)
    rows = connection.execute(
        """
        select column_name, data_type from duckdb_columns()
        where database_name = coalesce(?, current_database()) and schema_name = ?
            and table_name = ?
        order by column_index
        """,
        [database, schema, name],
    ).fetchall()
    return dict(rows)


def canonical_types(
    connection: duckdb.DuckDBPyConnection, columns: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Declared types as DuckDB spells them in its catalog (`int` -> `INTEGER`)."""
    if not columns:
        return []
    spelled = connection.execute(
        "select " + ", ".join(f"typeof(cast(null as {type_}))" for _, type_ in columns)
    ).fetchone()
    return [(name, type_) for (name, _), type_ in zip(columns, spelled, strict=True)]


@dataclass(frozen=True)
class ColumnDifferences:
    """How a table's columns differ from the declared ones, by name and type (order aside)."""

    missing: list[tuple[str, str]]
    """Declared columns the table lacks: (name, declared type)."""
    unexpected: list[tuple[str, str]]
    """Columns of the table that are not declared: (name, type)."""
    retyped: list[tuple[str, str, str]]
    """Columns whose type differs: (name, type in the table, declared type)."""


def column_differences(
    actual: Mapping[str, str], expected: Sequence[tuple[str, str]]
) -> ColumnDifferences:
    declared = dict(expected)
    return ColumnDifferences(
        missing=[(n, t) for n, t in expected if n not in actual],
        unexpected=[(n, t) for n, t in actual.items() if n not in declared],
        retyped=[(n, actual[n], t) for n, t in expected if n in actual and actual[n] != t],
    )


@dataclass(frozen=True)
class DeclaredTable:
    """A table the code creates: its name, its `(name, type, description)` columns, and the
    columns every row must have a value for."""

    name: str
    """`schema.table`."""
    columns: tuple[tuple[str, str, str], ...]
    required: frozenset[str] = frozenset()
    primary_key: tuple[str, ...] = ()
    """Columns whose values identify a row: DuckDB keeps them unique and never NULL."""


def create_tables_if_missing(
    connection: duckdb.DuckDBPyConnection,
    tables: Sequence[DeclaredTable],
    *,
    actor: str | None = None,
) -> list[tuple[str, str, str]]:
    """Create each table unless it exists.

    A table created before columns were added to its declaration gets them, NULL in the rows
    it holds, each addition recorded in the audit log as done by `actor`; the added columns
    are returned as `(table, column, type)`. Anything else (a column whose type changed, a
    column no longer declared, a missing required column, which the rows already there have
    no value for) raises `SchemaChangeError` naming every such difference, before any table
    is changed.
    """
    existing = {table.name: column_types(connection, table.name) for table in tables}
    additions: list[tuple[str, str, str]] = []
    problems: list[tuple[str, str]] = []
    for table in tables:
        declared = [(name, type_) for name, type_, _ in table.columns]
        if not existing[table.name] or existing[table.name] == dict(declared):
            continue
        differences = column_differences(
            existing[table.name], canonical_types(connection, declared)
        )
        additions += [
            (table.name, name, type_)
            for name, type_ in differences.missing
            if name not in table.required
        ]
        problems += _schema_change_problems(table, differences)
    if problems:
        raise SchemaChangeError(
            "The tables differ from their declared columns in ways that adding nullable "
            "columns cannot mend:\n"
            + "".join(f"- {problem}\n" for problem, _ in problems)
            + "Only a new optional column is added to an existing table by itself. Either "
            "declare the change that way (a new optional column; old columns kept, with their "
            "types), or change the tables by hand, for example:\n"
            + "".join(f"    {statement}\n" for _, statement in problems)
            + "and run again."
        )
    for table in tables:
        if not existing[table.name]:
            schema = table.name.split(".", 1)[0]
            connection.execute(f"create schema if not exists {quote_identifier(schema)}")
            definitions = [f"{quote_identifier(name)} {type_}" for name, type_, _ in table.columns]
            if table.primary_key:
                key = ", ".join(quote_identifier(name) for name in table.primary_key)
                definitions.append(f"primary key ({key})")
            columns = ",\n    ".join(definitions)
            connection.execute(f"create table if not exists {table.name} (\n    {columns}\n)")
    if additions:
        _add_columns(connection, additions, actor)
    return additions


def _schema_change_problems(
    table: DeclaredTable, differences: ColumnDifferences
) -> list[tuple[str, str]]:
    """What differs that no added column mends, each with a statement that would mend it."""
    name = table.name
    problems = [
        (
            f"{name}.{column} is {actual}, but declared {wanted}",
            f"alter table {name} alter column {quote_identifier(column)} type {wanted};",
        )
        for column, actual, wanted in differences.retyped
    ]
    problems += [
        (
            f"{name}.{column} {type_} is no longer declared",
            f"alter table {name} drop column {quote_identifier(column)};",
        )
        for column, type_ in differences.unexpected
    ]
    problems += [
        (
            f"{name}.{column} {type_} is declared required, but the rows already there have "
            "no value for it",
            f"alter table {name} add column {quote_identifier(column)} {type_};"
            " -- then give every row a value",
        )
        for column, type_ in differences.missing
        if column in table.required
    ]
    return problems


def _add_columns(
    connection: duckdb.DuckDBPyConnection,
    additions: list[tuple[str, str, str]],
    actor: str | None,
) -> None:
    # The audit log is itself a table created here, so it is imported only when needed.
    from orchestration.audit import record_action

    for table, column, type_ in additions:
        rows = connection.execute(f"select count(*) from {table}").fetchone()[0]
        connection.execute(f"alter table {table} add column {quote_identifier(column)} {type_}")
        record_action(
            connection,
            "migrate",
            table,
            actor=actor,
            rows_affected=rows,
            details={"added_column": column, "type": type_},
        )


def create_table_if_missing(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    columns: Iterable[tuple[str, str, str]],
    *,
    actor: str | None = None,
) -> list[tuple[str, str, str]]:
    """`create_tables_if_missing` for one table whose columns may all be NULL."""
    return create_tables_if_missing(connection, [DeclaredTable(table, tuple(columns))], actor=actor)
