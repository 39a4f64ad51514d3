"""The resources every asset shares: the DuckDB warehouse, one writer at a time."""

from __future__ import annotations

from dagster_duckdb import DuckDBResource

from orchestration.settings import Settings

# Every step that opens the warehouse runs in this pool. DuckDB allows one read-write process
# per file, and a writer blocks even read-only opens from other processes, so the Dagster
# instance limits the pool to one slot (dagster_home/dagster.yaml): steps of concurrent runs
# wait for the slot instead of failing on the file lock.
WAREHOUSE_WRITER_POOL = "duckdb_warehouse"


def warehouse_resource(settings: Settings) -> DuckDBResource:
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    return DuckDBResource(
        database=str(settings.warehouse_path),
        connection_config={
            "threads": settings.duckdb_threads,
            "memory_limit": settings.duckdb_memory_limit,
        },
    )
