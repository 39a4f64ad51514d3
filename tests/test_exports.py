"""Exports of a mart to CSV, JSON and XLSX: the rows survive the trip, and every export is
recorded with its status."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from dagster_duckdb import DuckDBResource
from openpyxl import load_workbook

from orchestration.cli import main
from orchestration.exports import (
    ExportError,
    ExportFormat,
    ExportRequest,
    ExportStatus,
    build_export_job,
    export_mart,
    parse_request,
)
from orchestration.mart_contracts import declared_models
from orchestration.settings import Settings
from orchestration.spark import built_tables

SESSIONS_COLUMNS = {
    "session_key": "VARCHAR",
    "tenant_id": "VARCHAR",
    "person_id": "VARCHAR",
    "session_start": "TIMESTAMP",
    "session_date": "DATE",
    "duration_seconds": "DOUBLE",
    "page_view_count": "BIGINT",
    "is_bounce": "BOOLEAN",
    "entry_page": "VARCHAR",
}
SESSIONS = [
    ("s1", "t1", "p1", datetime(2026, 3, 1, 23, 59, 59), date(2026, 3, 1), 12.5, 1, True, "/"),
    ("s2", "t1", "p2", datetime(2026, 3, 2, 8, 0), date(2026, 3, 2), 0.0, 3, False, None),
    ("s3", "t2", "p3", datetime(2026, 3, 2, 9, 30), date(2026, 3, 2), None, 0, None, ""),
    (
        "s4",
        "t1",
        "p1",
        datetime(2026, 3, 3, 0, 0),
        date(2026, 3, 3),
        61.25,
        2,
        False,
        "/search?q=\"a, b\"; drop table x;--\nnext line 'é'",
    ),
    ("s5", "t1", "p4", datetime(2026, 3, 4, 12, 0), date(2026, 3, 4), 3.0, 1, True, "/docs"),
]


@pytest.fixture
def marts_warehouse(warehouse: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in SESSIONS_COLUMNS.items())
    warehouse.execute("create schema marts")
    warehouse.execute(f"create table marts.sessions ({columns})")
    warehouse.executemany(f"insert into marts.sessions values ({', '.join('?' * 9)})", SESSIONS)
    return warehouse


def read_back(path: Path, export_format: ExportFormat) -> list[tuple]:
    """The rows of an export file, typed like the mart."""
    if export_format is ExportFormat.XLSX:
        sheet = load_workbook(path, read_only=True).worksheets[0]
        header, *rows = sheet.iter_rows(values_only=True)
        assert list(header) == list(SESSIONS_COLUMNS)
        # Excel has no date-only cells: a date comes back as midnight of that day. Trailing
        # empty cells are not stored.
        return [
            tuple(
                v.date() if name == "session_date" and v else v
                for name, v in zip(header, (*row, *[None] * (len(header) - len(row))), strict=True)
            )
            for row in rows
        ]
    columns = json.dumps(SESSIONS_COLUMNS)
    reader = (
        f"read_csv('{path}', header = true, allow_quoted_nulls = false, columns = {columns})"
        if export_format is ExportFormat.CSV
        else f"read_json('{path}', format = 'array', columns = {columns})"
    )
    return duckdb.sql(f"select * from {reader}").fetchall()


@pytest.mark.parametrize("export_format", list(ExportFormat))
def test_each_format_round_trips_every_row_and_value(marts_warehouse, tmp_path, export_format):
    result = export_mart(
        marts_warehouse, ExportRequest("sessions", export_format), tmp_path / "exports"
    )

    assert result.status is ExportStatus.COMPLETED
    assert result.row_count == len(SESSIONS)
    assert result.path == tmp_path / "exports" / f"sessions-{result.export_id}.{export_format}"
    expected = SESSIONS
    if export_format is ExportFormat.XLSX:
        # Excel has one empty cell for both NULL and the empty string.
        expected = [tuple(None if v == "" else v for v in row) for row in SESSIONS]
    assert read_back(result.path, export_format) == expected


def test_json_is_one_array_of_objects(marts_warehouse, tmp_path):
    result = export_mart(
        marts_warehouse, ExportRequest("sessions", ExportFormat.JSON), tmp_path / "exports"
    )

    exported = json.loads(result.path.read_text())
    assert exported[0] == {
        "session_key": "s1",
        "tenant_id": "t1",
        "person_id": "p1",
        "session_start": "2026-03-01 23:59:59",
        "session_date": "2026-03-01",
        "duration_seconds": 12.5,
        "page_view_count": 1,
        "is_bounce": True,
        "entry_page": "/",
    }


@pytest.mark.parametrize("export_format", list(ExportFormat))
def test_tenant_and_date_range_select_the_rows_of_those_days_both_ends_included(
    marts_warehouse, tmp_path, export_format
):
    request = ExportRequest("sessions", export_format, "t1", date(2026, 3, 1), date(2026, 3, 3))

    result = export_mart(marts_warehouse, request, tmp_path / "exports")

    assert result.row_count == 3
    assert [row[0] for row in read_back(result.path, export_format)] == ["s1", "s2", "s4"]


def test_an_export_moves_to_completed_with_its_count_path_and_expiry(marts_warehouse, tmp_path):
    result = export_mart(
        marts_warehouse,
        ExportRequest("sessions", ExportFormat.CSV, "t2"),
        tmp_path / "exports",
        expiry_days=3,
        actor="tester",
    )

    record = marts_warehouse.execute(
        """
        select mart, format, tenant_id, status, row_count, path, requested_by,
            expires_at - completed_at, error
        from audit.exports where export_id = ?
        """,
        [result.export_id],
    ).fetchone()
    assert record == (
        "sessions",
        "csv",
        "t2",
        "COMPLETED",
        1,
        str(result.path),
        "tester",
        timedelta(days=3),
        None,
    )


def test_every_export_has_its_audit_row(marts_warehouse, tmp_path):
    done = export_mart(
        marts_warehouse, ExportRequest("sessions", ExportFormat.XLSX), tmp_path / "exports"
    )
    failed = export_mart(
        marts_warehouse, ExportRequest("nothing", ExportFormat.CSV), tmp_path / "exports"
    )

    audit = marts_warehouse.execute(
        """
        select target, rows_affected, details->>'export_id', details->>'status'
        from audit.actions where action = 'export' order by occurred_at
        """
    ).fetchall()
    assert audit == [
        ("marts.sessions", 5, done.export_id, "COMPLETED"),
        ("marts.nothing", 0, failed.export_id, "FAILED"),
    ]


def test_a_mart_name_is_checked_against_the_catalog_never_run_as_sql(marts_warehouse, tmp_path):
    result = export_mart(
        marts_warehouse,
        ExportRequest("sessions; drop table marts.sessions; --", ExportFormat.CSV),
        tmp_path / "exports",
    )

    assert result.status is ExportStatus.FAILED
    assert result.path is None
    assert "there is no mart 'sessions; drop table marts.sessions; --'" in result.error
    assert "the marts are: sessions" in result.error
    assert marts_warehouse.execute("select count(*) from marts.sessions").fetchone() == (5,)
    assert not (tmp_path / "exports").exists() or not any((tmp_path / "exports").iterdir())
    assert marts_warehouse.execute("select status from audit.exports").fetchall() == [("FAILED",)]


def test_filter_values_are_data(marts_warehouse, tmp_path):
    result = export_mart(
        marts_warehouse,
        ExportRequest("sessions", ExportFormat.CSV, "t1' or '1'='1"),
        tmp_path / "exports",
    )

    assert result.status is ExportStatus.COMPLETED
    assert result.row_count == 0


def test_a_date_range_needs_a_mart_with_a_day_column(marts_warehouse, tmp_path):
    marts_warehouse.execute("create table marts.users (tenant_id varchar, person_id varchar)")

    result = export_mart(
        marts_warehouse,
        ExportRequest("users", ExportFormat.CSV, start_date=date(2026, 3, 1)),
        tmp_path / "exports",
    )

    assert result.status is ExportStatus.FAILED
    assert result.error == (
        "mart users has no day or period column to filter on; export it without --start/--end"
    )


def test_requests_from_text_say_what_is_wrong():
    with pytest.raises(ExportError, match="unknown format 'pdf'; use one of csv, json, xlsx"):
        parse_request("sessions", "pdf", None, None, None)
    with pytest.raises(ExportError, match="start_date '2026-13-01' is not a date YYYY-MM-DD"):
        parse_request("sessions", "csv", None, "2026-13-01", None)
    assert parse_request("sessions", "XLSX", "t1", "2026-03-01", None) == ExportRequest(
        "sessions", ExportFormat.XLSX, "t1", date(2026, 3, 1)
    )


def test_the_export_job_takes_its_request_as_run_config(marts_warehouse, tmp_path):
    marts_warehouse.close()
    settings = dataclasses.replace(Settings.from_env(), warehouse_dir=tmp_path)
    run_config = {
        "ops": {
            "export_mart": {
                "config": {"mart": "sessions", "format": "json", "tenant_id": "t2"},
            }
        }
    }

    result = build_export_job(settings).execute_in_process(
        run_config=run_config,
        resources={"warehouse": DuckDBResource(database=str(settings.warehouse_path))},
    )

    assert result.success
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        status, path, requested_by = connection.execute(
            "select status, path, requested_by from audit.exports"
        ).fetchone()
    assert status == "COMPLETED"
    assert requested_by == f"dagster run {result.run_id}"
    assert [row["session_key"] for row in json.loads(Path(path).read_text())] == ["s3"]


def test_export_command(marts_warehouse, tmp_path, monkeypatch, capsys):
    marts_warehouse.close()
    monkeypatch.setenv("WAREHOUSE_DIR", str(tmp_path))

    code = main(
        [
            "export",
            "--mart",
            "sessions",
            "--format",
            "csv",
            "--tenant",
            "t1",
            "--start",
            "2026-03-02",
            "--end",
            "2026-03-04",
        ]
    )

    assert code == 0
    assert "Exported 3 rows of marts.sessions to " in capsys.readouterr().out
    assert main(["export", "--mart", "sessions", "--format", "pdf"]) == 2
    assert "unknown format 'pdf'" in capsys.readouterr().err


def test_on_spark_a_mart_is_exported_from_the_parquet_files_spark_wrote(marts_warehouse, tmp_path):
    # Spark writes a table as Parquet files in <tables>/<schema>.db/<table>/; the warehouse file
    # holds no marts then.
    settings = dataclasses.replace(
        Settings.from_env(), warehouse_dir=tmp_path / "warehouse", warehouse_engine="spark"
    )
    table = settings.spark_tables_dir / "marts.db" / "sessions"
    table.mkdir(parents=True)
    marts_warehouse.execute(f"copy marts.sessions to '{table / 'part-00000.parquet'}'")
    marts_warehouse.execute("drop schema marts cascade")
    request = ExportRequest("sessions", ExportFormat.CSV, "t1", date(2026, 3, 1), date(2026, 3, 3))

    with built_tables(marts_warehouse, settings) as source:
        result = export_mart(marts_warehouse, request, tmp_path / "exports", source=source)

    assert result.status is ExportStatus.COMPLETED
    assert [row[0] for row in read_back(result.path, ExportFormat.CSV)] == ["s1", "s2", "s4"]
    # The views over Spark's files are gone with the block; the export's record stays.
    assert marts_warehouse.execute("select count(*) from audit.exports").fetchone() == (1,)
    assert "spark_tables" not in {
        row[0] for row in marts_warehouse.execute("show databases").fetchall()
    }


def test_a_partitioned_spark_mart_is_read_with_its_columns_in_contract_order(tmp_path):
    # Spark stores a partition column in the folder names and lists it last; readers of the
    # built tables (publication, checks, exports) see the mart's columns as its YAML declares.
    settings = dataclasses.replace(
        Settings.from_env(), warehouse_dir=tmp_path / "warehouse", warehouse_engine="spark"
    )
    declared = declared_models(settings.dbt_project_dir / "models" / "marts")
    columns = declared["page_analytics_daily"]
    assert columns[0]["name"] == "view_date"
    table = settings.spark_tables_dir / "marts.db" / "page_analytics_daily"
    table.parent.mkdir(parents=True)
    with duckdb.connect() as connection:
        definitions = ", ".join(f'"{c["name"]}" {c["data_type"]}' for c in columns)
        connection.execute(f"create table spark_wrote ({definitions})")
        connection.execute(
            "insert into spark_wrote (view_date, tenant_id, page_path) values "
            "(date '2026-03-01', 't1', '/a'), (date '2026-03-02', 't1', '/b'), "
            "(date '2026-03-02', 't2', '/a')"
        )
        connection.execute(
            f"copy spark_wrote to '{table}' (format parquet, partition_by (view_date))"
        )
        assert sorted(p.name for p in table.iterdir()) == [
            "view_date=2026-03-01",
            "view_date=2026-03-02",
        ]

        with built_tables(connection, settings) as source:
            relation = f"{source}.marts.page_analytics_daily"
            described = connection.execute(f"describe {relation}").fetchall()
            rows = connection.execute(
                f"select view_date, tenant_id, page_path from {relation} order by all"
            ).fetchall()

    assert [(name, kind.lower()) for name, kind, *_ in described] == [
        (c["name"], c["data_type"].lower()) for c in columns
    ]
    assert rows == [
        (date(2026, 3, 1), "t1", "/a"),
        (date(2026, 3, 2), "t1", "/b"),
        (date(2026, 3, 2), "t2", "/a"),
    ]
