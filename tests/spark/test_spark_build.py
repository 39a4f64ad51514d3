"""The pipeline on Apache Spark (local mode) publishes the marts the pipeline on DuckDB publishes.

Five generated days (50,000 events) are landed and built by the pipeline on DuckDB, all at once.
Then the same files reach a second pipeline with `WAREHOUSE_ENGINE=spark` as they would
arrive: the first three days, built in full (the dbt models with their unit tests and data
tests, the data tests as asset checks, the contract checks and the publication, all through
Dagster: `warehouse run --unit-tests`), then the fourth and the fifth day, built incrementally
with their window (the date-partitioned tables partition by partition); a third run finds
nothing new. Every published mart on Spark equals DuckDB's, row for row: the same columns and
types, counts, keys and timestamps (to the millisecond) exactly, fractions to 1e-9 relative.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.generator.config import GeneratorConfig
from orchestration.generator.generate import generate

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
FIRST_DAY = date(2026, 11, 26)
DAYS = [FIRST_DAY + timedelta(days=offset) for offset in range(5)]
PUBLISHED = Path("published") / "current" / "analytics.duckdb"


@dataclass
class Pipeline:
    """A deployment of the pipeline: its landing folder, warehouse directory and Dagster home."""

    root: Path
    engine: str
    runs: int = 0

    @property
    def landing(self) -> Path:
        return self.root / "raw_landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            "RAW_LANDING_DIR": str(self.landing),
            "WAREHOUSE_DIR": str(self.warehouse),
            "DAGSTER_HOME": str(self.root / "dagster_home"),
            "WAREHOUSE_ENGINE": self.engine,
        }

    def start(self, *options: str) -> Started:
        """`warehouse run`, started; `finished` waits for it. What it prints goes to files (a
        pipe nobody reads while it runs would fill up and stop it)."""
        (self.root / "dagster_home").mkdir(exist_ok=True)
        self.runs += 1
        output = self.root / f"run-{self.runs}.log"
        with output.open("w") as log:
            process = subprocess.Popen(
                [str(VENV_BIN / "warehouse"), "run", *options],
                cwd=PROJECT_ROOT,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return Started(process, output)

    def run(self, *options: str) -> str:
        """`warehouse run`: what it printed (its summary, then Dagster's log), once it
        succeeded."""
        return finished(self.start(*options))


@dataclass
class Started:
    process: subprocess.Popen
    output: Path


def finished(started: Started) -> str:
    """What a started `warehouse run` printed, once it succeeded."""
    started.process.wait()
    printed = started.output.read_text()
    assert started.process.returncode == 0, printed[-10000:]
    return printed


def _land(source: Path, target: Path, days: list[date]) -> None:
    """Copy the landing folders of `days`, every dataset's, as if they had just arrived."""
    for folder in sorted(source.glob("*/date=*")):
        if date.fromisoformat(folder.name.removeprefix("date=")) in days:
            shutil.copytree(folder, target / folder.relative_to(source))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("java") is None:
        pytest.fail("Spark needs Java on PATH: scripts/ensure-java installs it (make test runs it)")
    landing = tmp_path_factory.mktemp("generated") / "raw_landing"
    generate(GeneratorConfig(out=landing, days=5, events=50_000, seed=7, end_date=DAYS[-1]))
    return landing


@dataclass
class Builds:
    on_duckdb: Pipeline
    on_spark: Pipeline
    spark_outputs: list[str]


@pytest.fixture(scope="module")
def builds(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Builds:
    """On DuckDB, the five days at once. On Spark: days 1-3 with the unit tests, then days 4
    and 5 together (as after two days off), then nothing new. The two deployments share
    nothing, so the DuckDB build runs beside Spark's first one."""
    on_duckdb = Pipeline(tmp_path_factory.mktemp("duckdb"), "duckdb")
    _land(generated, on_duckdb.landing, DAYS)
    reference = on_duckdb.start()
    on_spark = Pipeline(tmp_path_factory.mktemp("spark"), "spark")
    outputs = []
    _land(generated, on_spark.landing, DAYS[:3])
    try:
        outputs.append(on_spark.run("--unit-tests"))
    finally:
        reference.process.wait()
    finished(reference)
    _land(generated, on_spark.landing, DAYS[3:])
    outputs.append(on_spark.run())
    outputs.append(on_spark.run())
    return Builds(on_duckdb, on_spark, outputs)


def _normalized(value: object) -> object:
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    if isinstance(value, dict):
        return tuple(sorted((_normalized(k), _normalized(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_normalized(item) for item in value)
    return value


def _sort_key(row: tuple) -> tuple:
    return tuple(f"{value:.9g}" if isinstance(value, float) else repr(value) for value in row)


def _equal(left: object, right: object) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(left, tuple) and isinstance(right, tuple):
        return len(left) == len(right) and all(map(_equal, left, right))
    return left == right


def _rows(connection: duckdb.DuckDBPyConnection, query: str) -> list[tuple]:
    rows = [tuple(_normalized(value) for value in row) for row in connection.sql(query).fetchall()]
    return sorted(rows, key=_sort_key)


def _columns(connection: duckdb.DuckDBPyConnection, database: str, table: str) -> list[tuple]:
    return connection.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name = 'marts' and table_name = ? "
        "order by column_index",
        [database, table],
    ).fetchall()


def test_every_mart_published_from_spark_equals_duckdbs(builds: Builds) -> None:
    connection = duckdb.connect()
    connection.sql("set TimeZone = 'UTC'")
    for name, pipeline in (("duckdb", builds.on_duckdb), ("spark", builds.on_spark)):
        connection.execute(f"attach '{pipeline.warehouse / PUBLISHED}' as {name} (read_only)")
    tables = [
        name
        for (name,) in connection.sql(
            "select table_name from duckdb_tables() "
            "where database_name = 'duckdb' and schema_name = 'marts' order by 1"
        ).fetchall()
    ]
    retyped, differing = {}, {}
    for table in tables:
        columns = _columns(connection, "duckdb", table)
        if _columns(connection, "spark", table) != columns:
            retyped[table] = _columns(connection, "spark", table)
            continue
        names = ", ".join(f'"{name}"' for name, _ in columns)
        expected = _rows(connection, f"select {names} from duckdb.marts.{table}")
        built = _rows(connection, f"select {names} from spark.marts.{table}")
        if len(expected) != len(built) or not all(map(_equal, expected, built)):
            differing[table] = (len(expected), len(built))
    assert len(tables) >= 25
    assert retyped == {}
    assert differing == {}


def test_the_runs_on_spark_build_the_new_days_then_nothing(builds: Builds) -> None:
    warehouse = builds.on_spark.warehouse
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as connection:
        logged = connection.sql(
            "select window_start, window_end, succeeded from audit.model_builds order by started_at"
        ).fetchall()
    assert logged == [
        (DAYS[0], DAYS[3], True),
        (DAYS[3], DAYS[-1] + timedelta(days=1), True),
    ]
    assert "Nothing new since the last build" in builds.spark_outputs[2]
    # Spark read the raw tables from their export, one folder per arrival day.
    exported = sorted(p.name for p in (warehouse / "spark" / "raw" / "events").iterdir())
    assert exported == [f"_landing_date={day}" for day in DAYS]
    # The event-grain and daily incremental models are partitioned by a date (an incremental
    # run rewrites only the partitions it touches); the others are one folder of files.
    tables = warehouse / "spark" / "tables"
    partitioned = {
        "intermediate.db/int_event_sessions": "_landing_date",
        "intermediate.db/int_page_view_metrics": "view_date",
        "marts.db/sessions": "session_date",
        "marts.db/page_views": "view_date",
        "marts.db/user_activity_daily": "activity_date",
        "marts.db/conversions": "conversion_date",
        "marts.db/conversion_attribution": "conversion_date",
        "marts.db/page_analytics_daily": "view_date",
        "marts.db/page_analytics_channels_daily": "view_date",
        "marts.db/users": None,
        "marts.db/hourly_rollups": None,
    }
    for table, column in partitioned.items():
        folders = {path.name.split("=")[0] for path in (tables / table).iterdir() if path.is_dir()}
        assert folders == ({column} if column else set()), table
    published = warehouse / "published" / "current" / "parquet" / "sessions.parquet"
    sessions = duckdb.sql(
        f"select min(session_date), max(session_date), count(*) from read_parquet('{published}')"
    ).fetchall()
    assert sessions[0][0] <= DAYS[0] and sessions[0][1] == DAYS[-1] and sessions[0][2] > 5_000


def test_the_unit_tests_ran_and_passed_on_spark(builds: Builds) -> None:
    # The dbt step of each run says what dbt did; the first run's build had the unit tests.
    (summary,) = re.findall(r"dbt_models: (\d+ models .*unit tests .*)", builds.spark_outputs[0])
    counts = {
        kind: (int(n), status)
        for n, kind, status in re.findall(
            r"(\d+) (models|seeds|data tests|unit tests) (\w+)", summary
        )
    }
    assert counts["unit tests"][0] >= 40 and counts["unit tests"][1] == "pass", summary
    assert counts["data tests"][0] >= 90 and counts["data tests"][1] == "pass", summary
    assert "fail" not in summary and "error" not in summary
