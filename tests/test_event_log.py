"""The Dagster event log with kept connections: the same records, and a live run still followed."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from dagster import DagsterInstance
from dagster._core.events.log import EventLogEntry

from orchestration.event_log import KEPT_FILES, KeptConnectionsSqliteEventLogStorage
from orchestration.settings import PROJECT_ROOT


def storage(home: Path) -> KeptConnectionsSqliteEventLogStorage:
    return KeptConnectionsSqliteEventLogStorage.from_config_value(None, {"dagster_home": str(home)})


def entry(run_id: str, message: str) -> EventLogEntry:
    return EventLogEntry(
        error_info=None,
        level=logging.INFO,
        user_message=message,
        run_id=run_id,
        timestamp=time.time(),
    )


def messages(events) -> list[str]:
    return [record.event_log_entry.user_message for record in events.records]


def test_events_are_kept_where_dagster_keeps_them_and_read_back_by_another_process(tmp_path):
    writer = storage(tmp_path)
    writer.store_event(entry("run-1", "loaded"))
    writer.store_event(entry("run-1", "built"))

    # A plain Dagster instance on the same home (as another process would open it) reads them.
    reader = storage(tmp_path)
    assert messages(reader.get_records_for_run("run-1")) == ["loaded", "built"]
    assert (tmp_path / "history" / "runs" / "run-1.db").is_file()
    writer.dispose()
    reader.dispose()


def test_a_watcher_in_another_storage_sees_each_new_event_of_a_live_run(tmp_path):
    writer, ui = storage(tmp_path), storage(tmp_path)
    writer.store_event(entry("run-1", "started"))
    seen: list[str] = []
    ui.watch("run-1", None, lambda event, cursor: seen.append(event.user_message))

    writer.store_event(entry("run-1", "step 1"))
    deadline = time.monotonic() + 20
    while "step 1" not in seen and time.monotonic() < deadline:
        time.sleep(0.1)
    writer.store_event(entry("run-1", "step 2"))
    while "step 2" not in seen and time.monotonic() < deadline:
        time.sleep(0.1)

    assert seen[-2:] == ["step 1", "step 2"]
    ui.dispose()
    writer.dispose()


def test_a_process_reading_many_runs_keeps_few_files_open(tmp_path):
    events = storage(tmp_path)
    for number in range(KEPT_FILES + 5):
        events.store_event(entry(f"run-{number}", "hello"))

    assert len(events._engines) == KEPT_FILES
    assert messages(events.get_records_for_run("run-0")) == ["hello"]
    events.dispose()


def test_the_project_instance_uses_it(tmp_path, monkeypatch):
    (tmp_path / "dagster.yaml").write_text(
        (PROJECT_ROOT / "dagster_home" / "dagster.yaml").read_text()
    )
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))

    with DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, KeptConnectionsSqliteEventLogStorage)
