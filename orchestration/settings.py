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


def _env_path(name: str, default: Path) -> Path:
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

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse_dir / "warehouse.duckdb"

    @property
    def exports_dir(self) -> Path:
        return self.warehouse_dir / "exports"

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
        )
