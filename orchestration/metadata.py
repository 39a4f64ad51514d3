"""Query results as Dagster table metadata: previews and small reports in the UI."""

from collections.abc import Sequence

import duckdb
from dagster import MetadataValue, TableColumn, TableRecord, TableSchema


def _record_value(value: object) -> str | int | float | bool | None:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def query_table(
    connection: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()
) -> MetadataValue:
    """The rows of a query as a table in the asset's metadata (values the UI cannot show as
    they are, such as timestamps, become text)."""
    cursor = connection.execute(sql, list(params))
    return rows_table([column[0] for column in cursor.description], cursor.fetchall())


def rows_table(names: Sequence[str], rows: Sequence[Sequence[object]]) -> MetadataValue:
    """Rows already fetched, with their column names, as a table in the asset's metadata."""
    return MetadataValue.table(
        records=[
            TableRecord({n: _record_value(v) for n, v in zip(names, row, strict=True)})
            for row in rows
        ],
        schema=TableSchema(columns=[TableColumn(name=n, type="string") for n in names]),
    )
