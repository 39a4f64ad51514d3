"""The resources every asset shares: the DuckDB warehouse, one writer at a time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import InitResourceContext, get_dagster_logger
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from orchestration.coordination import record_worker, warehouse_lock
from orchestration.settings import Settings

# Every step that opens the warehouse declares this pool. The Dagster instance limits it to one
# run at a time (dagster_home/dagster.yaml), so runs launched from the UI wait in the queue;
# within and across runs, the warehouse lock (orchestration/coordination.py) keeps any two
# processes from opening the file at once.
WAREHOUSE_WRITER_POOL = "duckdb_warehouse"


class WarehouseResource(DuckDBResource):
    """DuckDB's resource, opened under the warehouse lock, by a process recorded on its run."""

    _run_id: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._run_id = context.run_id
        if context.instance is not None and context.run_id is not None:
            record_worker(context.instance, context.run_id)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        purpose = f"dagster run {self._run_id}" if self._run_id else "a Dagster step"
        with warehouse_lock(Path(self.database), purpose, say=get_dagster_logger().info):
            connection = duckdb.connect(
                self.database, config={"custom_user_agent": "dagster", **self.connection_config}
            )
            try:
                yield connection
            finally:
                connection.close()


def warehouse_resource(settings: Settings) -> WarehouseResource:
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    return WarehouseResource(
        database=str(settings.warehouse_path),
        connection_config={
            "threads": settings.duckdb_threads,
            "memory_limit": settings.duckdb_memory_limit,
        },
    )
