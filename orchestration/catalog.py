"""What the warehouse holds, read from DuckDB's catalog rather than from a list in the code.

Exports, retention and forget-a-person all act on "every mart" or "every table with a person
column"; reading the catalog means a mart added to the dbt project tomorrow is covered without a
change here.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from orchestration.sql import quote_identifier

MARTS_SCHEMA = "marts"
PERSON_COLUMNS = ("user_id", "anonymous_id", "person_id")
"""Columns that hold an id of a person: a person_id is a user_id or an anonymous_id."""


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: dict[str, str]
    """Column name -> DuckDB type, in table order."""
    database: str | None = None
    """The database it is read from when not the connection's current one (Spark's tables)."""

    @property
    def relation(self) -> str:
        relation = f"{quote_identifier(self.schema)}.{quote_identifier(self.name)}"
        if self.database is None:
            return relation
        return f"{quote_identifier(self.database)}.{relation}"

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def person_columns(self) -> tuple[str, ...]:
        return tuple(name for name in PERSON_COLUMNS if name in self.columns)

    @property
    def period_column(self) -> str | None:
        """The day or period a row describes: the first DATE column, or a TIMESTAMP column named
        `*_start` (`hour_start`, `period_start`) when that comes first. None for marts that
        describe current state (users, identities, deployments, funnel definitions)."""
        for name, column_type in self.columns.items():
            if column_type == "DATE" or (
                column_type.startswith("TIMESTAMP") and name.endswith("_start")
            ):
                return name
        return None


def base_tables(
    connection: duckdb.DuckDBPyConnection, schema: str | None = None, database: str | None = None
) -> list[Table]:
    """Every base table (views hold no rows of their own), optionally of one schema, by name.

    Of `database` when given (views there count as tables: `orchestration.spark.built_tables`
    reads each of Spark's tables through a view), else of the current database."""
    rows = connection.execute(
        """
        select c.table_schema, c.table_name, c.column_name, c.data_type
        from information_schema.columns as c
        join information_schema.tables as t using (table_catalog, table_schema, table_name)
        where (t.table_type = 'BASE TABLE' or $database is not null)
            and t.table_catalog = coalesce($database, current_database())
            and ($schema is null or c.table_schema = $schema)
        order by c.table_schema, c.table_name, c.ordinal_position
        """,
        {"schema": schema, "database": database},
    ).fetchall()
    tables: dict[tuple[str, str], dict[str, str]] = {}
    for table_schema, table_name, column_name, data_type in rows:
        tables.setdefault((table_schema, table_name), {})[column_name] = data_type
    return [Table(s, n, columns, database) for (s, n), columns in tables.items()]


def marts(connection: duckdb.DuckDBPyConnection, database: str | None = None) -> dict[str, Table]:
    """The mart tables (of `database`, default the current one), by name."""
    return {table.name: table for table in base_tables(connection, MARTS_SCHEMA, database)}
