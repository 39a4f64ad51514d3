"""Exports: a mart, optionally one tenant's rows of a range of days, as CSV, JSON or XLSX.

Every export is a row of `audit.exports` that moves PENDING -> PROCESSING -> COMPLETED (or
FAILED), and later EXPIRED when cleanup deletes its file past `expires_at`; a completed or failed
export also appends an `export` action to the audit log. Files are written to
`warehouse/exports/<mart>-<export id>.<format>` under a temporary name and renamed when complete,
so a file that exists is whole.

Formats:
- `csv`: a header row, comma-separated, RFC 4180 quoting; timestamps as ISO 8601 (UTC).
- `json`: one JSON array of objects, one object per row (maps and lists stay JSON objects and
  arrays).
- `xlsx`: one sheet named after the mart, a header row; maps, lists and JSON as their text;
  NULL and the empty string are both an empty cell, as Excel has no other.
  Excel holds at most 1,048,575 rows under the header: a larger export fails and says so.

The date range filters on the mart's day or period column (`catalog.Table.period_column`), both
ends included; the tenant filter on `tenant_id`.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import duckdb
from dagster import Config, OpExecutionContext, job, op
from dagster_duckdb import DuckDBResource
from openpyxl import Workbook

from orchestration.audit import default_actor, record_action
from orchestration.catalog import Table, marts
from orchestration.resources import WAREHOUSE_WRITER_POOL
from orchestration.settings import Settings
from orchestration.spark import built_tables
from orchestration.sql import create_table_if_missing, quote_identifier, sql_string, transaction

EXPORTS_TABLE = "audit.exports"
XLSX_MAX_ROWS = 1_048_575
_FETCH_ROWS = 10_000
# Characters XML 1.0 cannot hold; written as Excel's own `_xHHHH_` escape.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"


class ExportStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"


EXPORT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("export_id", "VARCHAR", "Unique id of the export; also in its file name."),
    ("mart", "VARCHAR", "The mart exported."),
    ("format", "VARCHAR", "csv, json or xlsx."),
    ("tenant_id", "VARCHAR", "Only this tenant's rows; NULL for every tenant."),
    ("start_date", "DATE", "First day of the period column included; NULL for no lower bound."),
    ("end_date", "DATE", "Last day of the period column included; NULL for no upper bound."),
    ("status", "VARCHAR", "PENDING, PROCESSING, COMPLETED, FAILED or EXPIRED."),
    ("row_count", "BIGINT", "Rows written; NULL until COMPLETED."),
    ("path", "VARCHAR", "The export's file; it exists while the status is COMPLETED."),
    ("error", "VARCHAR", "Why the export FAILED."),
    ("requested_by", "VARCHAR", "Who asked for it: `dagster run <id>` or the OS user."),
    ("requested_at", "TIMESTAMP", "When it was asked for (UTC)."),
    ("completed_at", "TIMESTAMP", "When it COMPLETED or FAILED (UTC)."),
    ("expires_at", "TIMESTAMP", "When cleanup deletes the file and marks it EXPIRED (UTC)."),
)


class ExportError(ValueError):
    """A request that cannot be exported; the message says what to change."""


@dataclass(frozen=True)
class ExportRequest:
    mart: str
    format: ExportFormat
    tenant_id: str | None = None
    start_date: date | None = None
    end_date: date | None = None


@dataclass(frozen=True)
class ExportResult:
    export_id: str
    status: ExportStatus
    path: Path | None
    """The file; None when the export failed before one was named."""
    row_count: int | None
    expires_at: datetime | None
    error: str | None


def create_exports_table(connection: duckdb.DuckDBPyConnection) -> None:
    create_table_if_missing(connection, EXPORTS_TABLE, EXPORT_COLUMNS)


def export_query(
    connection: duckdb.DuckDBPyConnection, request: ExportRequest, source: str | None = None
) -> str:
    """The SELECT of the rows to export; the mart name is checked against the catalog (of the
    database `source`, default the current one) and the filter values are literals quoted as
    data."""
    available = marts(connection, source)
    table = available.get(request.mart)
    if table is None:
        raise ExportError(
            f"there is no mart {request.mart!r}; the marts are: "
            f"{', '.join(sorted(available)) or 'none (run the pipeline first)'}"
        )
    conditions = []
    if request.tenant_id is not None:
        if "tenant_id" not in table.columns:
            raise ExportError(f"mart {table.name} has no tenant_id column; export all tenants")
        conditions.append(f"tenant_id = {sql_string(request.tenant_id)}")
    if request.start_date or request.end_date:
        conditions.extend(_date_conditions(table, request.start_date, request.end_date))
    where = f" where {' and '.join(conditions)}" if conditions else ""
    order = ", ".join(quote_identifier(name) for name in table.columns)
    return f"select * from {table.relation}{where} order by {order}"


def _date_conditions(table: Table, start: date | None, end: date | None) -> list[str]:
    column = table.period_column
    if column is None:
        raise ExportError(
            f"mart {table.name} has no day or period column to filter on; "
            "export it without --start/--end"
        )
    if start and end and start > end:
        raise ExportError(f"the start date {start} is after the end date {end}")
    conditions = []
    if start:
        conditions.append(f"{quote_identifier(column)} >= date '{start.isoformat()}'")
    if end:
        # Half-open on the next day, so that a timestamp column includes the whole end day.
        next_day = (end + timedelta(days=1)).isoformat()
        conditions.append(f"{quote_identifier(column)} < date '{next_day}'")
    return conditions


def export_mart(
    connection: duckdb.DuckDBPyConnection,
    request: ExportRequest,
    exports_dir: Path,
    *,
    expiry_days: int = 7,
    actor: str | None = None,
    source: str | None = None,
) -> ExportResult:
    """Write one export and record every step of it in `audit.exports`. The marts are read from
    the database `source` (on Spark, `orchestration.spark.built_tables`), by default the
    warehouse."""
    connection.execute("set TimeZone = 'UTC'")
    create_exports_table(connection)
    export_id = str(uuid.uuid4())
    connection.execute(
        f"""
        insert into {EXPORTS_TABLE} (export_id, mart, format, tenant_id, start_date, end_date,
            status, requested_by, requested_at)
        values (?, ?, ?, ?, ?, ?, ?, ?, cast(now() as timestamp))
        """,
        [
            export_id,
            request.mart,
            str(request.format),
            request.tenant_id,
            request.start_date,
            request.end_date,
            ExportStatus.PENDING,
            actor or default_actor(),
        ],
    )
    connection.execute(
        f"update {EXPORTS_TABLE} set status = ? where export_id = ?",
        [ExportStatus.PROCESSING, export_id],
    )
    path = None
    try:
        query = export_query(connection, request, source)
        # The name is built only from a mart name the catalog knows.
        path = exports_dir / f"{request.mart}-{export_id}.{request.format}"
        exports_dir.mkdir(parents=True, exist_ok=True)
        row_count = _write(connection, query, request.format, request.mart, path)
    except (ExportError, duckdb.Error, OSError) as error:
        return _finish(connection, request, export_id, path, actor, error=str(error))
    return _finish(
        connection, request, export_id, path, actor, row_count=row_count, expiry_days=expiry_days
    )


def _finish(
    connection: duckdb.DuckDBPyConnection,
    request: ExportRequest,
    export_id: str,
    path: Path | None,
    actor: str | None,
    *,
    row_count: int | None = None,
    expiry_days: int = 7,
    error: str | None = None,
) -> ExportResult:
    status = ExportStatus.FAILED if error else ExportStatus.COMPLETED
    with transaction(connection):
        completed_at = connection.execute("select cast(now() as timestamp)").fetchone()[0]
        expires_at = None if error else completed_at + timedelta(days=expiry_days)
        connection.execute(
            f"""
            update {EXPORTS_TABLE}
            set status = ?, row_count = ?, path = ?, error = ?, completed_at = ?, expires_at = ?
            where export_id = ?
            """,
            [status, row_count, path and str(path), error, completed_at, expires_at, export_id],
        )
        record_action(
            connection,
            "export",
            f"marts.{request.mart}",
            actor=actor,
            rows_affected=row_count or 0,
            details={
                "export_id": export_id,
                "status": status,
                "format": request.format,
                "tenant_id": request.tenant_id,
                "start_date": request.start_date,
                "end_date": request.end_date,
                "path": path and str(path),
                "error": error,
            },
        )
    return ExportResult(export_id, status, path, row_count, expires_at, error)


def _write(
    connection: duckdb.DuckDBPyConnection,
    query: str,
    export_format: ExportFormat,
    sheet_name: str,
    path: Path,
) -> int:
    """Write the query's rows to `path` (through a temporary file); the number of rows."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        if export_format is ExportFormat.XLSX:
            row_count = _write_xlsx(connection, query, sheet_name, partial)
        else:
            options = (
                "format csv, header true"
                if export_format is ExportFormat.CSV
                else "format json, array true"
            )
            copy = f"copy ({query}) to {sql_string(str(partial))} ({options})"
            (row_count,) = connection.execute(copy).fetchone()
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return row_count


def _xlsx_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | datetime | date):
        return value
    text = value if isinstance(value, str) else str(value)
    return _XML_ILLEGAL.sub(lambda match: f"_x{ord(match.group()):04X}_", text)


def _write_xlsx(
    connection: duckdb.DuckDBPyConnection, query: str, sheet_name: str, path: Path
) -> int:
    row_count = connection.execute(f"select count(*) from ({query})").fetchone()[0]
    if row_count > XLSX_MAX_ROWS:
        raise ExportError(
            f"{row_count} rows do not fit in one Excel sheet (at most {XLSX_MAX_ROWS}); "
            "narrow the export with --tenant/--start/--end or export csv or json"
        )
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_name[:31])
    cursor = connection.execute(query)
    sheet.append([column[0] for column in cursor.description])
    while batch := cursor.fetchmany(_FETCH_ROWS):
        for row in batch:
            sheet.append([_xlsx_value(value) for value in row])
    workbook.save(path)
    return row_count


class ExportConfig(Config):
    """Run config of the `export` job."""

    mart: str
    """A table of the marts schema, e.g. sessions."""
    format: str = "csv"
    """csv, json or xlsx."""
    tenant_id: str | None = None
    start_date: str | None = None
    """First day included, YYYY-MM-DD."""
    end_date: str | None = None
    """Last day included, YYYY-MM-DD."""


def parse_request(
    mart: str,
    export_format: str,
    tenant_id: str | None,
    start_date: str | date | None,
    end_date: str | date | None,
) -> ExportRequest:
    """A request from text (run config, command line), with errors a user can act on."""
    try:
        parsed_format = ExportFormat(export_format.lower())
    except ValueError:
        raise ExportError(
            f"unknown format {export_format!r}; use one of {', '.join(ExportFormat)}"
        ) from None

    def day(value: str | date | None, name: str) -> date | None:
        if value is None or isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ExportError(f"{name} {value!r} is not a date YYYY-MM-DD") from None

    return ExportRequest(
        mart, parsed_format, tenant_id, day(start_date, "start_date"), day(end_date, "end_date")
    )


def build_export_job(settings: Settings):
    @op(
        name="export_mart",
        pool=WAREHOUSE_WRITER_POOL,
        description="Export one mart (optionally a tenant and a date range) to warehouse/exports/.",
    )
    def export_mart_op(
        context: OpExecutionContext, config: ExportConfig, warehouse: DuckDBResource
    ) -> None:
        request = parse_request(
            config.mart, config.format, config.tenant_id, config.start_date, config.end_date
        )
        with warehouse.get_connection() as connection, built_tables(connection, settings) as db:
            result = export_mart(
                connection,
                request,
                settings.exports_dir,
                expiry_days=settings.export_expiry_days,
                actor=f"dagster run {context.run_id}",
                source=db,
            )
        if result.status is ExportStatus.FAILED:
            raise ExportError(f"export {result.export_id} failed: {result.error}")
        context.log.info(
            f"export {result.export_id}: {result.row_count} rows of marts.{request.mart} "
            f"to {result.path}, expires {result.expires_at:%Y-%m-%d %H:%M} UTC"
        )

    @job(
        name="export",
        description=(
            "Export a mart to CSV, JSON or XLSX in warehouse/exports/, recorded in "
            "audit.exports. Run config: "
            '{"ops": {"export_mart": {"config": {"mart": "sessions", "format": "csv", '
            '"tenant_id": "t1", "start_date": "2026-03-01", "end_date": "2026-03-07"}}}}'
        ),
    )
    def export_job() -> None:
        export_mart_op()

    return export_job
