"""Write-audit-publish: the checked marts, published for analysts and BI tools.

One pipeline run over a day of small, explicit landing files makes the first publication; the
tests that run the pipeline again do so on a copy of that warehouse.
"""

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy
from dagster import AssetKey, DagsterInstance, ExecuteInProcessResult

from orchestration.audit import record_action
from orchestration.builds import start_build
from orchestration.cli import run_pipeline
from orchestration.contract import EVENTS, METRICS
from orchestration.definitions import build_definitions
from orchestration.publishing import (
    DATABASE_FILE,
    MANIFEST_FILE,
    PARQUET_DIR,
    PUBLISHED_MARTS_KEY,
    UnpublishableColumnError,
    change_logs,
    current_publication,
    publication_is_current,
    publish,
    published_column,
    warehouse_state,
)
from orchestration.settings import Settings
from tests.landing_files import DAY_1, DAY_2, event, metric, utc, write_landing_file

pytestmark = pytest.mark.slow

# DuckDB 1.4 refuses a file "with version number 999, but we can only read versions between 64
# and 67"; 999 is DuckDB 2.0's own format.
DUCKDB_1_4_NEWEST_STORAGE_NUMBER = 67


def land_first_day(raw_landing: Path) -> None:
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [
            event("m1"),
            event(
                "m2", timestamp=utc("2026-03-01 10:00:30"), received_at=utc("2026-03-01 10:00:31")
            ),
            event(
                "m-identify",
                event_type="identify",
                event_name="identify",
                user_id="user-1",
                properties='{"traits": {"plan": "pro"}}',
                timestamp=utc("2026-03-01 10:00:40"),
                received_at=utc("2026-03-01 10:00:41"),
            ),
        ],
    )
    write_landing_file(raw_landing, METRICS, DAY_1, "part-0.parquet", [metric("x1")])


def land_second_day(raw_landing: Path) -> None:
    """Another visitor on the next day: one more session."""
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_2,
        "part-0.parquet",
        [
            event(
                "m3",
                anonymous_id="anon-2",
                timestamp=utc("2026-03-02 09:00:00"),
                received_at=utc("2026-03-02 09:00:01"),
            )
        ],
    )


@pytest.fixture(scope="module")
def first_result(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Settings, ExecuteInProcessResult]:
    root = tmp_path_factory.mktemp("publishing")
    land_first_day(root / "raw_landing")
    settings = dataclasses.replace(
        Settings.from_env(),
        raw_landing_dir=root / "raw_landing",
        warehouse_dir=root / "warehouse",
    )
    result = run_pipeline(settings, DAY_1, DAY_1, instance=DagsterInstance.ephemeral())
    assert result.success
    return settings, result


@pytest.fixture(scope="module")
def first_run(first_result: tuple[Settings, ExecuteInProcessResult]) -> Settings:
    return first_result[0]


@pytest.fixture
def copy_of_first_run(first_run: Settings, tmp_path: Path) -> Settings:
    """The first run's landing files and warehouse, publications included, to run again on."""
    shutil.copytree(first_run.raw_landing_dir, tmp_path / "raw_landing")
    shutil.copytree(first_run.warehouse_dir, tmp_path / "warehouse", symlinks=True)
    return dataclasses.replace(
        first_run, raw_landing_dir=tmp_path / "raw_landing", warehouse_dir=tmp_path / "warehouse"
    )


def published_database(settings: Settings) -> Path:
    return current_publication(settings) / DATABASE_FILE


def manifest(settings: Settings) -> dict:
    return json.loads((current_publication(settings) / MANIFEST_FILE).read_text())


def sessions(database: Path) -> int:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute("select count(*) from marts.sessions").fetchone()[0]


def mart_row_counts(database: Path) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as connection:
        names = connection.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by all"
        ).fetchall()
        return {
            name: connection.execute(f'select count(*) from marts."{name}"').fetchone()[0]
            for (name,) in names
        }


def publish_actions(settings: Settings) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        return connection.execute(
            "select target, actor, rows_affected, details from audit.actions "
            "where action = 'publish' order by occurred_at"
        ).fetchall()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` by its SHA-256, and every symlink by its target."""
    return {
        path.relative_to(folder).as_posix(): (
            f"-> {os.readlink(path)}"
            if path.is_symlink()
            else hashlib.sha256(path.read_bytes()).hexdigest()
        )
        for path in sorted(folder.rglob("*"))
        if path.is_symlink() or path.is_file()
    }


def test_publication_runs_after_every_mart_and_landing_table_in_the_writer_pool():
    definitions = build_definitions(Settings.from_env())
    graph = definitions.resolve_asset_graph()
    node = graph.get(PUBLISHED_MARTS_KEY)
    marts = {key for key in graph.get_all_asset_keys() if key.path[0] == "marts"}

    assert node.group_name == "serving"
    assert node.parent_keys == marts | {AssetKey(["raw", "events"]), AssetKey(["raw", "metrics"])}
    assert node.pools == {"duckdb_warehouse"}
    assert node.kinds >= {"duckdb", "parquet"}


def test_a_run_publishes_every_mart_of_the_warehouse(first_run):
    current = current_publication(first_run)

    assert current.is_symlink()
    assert mart_row_counts(published_database(first_run)) == mart_row_counts(
        first_run.warehouse_path
    )
    assert sessions(published_database(first_run)) == 1


def test_the_materialization_shows_the_path_row_counts_and_a_preview(first_result):
    settings, result = first_result
    [materialization] = result.asset_materializations_for_node("serving__published_marts")
    metadata = materialization.metadata

    assert metadata["path"].value == str(published_database(settings).resolve())
    row_counts = {r.data["mart"]: r.data["rows"] for r in metadata["row_counts"].value.records}
    assert row_counts == mart_row_counts(settings.warehouse_path)
    assert metadata["preview"].value.records
    # The first publication writes a new file: nothing to copy.
    seconds = metadata["seconds"].value
    assert set(seconds) == {"copy", "tables", "parquet", "total"}
    assert seconds["copy"] == 0
    assert 0 < seconds["tables"] + seconds["parquet"] <= seconds["total"]


def test_the_manifest_lists_the_arrival_days_and_the_rows_of_each_mart(first_run):
    published = manifest(first_run)

    assert published["version"] == os.readlink(current_publication(first_run)).split("/")[-1]
    assert published["arrival_days"] == {"events": ["2026-03-01"], "metrics": ["2026-03-01"]}
    assert published["storage_version"] == "v1.4.0+"
    assert {name: mart["rows"] for name, mart in published["marts"].items()} == mart_row_counts(
        first_run.warehouse_path
    )
    assert published["marts"]["sessions"] == {"rows": 1, "parquet": "parquet/sessions.parquet"}


def test_the_published_copy_is_in_a_storage_format_duckdb_1_4_opens(first_run):
    header = published_database(first_run).read_bytes()[:20]
    magic, storage_number = header[8:12], struct.unpack("<Q", header[12:20])[0]
    with duckdb.connect(str(published_database(first_run)), read_only=True) as connection:
        [(tag,)] = connection.execute(
            "select tags['storage_version'] from duckdb_databases() "
            "where database_name = current_database()"
        ).fetchall()

    assert magic == b"DUCK"
    assert storage_number <= DUCKDB_1_4_NEWEST_STORAGE_NUMBER
    assert tag == "v1.4.0+"


def test_each_mart_round_trips_through_its_parquet_file(first_run):
    current = current_publication(first_run)
    with duckdb.connect(str(current / DATABASE_FILE), read_only=True) as connection:
        for name in manifest(first_run)["marts"]:
            parquet = current / PARQUET_DIR / f"{name}.parquet"
            in_copy = connection.execute(f'from marts."{name}"')
            columns = [(c[0], c[1]) for c in in_copy.description]
            rows = sorted(in_copy.fetchall(), key=repr)
            in_parquet = connection.execute(f"from read_parquet('{parquet}')")

            assert [(c[0], c[1]) for c in in_parquet.description] == columns, name
            assert sorted(in_parquet.fetchall(), key=repr) == rows, name


def test_show_tables_lists_every_mart_and_each_reads_without_a_schema_prefix(first_run):
    with duckdb.connect(str(published_database(first_run)), read_only=True) as connection:
        tables = [name for (name,) in connection.execute("show tables").fetchall()]
        unprefixed = connection.execute("from sessions").fetchall()
        prefixed = connection.execute("from marts.sessions").fetchall()

    assert tables == sorted(manifest(first_run)["marts"])
    assert len(unprefixed) == 1
    assert unprefixed == prefixed


def test_the_duckdb_command_line_the_project_installs_reads_the_published_copy(first_run):
    # The README's `.venv/bin/duckdb -readonly ...`: a DuckDB 1.5 command line, not the
    # Python package's 2.0, so it also shows that a client older than 2.0 opens the copy.
    command_line = Path(sys.executable).parent / "duckdb"
    result = subprocess.run(
        [
            str(command_line),
            "-readonly",
            "-json",
            "-c",
            "select version() as version, count(*) as sessions from sessions",
            str(published_database(first_run)),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    [row] = json.loads(result.stdout)

    assert row["version"].startswith("v1.5.")
    assert row["sessions"] == sessions(published_database(first_run))


def test_the_unprefixed_marts_read_from_the_file_under_whatever_name_it_is_attached(first_run):
    with duckdb.connect() as connection:
        connection.execute(f"attach '{published_database(first_run)}' as analytics (read_only)")
        [(count,)] = connection.execute("select count(*) from analytics.sessions").fetchall()

    assert count == 1


def test_timestamps_are_utc_instants_in_the_duckdb_file(first_run):
    with duckdb.connect(str(published_database(first_run)), read_only=True) as connection:
        types = dict(
            connection.execute(
                "select column_name, data_type from duckdb_columns() "
                "where schema_name = 'marts' and table_name = 'funnel_conversions'"
            ).fetchall()
        )
        # TIMESTAMPTZ shows in the session's time zone; the instant stays the same.
        connection.execute("set TimeZone = 'America/New_York'")
        [(start, in_new_york)] = connection.execute(
            "select session_start, cast(session_start as varchar) from sessions"
        ).fetchall()

    assert types["started_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["step_reached_at"] == "TIMESTAMP WITH TIME ZONE[]"
    assert start == dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
    assert in_new_york == "2026-03-01 05:00:00-05"


def test_timestamps_are_utc_adjusted_microseconds_in_parquet(first_run):
    parquet = current_publication(first_run) / PARQUET_DIR / "sessions.parquet"
    schema = pq.read_schema(parquet)
    column = pq.ParquetFile(parquet).schema.column(schema.get_field_index("session_start"))

    assert schema.field("session_start").type == pa.timestamp("us", tz="UTC")
    logical_type = json.loads(column.logical_type.to_json())
    assert (logical_type["Type"], logical_type["isAdjustedToUTC"], logical_type["timeUnit"]) == (
        "Timestamp",
        True,
        "microseconds",
    )
    assert pl.read_parquet(parquet)["session_start"].to_list() == [
        dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
    ]
    funnel_schema = pq.read_schema(
        current_publication(first_run) / PARQUET_DIR / "funnel_conversions.parquet"
    )
    assert funnel_schema.field("step_reached_at").type == pa.list_(pa.timestamp("us", tz="UTC"))


def test_json_is_text_in_the_duckdb_file_and_in_parquet(first_run):
    parquet = current_publication(first_run) / PARQUET_DIR / "users.parquet"
    with duckdb.connect(str(published_database(first_run)), read_only=True) as connection:
        [(data_type,)] = connection.execute(
            "select data_type from duckdb_columns() "
            "where schema_name = 'marts' and table_name = 'users' "
            "and column_name = 'latest_traits'"
        ).fetchall()
    users = pl.read_parquet(parquet)

    assert data_type == "VARCHAR"
    assert pq.read_schema(parquet).field("latest_traits").type == pa.string()
    assert users.schema["latest_traits"] == pl.String
    assert json.loads(users["latest_traits"].item()) == {"plan": "pro"}


def test_published_numbers_are_64_bit_integers_and_doubles(first_run):
    with duckdb.connect(str(published_database(first_run)), read_only=True) as connection:
        numeric_types = {
            data_type
            for (data_type,) in connection.execute(
                "select distinct data_type from duckdb_columns() where schema_name = 'marts' "
                "and (data_type similar to '.*(INT|DECIMAL|DOUBLE|FLOAT|REAL).*')"
            ).fetchall()
        }
    parquet_numbers = {
        str(field.type)
        for path in (current_publication(first_run) / PARQUET_DIR).glob("*.parquet")
        for field in pq.read_schema(path)
        if pa.types.is_integer(field.type)
        or pa.types.is_floating(field.type)
        or pa.types.is_decimal(field.type)
    }

    assert numeric_types <= {"INTEGER", "BIGINT", "DOUBLE", "MAP(VARCHAR, BIGINT)"}
    assert parquet_numbers <= {"int32", "int64", "double"}


@pytest.mark.parametrize("data_type", ["HUGEINT", "UBIGINT", "DECIMAL(38,0)", "STRUCT(n HUGEINT)"])
def test_a_mart_column_wider_than_64_bits_or_decimal_is_not_published(data_type):
    with pytest.raises(UnpublishableColumnError, match=r"marts\.users\.event_count is "):
        published_column("event_count", data_type, "marts.users")


def test_no_kpi_has_a_previous_value_before_the_project_s_first_event(first_run):
    # The only events are on 2026-03-01: as of 2026-02-28, every previous period precedes them.
    with duckdb.connect(str(published_database(first_run)), read_only=True) as connection:
        rows = connection.execute(
            "select distinct as_of_date, previous_value, change_percent from dashboard_metrics"
        ).fetchall()

    assert rows == [(dt.date(2026, 2, 28), None, None)]


def test_marts_are_readable_through_sqlalchemy_with_duckdb_engine(first_run):
    engine = sqlalchemy.create_engine(
        f"duckdb:///{published_database(first_run)}", connect_args={"read_only": True}
    )
    with engine.connect() as connection:
        tables = sqlalchemy.inspect(connection).get_table_names(schema="marts")
        count = connection.execute(sqlalchemy.text("select count(*) from marts.sessions"))

        assert count.scalar_one() == 1
    engine.dispose()
    assert set(tables) == set(manifest(first_run)["marts"])


def test_every_publication_is_in_the_audit_log(first_run):
    [(target, actor, rows, details)] = publish_actions(first_run)

    assert Path(target) == current_publication(first_run).resolve()
    assert actor.startswith("dagster run ")
    assert rows == sum(mart["rows"] for mart in manifest(first_run)["marts"].values())
    assert json.loads(details)["marts"]["sessions"] == 1


READER = textwrap.dedent(
    """
    import sys, duckdb
    connection = duckdb.connect(sys.argv[1], read_only=True)
    for _ in sys.stdin:
        print(connection.execute("select count(*) from marts.sessions").fetchone()[0], flush=True)
    """
)


def test_a_reader_holding_a_connection_through_a_run_keeps_the_old_data(copy_of_first_run):
    settings = copy_of_first_run
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published_database(settings))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )

    def read() -> int:
        reader.stdin.write("\n")
        reader.stdin.flush()
        return int(reader.stdout.readline())

    try:
        before = read()
        land_second_day(settings.raw_landing_dir)
        result = run_pipeline(settings, DAY_2, DAY_2, instance=DagsterInstance.ephemeral())
        after_the_run = read()
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)

    assert result.success
    assert reader.returncode == 0
    assert (before, after_the_run) == (1, 1)
    assert sessions(published_database(settings)) == 2
    assert manifest(settings)["arrival_days"]["events"] == ["2026-03-01", "2026-03-02"]


def test_a_run_publishes_a_copy_of_the_current_version_patched_with_the_rows_it_changed(
    copy_of_first_run,
):
    settings = copy_of_first_run
    first = manifest(settings)

    land_second_day(settings.raw_landing_dir)
    result = run_pipeline(settings, DAY_2, DAY_2, instance=DagsterInstance.ephemeral())

    assert result.success
    second = manifest(settings)
    assert first["patched_from"] is None
    assert second["patched_from"] == first["version"]
    assert second["patches_in_a_row"] == 1
    assert second["storage_version"] == first["storage_version"] == "v1.4.0+"
    # The new visitor's session is the one session key the run logged.
    assert second["marts"]["sessions"]["patched_keys"] == 1
    assert sessions(published_database(settings)) == 2
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        assert change_logs(connection) == {}


def test_a_mart_marked_rebuilt_is_copied_whole_and_one_with_a_log_only_by_its_keys(
    copy_of_first_run,
):
    settings = copy_of_first_run

    def published_event_count() -> int:
        with duckdb.connect(str(published_database(settings)), read_only=True) as connection:
            return connection.execute("select sum(event_count) from marts.sessions").fetchone()[0]

    before = published_event_count()
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute("update marts.sessions set event_count = event_count + 100")
        # A log naming no session: the patch copies no session again.
        log = "create table audit.sessions__changed_keys as select session_key from marts.sessions "
        connection.execute(log + "where false")
        logged = publish(connection, settings, actor="test")
        after_log = published_event_count()
        # The same log, and the mart marked rebuilt (a full refresh since): copied whole.
        connection.execute(log + "where false")
        connection.execute("create table audit.sessions__rebuilt as select now() as marked_at")
        assert change_logs(connection) == {"sessions": None}
        rebuilt = publish(connection, settings, actor="test")
        after_rebuild = published_event_count()
        logs_left = change_logs(connection)

    assert logged.manifest["marts"]["sessions"]["patched_keys"] == 0
    assert after_log == before
    assert rebuilt.manifest["patched_from"] == logged.version
    assert "patched_keys" not in rebuilt.manifest["marts"]["sessions"]
    assert after_rebuild == before + 100
    assert logs_left == {}
    # Each part of writing the patched copy is timed, within the whole.
    assert set(rebuilt.seconds) == {"copy", "tables", "parquet", "total"}
    assert rebuilt.seconds["copy"] + rebuilt.seconds["tables"] + rebuilt.seconds["parquet"] > 0
    assert rebuilt.seconds["copy"] + rebuilt.seconds["parquet"] < rebuilt.seconds["total"]


def test_after_a_forget_or_cleanup_that_removed_rows_the_publication_is_written_afresh(
    copy_of_first_run,
):
    settings = copy_of_first_run
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        record_action(connection, "cleanup", "warehouse", actor="test", rows_affected=0)
        after_nothing_removed = publish(connection, settings, actor="test")
        # As a cleanup past the sessions' retention: mart rows deleted outside dbt, no log.
        connection.execute("delete from marts.sessions")
        record_action(connection, "cleanup", "warehouse", actor="test", rows_affected=1)
        after_removal = publish(connection, settings, actor="test")
        after_that = publish(connection, settings, actor="test")

    assert after_nothing_removed.manifest["patched_from"] is not None
    assert after_removal.manifest["patched_from"] is None
    assert sessions(after_removal.database_path) == 0
    assert after_that.manifest["patched_from"] == after_removal.version


def test_a_failing_blocking_check_leaves_the_last_publication_in_place(copy_of_first_run):
    settings = copy_of_first_run
    published = settings.warehouse_dir / "published"
    before = snapshot(published)
    # A second copy of a loaded event, as if another day had delivered it: the key repeats.
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute(
            "insert into raw.events select * replace (date '2026-02-28' as _landing_date) "
            "from raw.events where message_id = 'm1'"
        )
    land_second_day(settings.raw_landing_dir)

    result = run_pipeline(settings, DAY_2, DAY_2, instance=DagsterInstance.ephemeral())

    assert not result.success
    failed = {
        (evaluation.asset_key, evaluation.check_name)
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed
    }
    assert (AssetKey(["raw", "events"]), "unique_key") in failed
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert AssetKey(["raw", "events"]) in materialized
    assert PUBLISHED_MARTS_KEY not in materialized
    assert snapshot(published) == before
    assert len(publish_actions(settings)) == 1


def test_publishing_keeps_the_current_and_the_previous_version(copy_of_first_run):
    settings = copy_of_first_run
    first = published_database(settings).resolve()
    held = duckdb.connect(str(first), read_only=True)

    with duckdb.connect(str(settings.warehouse_path)) as connection:
        publications = [publish(connection, settings, actor="test") for _ in range(3)]

    versions = sorted(p.name for p in (settings.warehouse_dir / "published" / "versions").iterdir())
    assert versions == [p.version for p in publications[1:]]
    assert current_publication(settings).resolve() == publications[-1].path
    assert not first.exists()
    # A connection opened on a version since removed keeps reading it.
    assert held.execute("select count(*) from marts.sessions").fetchone() == (1,)
    held.close()


def test_a_version_left_half_built_is_never_current_and_is_removed(copy_of_first_run):
    settings = copy_of_first_run
    versions = settings.warehouse_dir / "published" / "versions"
    crashed = versions / ".2026-03-01T00-00-00.000000Z.building"
    crashed.mkdir()
    (crashed / DATABASE_FILE).write_bytes(b"half a file")

    with duckdb.connect(str(settings.warehouse_path)) as connection:
        publication = publish(connection, settings, actor="test")

    assert current_publication(settings).resolve() == publication.path
    assert not crashed.exists()
    assert crashed.name in publication.removed_versions


def test_whether_the_publication_is_current_is_read_from_what_was_published(copy_of_first_run):
    settings = copy_of_first_run
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        state = warehouse_state(connection)
        published_current = publication_is_current(connection, settings)
        # A build logged since (here one that never ended, as when its process died).
        start_build(
            connection,
            "dbt_models",
            None,
            full_refresh=False,
            code="code",
            actor="test",
        )
        after_build = publication_is_current(connection, settings)
        publish(connection, settings, actor="test")
        republished = publication_is_current(connection, settings)
        (current_publication(settings) / PARQUET_DIR / "sessions.parquet").unlink()
        parquet_missing = publication_is_current(connection, settings)

    assert manifest(settings)["warehouse_state"] != state
    assert published_current
    assert not after_build
    assert republished
    assert not parquet_missing


def test_a_run_after_one_that_stopped_before_publishing_publishes(copy_of_first_run):
    settings = copy_of_first_run
    before = manifest(settings)["version"]
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        # What a run that built its models and died before publishing leaves: a newer build.
        connection.execute(
            "insert into audit.model_builds select * replace (cast(now() as timestamp) as "
            "started_at, cast(now() as timestamp) as finished_at) from audit.model_builds"
        )

    result = run_pipeline(settings, DAY_1, DAY_1, instance=DagsterInstance.ephemeral())

    assert result.success
    assert len(result.asset_materializations_for_node("serving__published_marts")) == 1
    assert manifest(settings)["version"] != before
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        assert publication_is_current(connection, settings)
