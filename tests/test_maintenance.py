"""Retention and forget-a-person: exactly what is past retention goes, exactly one person goes,
and both leave an audit row."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, materialize
from dagster_duckdb import DuckDBResource

from orchestration.checks import reconciliation_failures
from orchestration.cli import main, run_pipeline
from orchestration.contract import EVENTS, METRICS
from orchestration.exports import (
    EXPORTS_TABLE,
    ExportFormat,
    ExportRequest,
    build_export_job,
    create_exports_table,
    export_mart,
)
from orchestration.landing.loader import load_partition
from orchestration.maintenance import (
    SPARK_MARTS_KEPT,
    build_cleanup_asset,
    build_forget_job,
    cleanup,
    forget_person,
    id_sha256,
)
from orchestration.settings import Settings
from tests.landing_files import DAY_1, DAY_2, DAY_3, event, metric, utc, write_landing_file

ADA = ("ada-user", "ada-laptop", "ada-phone")
"""One person: a user id and the two devices linked to it."""


def settings_for(root: Path, **overrides) -> Settings:
    return dataclasses.replace(
        Settings.from_env(),
        raw_landing_dir=root / "raw_landing",
        warehouse_dir=root / "warehouse",
        **overrides,
    )


# --- retention ---------------------------------------------------------------------------------


@pytest.fixture
def aged_warehouse(tmp_path, raw_landing, warehouse):
    """Events and metrics that arrived on 2026-03-01, 02 and 03, one bad row each day, and marts
    of the dbt project (a few of their columns) declaring a day column, an hour column, and
    that they keep every row."""
    for day in (DAY_1, DAY_2, DAY_3):
        received = utc(f"{day} 10:00:00")
        write_landing_file(
            raw_landing,
            EVENTS,
            day,
            "part-0.parquet",
            [
                event(f"m-{day}", timestamp=received, received_at=received),
                event(f"bad-{day}", event_type="click", received_at=received),
            ],
        )
        write_landing_file(raw_landing, METRICS, day, "part-0.parquet", [metric(f"x-{day}")])
        for dataset in (EVENTS, METRICS):
            load_partition(warehouse, dataset, raw_landing, day)
    warehouse.execute("create schema marts")
    warehouse.execute("create table marts.page_analytics_daily (view_date date, page_views bigint)")
    warehouse.execute(
        "insert into marts.page_analytics_daily values "
        "('2021-03-01', 1), ('2021-03-02', 2), ('2026-03-03', 3)"
    )
    warehouse.execute(
        "create table marts.hourly_rollups (hour_start timestamp, total_events bigint)"
    )
    warehouse.execute(
        "insert into marts.hourly_rollups values ('2021-03-01 23:00', 1), ('2021-03-02 00:00', 2)"
    )
    warehouse.execute("create table marts.users (person_id varchar, first_seen_at timestamp)")
    warehouse.execute("insert into marts.users values ('p1', '2015-01-01 00:00')")
    warehouse.execute("create schema intermediate")
    warehouse.execute("create table intermediate.int_event_sessions as select * from raw.events")
    return warehouse


def test_cleanup_removes_exactly_what_is_past_retention(aged_warehouse, tmp_path):
    # On 2026-03-03 with one day of raw retention, what arrived on 03-02 is kept and 03-01 goes;
    # five years of aggregates keep 2021-03-02 and drop 2021-03-01.
    settings = settings_for(tmp_path, raw_retention_days=1, aggregate_retention_days=1827)

    result = cleanup(aged_warehouse, settings, now=datetime(2026, 3, 3, 12, 0))

    assert (result.raw_cutoff, result.aggregate_cutoff) == (date(2026, 3, 2), date(2021, 3, 2))

    def rows(sql: str) -> list[tuple]:
        return aged_warehouse.execute(sql).fetchall()

    assert rows("select message_id from raw.events order by 1") == [
        ("m-2026-03-02",),
        ("m-2026-03-03",),
    ]
    assert rows("select message_id from intermediate.int_event_sessions order by 1") == [
        ("m-2026-03-02",),
        ("m-2026-03-03",),
    ]
    assert rows("select distinct _landing_date from raw.events_rejected order by 1") == [
        (DAY_2,),
        (DAY_3,),
    ]
    assert rows("select metric_id from raw.metrics order by 1") == [
        ("x-2026-03-02",),
        ("x-2026-03-03",),
    ]
    assert rows("select distinct landing_date from raw.load_manifest order by 1") == [
        (DAY_2,),
        (DAY_3,),
    ]
    assert rows("select view_date from marts.page_analytics_daily order by 1") == [
        (date(2021, 3, 2),),
        (date(2026, 3, 3),),
    ]
    assert rows("select hour_start from marts.hourly_rollups") == [(datetime(2021, 3, 2),)]
    assert rows("select person_id from marts.users") == [("p1",)]
    assert {k: v for k, v in result.rows_removed.items() if v} == {
        "raw.events": 1,
        "raw.events_rejected": 1,
        "raw.metrics": 1,
        "raw.load_manifest": 2,
        "raw.landing_fingerprints": 2,
        "raw.events_key_hashes": 1,
        "raw.metrics_key_hashes": 1,
        "intermediate.int_event_sessions": 1,
        "marts.page_analytics_daily": 1,
        "marts.hourly_rollups": 1,
    }
    assert result.marts_kept == ["users"]
    assert result.landing_folders_removed == ["events/date=2026-03-01", "metrics/date=2026-03-01"]
    assert sorted(p.name for p in (settings.raw_landing_dir / "events").iterdir()) == [
        "date=2026-03-02",
        "date=2026-03-03",
    ]
    for dataset in (EVENTS, METRICS):
        assert reconciliation_failures(aged_warehouse, dataset) == []


@pytest.fixture
def aged_funnels(warehouse):
    """Attempts of a funnel (a few columns of the funnel marts) started on either side of
    midnight of 2021-03-01, each completed weeks after it started."""
    warehouse.execute("create schema marts")
    warehouse.execute(
        """
        create table marts.funnel_attempt_steps as
        select * from (values
            ('a1', 1, timestamp '2021-03-01 23:59', timestamp '2021-03-01 23:59'),
            ('a1', 2, timestamp '2021-03-01 23:59', timestamp '2021-03-20 10:00'),
            ('a2', 1, timestamp '2021-03-02 00:00', timestamp '2021-03-02 00:00')
        ) as t(attempt_id, step_number, started_at, reached_at)
        """
    )
    warehouse.execute(
        """
        create table marts.funnel_conversions as
        select * from (values
            ('a1', timestamp '2021-03-01 23:59', timestamp '2021-03-20 10:00'),
            ('a2', timestamp '2021-03-02 00:00', null)
        ) as t(attempt_id, started_at, completed_at)
        """
    )
    return warehouse


def test_cleanup_removes_funnel_attempts_by_their_declared_start_column(aged_funnels, tmp_path):
    # The funnel marts declare `retention: {column: started_at}`: an attempt goes whole, by
    # when it started, even when a step was reached after the cutoff.
    settings = settings_for(tmp_path, aggregate_retention_days=1827)

    result = cleanup(aged_funnels, settings, now=datetime(2026, 3, 3, 12, 0))

    assert result.aggregate_cutoff == date(2021, 3, 2)
    assert aged_funnels.execute(
        "select attempt_id, step_number from marts.funnel_attempt_steps"
    ).fetchall() == [("a2", 1)]
    assert aged_funnels.execute("select attempt_id from marts.funnel_conversions").fetchall() == [
        ("a2",)
    ]
    assert result.rows_removed["marts.funnel_attempt_steps"] == 2
    assert result.rows_removed["marts.funnel_conversions"] == 1


def test_cleanup_keeps_every_row_of_a_mart_declaring_keep(warehouse, tmp_path):
    # users declares `retention: {keep: ...}`: a DATE column does not age it out.
    warehouse.execute("create schema marts")
    warehouse.execute("create table marts.users (person_id varchar, first_seen_date date)")
    warehouse.execute("insert into marts.users values ('p1', '2015-01-01')")

    result = cleanup(warehouse, settings_for(tmp_path), now=datetime(2026, 3, 3, 12, 0))

    assert warehouse.execute("select person_id from marts.users").fetchall() == [("p1",)]
    assert result.marts_kept == ["users"]
    assert "marts.users" not in result.rows_removed


def test_cleanup_keeps_and_reports_a_mart_table_the_project_declares_nothing_for(
    warehouse, tmp_path
):
    warehouse.execute("create schema marts")
    warehouse.execute("create table marts.scratch_daily (view_date date)")
    warehouse.execute("insert into marts.scratch_daily values ('2015-01-01')")

    result = cleanup(warehouse, settings_for(tmp_path), now=datetime(2026, 3, 3, 12, 0))

    assert warehouse.execute("select count(*) from marts.scratch_daily").fetchone() == (1,)
    assert list(result.marts_skipped) == ["scratch_daily"]
    assert "declares no retention" in result.marts_skipped["scratch_daily"]


def test_cleanup_on_spark_ages_out_raw_rows_and_says_the_marts_keep_theirs(
    aged_warehouse, tmp_path
):
    settings = settings_for(tmp_path, warehouse_engine="spark", raw_retention_days=1)

    result = cleanup(aged_warehouse, settings, now=datetime(2026, 3, 3, 12, 0))

    assert result.rows_removed["raw.events"] > 0
    # The marts are Spark's: each one that declares a retention column says why it kept its rows.
    assert result.marts_skipped["sessions"] == SPARK_MARTS_KEPT
    assert "users" not in result.marts_skipped
    assert "full refresh" in SPARK_MARTS_KEPT


def test_cleanup_expires_exports_past_their_expiry_and_deletes_their_files(
    aged_warehouse, tmp_path
):
    create_exports_table(aged_warehouse)
    files = {name: tmp_path / f"{name}.csv" for name in ("old", "new", "failed")}
    for path in files.values():
        path.write_text("a\n1\n")
    aged_warehouse.executemany(
        f"insert into {EXPORTS_TABLE} (export_id, status, path, expires_at) values (?, ?, ?, ?)",
        [
            ("old", "COMPLETED", str(files["old"]), datetime(2026, 3, 3, 11, 59)),
            ("new", "COMPLETED", str(files["new"]), datetime(2026, 3, 3, 12, 1)),
            ("failed", "FAILED", str(files["failed"]), None),
        ],
    )

    result = cleanup(aged_warehouse, settings_for(tmp_path), now=datetime(2026, 3, 3, 12, 0))

    assert result.exports_expired == [str(files["old"])]
    assert aged_warehouse.execute(
        f"select export_id, status from {EXPORTS_TABLE} order by 1"
    ).fetchall() == [("failed", "FAILED"), ("new", "COMPLETED"), ("old", "EXPIRED")]
    assert sorted(p.name for p in files.values() if p.exists()) == ["failed.csv", "new.csv"]


def test_cleanup_writes_its_audit_row(aged_warehouse, tmp_path):
    settings = settings_for(tmp_path, raw_retention_days=1)

    cleanup(aged_warehouse, settings, now=datetime(2026, 3, 3, 12, 0), actor="tester")

    actor, rows_affected, details = aged_warehouse.execute(
        "select actor, rows_affected, details from audit.actions where action = 'cleanup'"
    ).fetchone()
    details = json.loads(details)
    assert actor == "tester"
    assert rows_affected == sum(details["rows_removed"].values())
    assert details["raw_cutoff"] == "2026-03-02"
    assert details["rows_removed"]["raw.events"] == 1
    assert details["landing_folders_removed"] == [
        "events/date=2026-03-01",
        "metrics/date=2026-03-01",
    ]


def test_the_cleanup_asset_reports_what_it_removed(aged_warehouse, tmp_path):
    aged_warehouse.close()
    # Everything is older than a day by the time this runs.
    settings = settings_for(tmp_path, raw_retention_days=1, aggregate_retention_days=1)
    warehouse_path = tmp_path / "warehouse.duckdb"

    result = materialize(
        [build_cleanup_asset(settings)],
        resources={"warehouse": DuckDBResource(database=str(warehouse_path))},
    )

    assert result.success
    metadata = result.asset_materializations_for_node("maintenance__cleanup")[0].metadata
    # Per day: an event and a metric with their key hashes, a rejected event, two manifest rows,
    # two partition fingerprints, an int_event_sessions row; then every mart row with a day.
    assert metadata["rows_removed"].value == 3 * 10 + 3 + 2
    assert "| raw.events | 3 |" in metadata["rows_removed_by_table"].value
    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        assert connection.execute("select count(*) from raw.events").fetchone() == (0,)
        assert connection.execute(
            "select actor from audit.actions where action = 'cleanup'"
        ).fetchone() == (f"dagster run {result.run_id}",)


# --- forget a person ---------------------------------------------------------------------------


def _events_day_1() -> list[dict]:
    def at(minute: int, **fields) -> dict:
        time = utc(f"2026-03-01 10:{minute:02d}:00")
        return {"timestamp": time, "received_at": time, **fields}

    return [
        event("a1", anonymous_id="ada-laptop", page_path="/", **at(0)),
        event(
            "a2",
            anonymous_id="ada-laptop",
            user_id="ada-user",
            event_type="identify",
            event_name="identify",
            properties='{"traits": {"email": "ada@example.test"}}',
            **at(1),
        ),
        event("a3", anonymous_id="ada-laptop", event_type="click", **at(2)),
        event("b1", anonymous_id="ben-laptop", page_path="/pricing", **at(3)),
        event(
            "b2",
            anonymous_id="ben-laptop",
            user_id="ben-user",
            event_type="identify",
            event_name="identify",
            **at(4),
        ),
        event("b3", anonymous_id="ben-laptop", event_type="click", **at(5)),
        event("c1", anonymous_id="cy-browser", page_path="/docs", **at(6)),
    ]


def _events_day_2() -> list[dict]:
    def at(hour: int, **fields) -> dict:
        time = utc(f"2026-03-02 {hour:02d}:00:00")
        return {"timestamp": time, "received_at": time, **fields}

    return [
        event(
            "a4",
            anonymous_id="ada-phone",
            user_id="ada-user",
            event_type="track",
            event_name="purchase",
            properties='{"value": 42, "currency": "EUR"}',
            **at(9),
        ),
        event("a5", anonymous_id="ada-phone", page_path="/account", **at(10)),
        # A second delivery of a1, which lost to the first.
        event(
            "a1",
            anonymous_id="ada-laptop",
            page_path="/",
            timestamp=utc("2026-03-01 10:00:00"),
            received_at=utc("2026-03-02 11:00:00"),
        ),
        event("b4", anonymous_id="ben-laptop", page_path="/pricing", **at(12)),
        event("c2", anonymous_id="cy-browser", page_path="/docs", **at(13)),
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three people's events, loaded and built through the whole pipeline once."""
    root = tmp_path_factory.mktemp("people")
    raw = root / "raw_landing"
    write_landing_file(raw, EVENTS, DAY_1, "part-0.parquet", _events_day_1())
    write_landing_file(raw, EVENTS, DAY_2, "part-0.parquet", _events_day_2())
    write_landing_file(raw, METRICS, DAY_1, "part-0.parquet", [metric("x1")])
    result = run_pipeline(settings_for(root), DAY_1, DAY_2, instance=DagsterInstance.ephemeral())
    assert result.success
    return root


@pytest.fixture
def people(built: Path, tmp_path: Path) -> Settings:
    """A copy of the built warehouse and landing files, for one test to change."""
    for folder in ("raw_landing", "warehouse"):
        shutil.copytree(built / folder, tmp_path / folder)
    return settings_for(tmp_path)


def every_table(connection: duckdb.DuckDBPyConnection) -> dict[str, Counter]:
    """Every base table's rows, each as its text, counted."""
    tables = connection.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_catalog = current_database()"
    ).fetchall()
    return {
        table: Counter(repr(row) for row in connection.execute(f"select * from {table}").fetchall())
        for (table,) in tables
    }


def mentions(text: str, ids: tuple[str, ...]) -> bool:
    return any(person_id in text for person_id in ids)


def landing_rows(settings: Settings) -> list[str]:
    pattern = settings.raw_landing_dir / "events" / "*" / "*.parquet"
    return [repr(row) for row in duckdb.sql(f"select * from read_parquet('{pattern}')").fetchall()]


def test_the_people_are_everywhere_before(people):
    with duckdb.connect(str(people.warehouse_path), read_only=True) as connection:
        tables = every_table(connection)
    holding_ada = {t for t, rows in tables.items() if any(mentions(r, ADA) for r in rows)}

    assert {
        "raw.events",
        "raw.events_duplicates",
        "raw.events_rejected",
        "marts.sessions",
        "marts.users",
        "marts.identities",
        "marts.conversions",
        "marts.page_views",
        "marts.user_activity_daily",
    } <= holding_ada


def test_after_forgetting_a_user_no_row_of_theirs_remains_anywhere(people):
    with duckdb.connect(str(people.warehouse_path)) as connection:
        result = forget_person(connection, people, user_id="ada-user")
        tables = every_table(connection)

    assert result.linked_ids == 3
    assert [t for t, rows in tables.items() if any(mentions(r, ADA) for r in rows)] == []
    assert not any(mentions(row, ADA) for row in landing_rows(people))


def test_forgetting_changes_no_other_row_of_any_table(people):
    with duckdb.connect(str(people.warehouse_path)) as connection:
        before = every_table(connection)
        forget_person(connection, people, user_id="ada-user")
        after = every_table(connection)

    # Only the manifest's counts of the files that held the person, and the new audit row.
    changed = {"raw.load_manifest", "audit.actions"}
    for table, rows in before.items():
        if table not in changed:
            kept = Counter({row: n for row, n in rows.items() if not mentions(row, ADA)})
            assert after[table] == kept, f"{table} changed beyond the person's rows"
    (new_audit_row,) = (after["audit.actions"] - before["audit.actions"]).elements()
    assert "'forget'" in new_audit_row
    assert before["audit.actions"] <= after["audit.actions"]
    assert before["marts.hourly_rollups"] == after["marts.hourly_rollups"]
    assert before["raw.metrics"] == after["raw.metrics"]


def test_the_manifest_matches_the_rewritten_landing_files(people):
    with duckdb.connect(str(people.warehouse_path)) as connection:
        result = forget_person(connection, people, user_id="ada-user")
        manifest = connection.execute(
            "select file_path, file_sha256, rows_read, rows_loaded, rows_rejected, rows_duplicate "
            "from raw.load_manifest where dataset = 'events' order by file_path"
        ).fetchall()
        failures = reconciliation_failures(connection, EVENTS)

    assert failures == []
    assert result.landing_files_rewritten == [
        "events/date=2026-03-01/part-0.parquet",
        "events/date=2026-03-02/part-0.parquet",
    ]
    # Day 1 kept Ben's three rows (one rejected) and Cy's; day 2 Ben's and Cy's.
    assert [row[2:] for row in manifest] == [(4, 3, 1, 0), (2, 2, 0, 0)]
    for file_path, sha256, *_ in manifest:
        data = (people.raw_landing_dir / file_path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha256


def test_reloading_a_day_after_forgetting_does_not_bring_the_person_back(people):
    with duckdb.connect(str(people.warehouse_path)) as connection:
        forget_person(connection, people, user_id="ada-user")
        load_partition(connection, EVENTS, people.raw_landing_dir, DAY_1)
        load_partition(connection, EVENTS, people.raw_landing_dir, DAY_2)
        tables = every_table(connection)
        failures = reconciliation_failures(connection, EVENTS)

    assert failures == []
    assert [t for t, rows in tables.items() if any(mentions(r, ADA) for r in rows)] == []
    assert len(tables["raw.events"]) == 5


def test_forgetting_a_device_forgets_its_user_and_their_other_devices(people):
    with duckdb.connect(str(people.warehouse_path)) as connection:
        result = forget_person(connection, people, anonymous_id="ada-phone")
        tables = every_table(connection)

    assert result.linked_ids == 3
    assert [t for t, rows in tables.items() if any(mentions(r, ADA) for r in rows)] == []
    assert any(mentions(r, ("ben-user",)) for r in tables["marts.users"])


def test_forgetting_an_anonymous_visitor_leaves_everyone_else(people):
    with duckdb.connect(str(people.warehouse_path)) as connection:
        before = every_table(connection)
        result = forget_person(connection, people, anonymous_id="cy-browser")
        after = every_table(connection)

    assert result.linked_ids == 1
    assert result.total_rows > 0
    assert not any(mentions(r, ("cy-browser",)) for rows in after.values() for r in rows)
    assert after["marts.users"] == Counter(
        {r: n for r, n in before["marts.users"].items() if "cy-browser" not in r}
    )


def test_forgetting_a_user_of_another_tenant_leaves_this_tenants_user_of_that_id(people):
    with duckdb.connect(str(people.warehouse_path)) as connection:
        before = every_table(connection)
        result = forget_person(connection, people, user_id="ada-user", tenant_id="globex")
        after = every_table(connection)

    assert (result.linked_ids, result.total_rows, result.landing_files_rewritten) == (1, 0, [])
    del before["audit.actions"], after["audit.actions"]
    assert after == before


def test_the_forget_audit_row_names_the_person_only_by_a_hash(people):
    with duckdb.connect(str(people.warehouse_path)) as connection:
        forget_person(connection, people, user_id="ada-user", actor="privacy desk")
        audit = connection.execute(
            "select target, actor, rows_affected, details from audit.actions "
            "where action = 'forget'"
        ).fetchall()

    assert len(audit) == 1
    target, actor, rows_affected, details = audit[0]
    assert target == f"person sha256:{id_sha256('ada-user')}"
    assert actor == "privacy desk"
    assert rows_affected > 0
    assert json.loads(details)["rows_removed"]["raw.events"] == 4
    assert not mentions(repr(audit), ADA)


def test_forgetting_expires_the_exports_of_marts_that_held_the_person(people):
    with duckdb.connect(str(people.warehouse_path)) as connection:
        exports = {
            mart: export_mart(connection, ExportRequest(mart, ExportFormat.CSV), people.exports_dir)
            for mart in ("sessions", "hourly_rollups")
        }
        result = forget_person(connection, people, user_id="ada-user")
        statuses = dict(connection.execute(f"select mart, status from {EXPORTS_TABLE}").fetchall())

    assert statuses == {"sessions": "EXPIRED", "hourly_rollups": "COMPLETED"}
    assert result.exports_expired == [str(exports["sessions"].path)]
    assert not exports["sessions"].path.exists()
    assert exports["hourly_rollups"].path.exists()


def test_forget_needs_exactly_one_id(people):
    with duckdb.connect(str(people.warehouse_path)) as connection:
        with pytest.raises(ValueError, match="exactly one of user_id and anonymous_id"):
            forget_person(connection, people, user_id="a", anonymous_id="b")
        with pytest.raises(ValueError, match="exactly one of user_id and anonymous_id"):
            forget_person(connection, people)


def test_the_forget_job_takes_the_person_as_run_config(people):
    result = build_forget_job(people).execute_in_process(
        run_config={"ops": {"forget_person": {"config": {"user_id": "ada-user"}}}},
        resources={"warehouse": DuckDBResource(database=str(people.warehouse_path))},
    )

    assert result.success
    with duckdb.connect(str(people.warehouse_path), read_only=True) as connection:
        tables = every_table(connection)
    assert [t for t, rows in tables.items() if any(mentions(r, ADA) for r in rows)] == []


def test_cleanup_command(aged_warehouse, tmp_path, monkeypatch, capsys):
    aged_warehouse.close()
    monkeypatch.setenv("WAREHOUSE_DIR", str(tmp_path))
    monkeypatch.setenv("RAW_LANDING_DIR", str(tmp_path / "raw_landing"))
    monkeypatch.setenv("RAW_RETENTION_DAYS", "1")

    assert main(["cleanup"]) == 0

    out = capsys.readouterr().out
    assert "  raw.events: 3\n" in out
    assert "  raw_landing/events/date=2026-03-01: deleted\n" in out


def test_forget_command_names_the_person_only_by_a_hash(people, monkeypatch, capsys):
    monkeypatch.setenv("WAREHOUSE_DIR", str(people.warehouse_dir))
    monkeypatch.setenv("RAW_LANDING_DIR", str(people.raw_landing_dir))

    assert main(["forget", "--anonymous-id", "ada-laptop"]) == 0

    out = capsys.readouterr().out
    assert f"Forgot person sha256:{id_sha256('ada-laptop')} (3 linked ids)" in out
    assert "  raw.events: 4\n" in out
    assert not mentions(out.replace(id_sha256("ada-laptop"), ""), ADA)


def test_maintenance_commands_need_a_warehouse(tmp_path, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DIR", str(tmp_path / "nowhere"))

    for command in (["cleanup"], ["forget", "--user-id", "u"]):
        with pytest.raises(SystemExit, match=r"No warehouse at .*: run `warehouse run` first"):
            main(command)
    assert not (tmp_path / "nowhere").exists()


def test_every_export_cleanup_and_forget_step_waits_for_the_one_writer_slot():
    settings = Settings.from_env()

    assert build_cleanup_asset(settings).op.pool == "duckdb_warehouse"
    for job in (build_export_job(settings), build_forget_job(settings)):
        assert [node.definition.pool for node in job.nodes] == ["duckdb_warehouse"]
