"""Where things live and the landing settings, in one place.

Every value can be overridden with an environment variable of the same name, so that tests,
the benchmark and a deployment point the pipeline somewhere else without code changes. The
definitions of the marts (session timeout, bounce threshold, conversion events, funnel window)
are dbt vars with documented defaults in `dbt_project/dbt_project.yml`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_path(name: str, default: Path | None) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _env_date(name: str) -> date | None:
    value = os.environ.get(name)
    return date.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Settings:
    """Paths and landing settings of one pipeline deployment."""

    raw_landing_dir: Path
    """Where Parquet files land: `<dataset>/date=YYYY-MM-DD/*.parquet` by arrival date."""
    warehouse_dir: Path
    """Holds the DuckDB warehouse file and the published marts."""
    dbt_project_dir: Path
    partitions_start_date: date | None
    """First arrival date the daily partitions offer, when set on purpose; None (the default):
    the first landed day (`orchestration/partitions.py`)."""
    future_tolerance_hours: int
    """An event whose event time is this far after its `received_at` is rejected."""
    freshness_warn_hours: int
    """The freshness check warns when the newest `received_at` is older than this."""
    duckdb_threads: int
    duckdb_memory_limit: str
    raw_retention_days: int
    """Raw rows and landing files whose arrival day is older are removed by cleanup."""
    aggregate_retention_days: int
    """Mart rows whose day or period is older are removed by cleanup (default: 5 years)."""
    export_expiry_days: int
    """An export's file is deleted, and the export marked EXPIRED, this long after it completed."""
    warehouse_engine: str = "duckdb"
    """What runs the dbt models: `duckdb` (the warehouse file) or `spark` (Apache Spark, at
    SPARK_MASTER; the landing, its checks and the build log stay in the DuckDB file)."""
    spark_dir: Path | None = None
    """On Spark: the tables (`tables/`, Spark's warehouse directory) and their metastore; the
    profile reads the same SPARK_WAREHOUSE_DIR. Default: `spark/` in the warehouse directory."""
    raw_parquet_dir: Path | None = None
    """On Spark: where the landing's raw tables are exported as Parquet for Spark to read.
    Default: `raw/` in the Spark directory."""

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse_dir / "warehouse.duckdb"

    @property
    def exports_dir(self) -> Path:
        return self.warehouse_dir / "exports"

    @property
    def on_spark(self) -> bool:
        return self.warehouse_engine == "spark"

    @property
    def spark_warehouse_dir(self) -> Path:
        return self.spark_dir or self.warehouse_dir / "spark"

    @property
    def spark_tables_dir(self) -> Path:
        """Spark's warehouse directory (`spark.sql.warehouse.dir` in dbt_project/profiles.yml):
        a table's Parquet files are in `<schema>.db/<table>/`."""
        return self.spark_warehouse_dir / "tables"

    @property
    def spark_raw_dir(self) -> Path:
        return self.raw_parquet_dir or self.spark_warehouse_dir / "raw"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            raw_landing_dir=_env_path("RAW_LANDING_DIR", PROJECT_ROOT / "raw_landing"),
            warehouse_dir=_env_path("WAREHOUSE_DIR", PROJECT_ROOT / "warehouse"),
            dbt_project_dir=_env_path("DBT_PROJECT_DIR", PROJECT_ROOT / "dbt_project"),
            partitions_start_date=_env_date("PARTITIONS_START_DATE"),
            future_tolerance_hours=int(os.environ.get("FUTURE_TOLERANCE_HOURS", "24")),
            freshness_warn_hours=int(os.environ.get("FRESHNESS_WARN_HOURS", "36")),
            duckdb_threads=int(os.environ.get("DUCKDB_THREADS", str(os.cpu_count() or 2))),
            duckdb_memory_limit=os.environ.get("DUCKDB_MEMORY_LIMIT", "8GB"),
            raw_retention_days=int(os.environ.get("RAW_RETENTION_DAYS", "730")),
            aggregate_retention_days=int(os.environ.get("AGGREGATE_RETENTION_DAYS", "1826")),
            export_expiry_days=int(os.environ.get("EXPORT_EXPIRY_DAYS", "7")),
            warehouse_engine=_engine(),
            spark_dir=_env_path("SPARK_WAREHOUSE_DIR", None),
            raw_parquet_dir=_env_path("RAW_PARQUET_DIR", None),
        )


ENGINES = ("duckdb", "spark")


def _engine() -> str:
    engine = os.environ.get("WAREHOUSE_ENGINE", "duckdb").strip().lower() or "duckdb"
    if engine not in ENGINES:
        raise ValueError(f"WAREHOUSE_ENGINE is {engine!r}: it must be one of {', '.join(ENGINES)}")
    return engine
