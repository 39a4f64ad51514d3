"""The same dbt project on Apache Spark (local mode) builds the marts DuckDB builds.

Five generated days (50,000 events) are landed and built by the pipeline on DuckDB. Spark gets
the landing's raw tables as Parquet (`orchestration.spark.export_raw_parquet`): the first three
days, built in full with every data test and unit test, then the fourth and the fifth day, run
incrementally with their window (as a run after two days off would). Every mart on Spark equals
DuckDB's, row for row: counts, keys and timestamps (to the millisecond) exactly, fractions to
1e-9 relative. Spark's tables are plain Parquet, which DuckDB reads for the comparison.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.generator.config import GeneratorConfig
from orchestration.generator.generate import generate
from orchestration.spark import export_raw_parquet

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
FIRST_DAY = date(2026, 11, 26)
DAYS = [FIRST_DAY + timedelta(days=offset) for offset in range(5)]


@dataclass
class SparkWarehouse:
    """A Spark warehouse directory (tables and metastore), and dbt runs against it."""

    directory: Path
    raw_parquet: Path
    dbt_project: Path

    def dbt(self, *args: str) -> str:
        command = [
            str(VENV_BIN / "dbt"),
            *args,
            "--target",
            "spark",
            "--profiles-dir",
            str(self.dbt_project),
            "--project-dir",
            str(self.dbt_project),
            "--target-path",
            str(self.directory / "dbt-target"),
            "--log-path",
            str(self.directory / "dbt-logs"),
        ]
        environment = {
            **os.environ,
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            "RAW_PARQUET_DIR": str(self.raw_parquet),
            "SPARK_WAREHOUSE_DIR": str(self.directory),
        }
        result = subprocess.run(
            command, cwd=self.directory, env=environment, capture_output=True, text=True
        )
        if result.returncode != 0:
            summary = [line for line in result.stdout.splitlines() if not line.startswith("{")]
            pytest.fail(f"dbt {' '.join(args)} on Spark failed:\n" + "\n".join(summary[-80:]))
        return result.stdout

    def mart(self, table: str) -> str:
        return str(self.directory / "tables" / "marts.db" / table / "*.parquet")


@pytest.fixture(scope="module")
def duckdb_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five days generated, landed and built by the pipeline (`warehouse run`) on DuckDB."""
    if shutil.which("java") is None:
        pytest.fail("Spark needs Java on PATH: scripts/ensure-java installs it (make test runs it)")
    root = tmp_path_factory.mktemp("duckdb")
    generate(
        GeneratorConfig(out=root / "raw_landing", days=5, events=50_000, seed=7, end_date=DAYS[-1])
    )
    environment = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "RAW_LANDING_DIR": str(root / "raw_landing"),
        "WAREHOUSE_DIR": str(root / "warehouse"),
        "DAGSTER_HOME": str(root / "dagster_home"),
    }
    (root / "dagster_home").mkdir()
    result = subprocess.run(
        [str(VENV_BIN / "warehouse"), "run"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return root / "warehouse" / "warehouse.duckdb"


@pytest.fixture(scope="module")
def spark_warehouse(
    duckdb_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SparkWarehouse]:
    """Days 1-3 built in full on Spark (models, data tests, unit tests); then days 4 and 5
    arrive and run incrementally, with their window."""
    root = tmp_path_factory.mktemp("spark")
    dbt_project = root / "dbt_project"
    shutil.copytree(
        PROJECT_ROOT / "dbt_project",
        dbt_project,
        ignore=shutil.ignore_patterns("target", "logs", "*.log"),
    )
    spark = SparkWarehouse(directory=root, raw_parquet=root / "raw", dbt_project=dbt_project)

    def export(days: list[date]) -> None:
        with duckdb.connect(str(duckdb_warehouse), read_only=True) as connection:
            export_raw_parquet(connection, spark.raw_parquet, days)

    export(DAYS[:3])
    spark.dbt("build")
    export(DAYS[3:])
    window = f"{{min_date: {DAYS[3]}, max_date: {DAYS[-1] + timedelta(days=1)}}}"
    spark.dbt("run", "--vars", window)
    yield spark


def _normalized(value: object) -> object:
    if isinstance(value, dt.datetime):
        value = value.replace(tzinfo=None)
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


def test_every_mart_on_spark_equals_duckdbs(
    duckdb_warehouse: Path, spark_warehouse: SparkWarehouse
) -> None:
    with duckdb.connect(str(duckdb_warehouse), read_only=True) as connection:
        connection.sql("set TimeZone = 'UTC'")
        tables = [
            name
            for (name,) in connection.sql(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        differing = {}
        for table in tables:
            columns = ", ".join(
                f'"{name}"' for (name, *_) in connection.sql(f"describe marts.{table}").fetchall()
            )
            expected = _rows(connection, f"select {columns} from marts.{table}")
            built = _rows(
                connection, f"select {columns} from read_parquet('{spark_warehouse.mart(table)}')"
            )
            if len(expected) != len(built) or not all(map(_equal, expected, built)):
                differing[table] = (len(expected), len(built))
    assert len(tables) >= 25
    assert differing == {}


def test_the_spark_marts_hold_every_day(spark_warehouse: SparkWarehouse) -> None:
    days = duckdb.sql(
        f"select min(session_date), max(session_date), count(*) "
        f"from read_parquet('{spark_warehouse.mart('sessions')}')"
    ).fetchall()
    assert days[0][0] <= DAYS[0] and days[0][1] == DAYS[-1] and days[0][2] > 5_000
