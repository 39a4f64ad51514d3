"""Dagster's SQLite event log, with its connections kept open.

Dagster's SQLite event storage opens a connection for every event it writes and closes it
again. With the WAL journal it uses, each commit syncs the log to disk, and each close, as the
last connection to the file, copies the log into the database and syncs again. A run writes an
event per landing partition (planned, then materialized), per dbt model and per dbt test: a
run over 200 sparse arrival days spent about 50 of its 80 seconds in those syncs.

This storage is Dagster's, with one difference: each database file (one per run, and the index)
is reached through one connection kept for the life of the process, with `synchronous=NORMAL`.
SQLite's WAL journal with NORMAL never corrupts the database; a commit survives a crash of the
process, and only an operating-system crash or power loss can lose the last commits. The log
reaches the database file when the process ends, or when the log grows past SQLite's
auto-checkpoint size. The Dagster UI follows a live run by watching its database file, so
every write also touches the file's modification time (no sync), which the UI sees as a change.

`dagster_home/dagster.yaml` selects it:

    event_log_storage:
      module: orchestration.event_log
      class: KeptConnectionsSqliteEventLogStorage
      config:
        dagster_home: {env: DAGSTER_HOME}

and it keeps the default layout (`$DAGSTER_HOME/history/runs/`), so runs recorded before stay
readable.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as db
from dagster._config import StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

KEPT_FILES = 8
"""Database files kept open at most per process: the index, and the newest runs written or read."""


class KeptConnectionsSqliteEventLogStorage(SqliteEventLogStorage):
    """SQLite event storage whose connections stay open (see the module's docstring)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {"dagster_home": StringSource}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> KeptConnectionsSqliteEventLogStorage:
        base_dir = os.path.join(config_value["dagster_home"], "history", "runs", "")
        return cls(base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
        else:
            engine = db.create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=2,  # creating the tables opens a second one
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            db.event.listen(engine, "connect", _synchronous_normal)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            self._engines[shard] = engine
            # A process that reads many runs (the UI) keeps only the newest files open.
            while len(self._engines) > KEPT_FILES:
                self._engines.popitem(last=False)[1].dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            with self._engine(shard).connect() as connection, connection.begin():
                yield connection
            path = self.path_for_shard(shard)
            if os.path.exists(path):
                os.utime(path)

    def dispose(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
        super().dispose()


def _synchronous_normal(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
