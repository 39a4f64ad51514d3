"""The raw_landing sensor and the daily schedule request runs for the right arrival days."""

from __future__ import annotations

import dataclasses
import logging
import os
from datetime import UTC, datetime

import duckdb
import pytest
from dagster import SensorEvaluationContext, build_schedule_context, build_sensor_context

from orchestration.automation import build_daily_schedule, build_raw_landing_sensor
from orchestration.contract import EVENTS, METRICS
from orchestration.landing import loaded_files
from orchestration.landing.loader import load_partitions
from orchestration.settings import Settings
from tests.landing_files import DAY_1, DAY_2, event, metric, write_landing_file


@pytest.fixture
def settings(tmp_path, raw_landing) -> Settings:
    return dataclasses.replace(
        Settings.from_env(),
        raw_landing_dir=raw_landing,
        warehouse_dir=tmp_path / "warehouse",
        partitions_start_date=None,
    )


def requested(sensor) -> list[str]:
    return [request.partition_key for request in sensor(build_sensor_context()).run_requests]


def load(settings: Settings, *days) -> None:
    """What a run of those days records: its loads of both datasets."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        for dataset in (EVENTS, METRICS):
            load_partitions(connection, dataset, settings.raw_landing_dir, list(days))


def test_a_day_is_requested_until_a_load_has_seen_its_files(settings, raw_landing):
    sensor = build_raw_landing_sensor(settings, DAY_1)
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    before_any_load = requested(sensor)
    load(settings, DAY_1)
    after_the_load = requested(sensor)

    write_landing_file(raw_landing, METRICS, DAY_2, "part-0.parquet", [metric("x")])

    assert before_any_load == ["2026-03-01"]
    assert after_the_load == []
    assert requested(sensor) == ["2026-03-02"]
    assert loaded_files.read_loaded(settings.warehouse_path) == {
        "2026-03-01": [
            loaded_files.stamp("events", raw_landing / "events/date=2026-03-01/part-0.parquet")
        ]
    }


def test_the_same_files_ask_with_the_same_run_key(settings, raw_landing):
    sensor = build_raw_landing_sensor(settings, DAY_1)
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    keys = [sensor(build_sensor_context()).run_requests[0].run_key for _ in range(2)]

    write_landing_file(raw_landing, EVENTS, DAY_1, "part-1.parquet", [event("m2")])
    [request] = sensor(build_sensor_context()).run_requests

    assert keys[0] == keys[1]
    assert request.run_key != keys[0]


def test_a_redelivered_file_requests_its_day_again(settings, raw_landing):
    sensor = build_raw_landing_sensor(settings, DAY_1)
    path = write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m2")])
    load(settings, DAY_1, DAY_2)

    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1"), event("m3")])
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))

    assert requested(sensor) == ["2026-03-01"]


def test_a_removed_file_requests_its_day_again_until_it_is_unloaded(settings, raw_landing):
    sensor = build_raw_landing_sensor(settings, DAY_1)
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    extra = write_landing_file(raw_landing, EVENTS, DAY_1, "part-1.parquet", [event("m2")])
    load(settings, DAY_1)

    extra.unlink()
    before_the_load = requested(sensor)
    load(settings, DAY_1)

    assert before_the_load == ["2026-03-01"]
    assert requested(sensor) == []


def test_a_touched_file_asks_once_and_its_load_finds_it_unchanged(settings, raw_landing):
    sensor = build_raw_landing_sensor(settings, DAY_1)
    path = write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    load(settings, DAY_1)

    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    touched = requested(sensor)
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        [reload] = load_partitions(connection, EVENTS, raw_landing, [DAY_1])

    assert touched == ["2026-03-01"]
    assert reload.unchanged
    assert requested(sensor) == []


def test_days_before_partitions_start_date_are_not_requested(settings, raw_landing):
    set_on_purpose = dataclasses.replace(settings, partitions_start_date=DAY_2)
    sensor = build_raw_landing_sensor(set_on_purpose, DAY_2)
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    context, collected = sensor_context()

    assert sensor(context).run_requests == []
    assert collected.messages == [
        "raw_landing has files for 2026-03-01, before the first partition, "
        "PARTITIONS_START_DATE 2026-03-02: not loaded. Set PARTITIONS_START_DATE=2026-03-01 "
        "(or earlier) and reload the code location (Deployment > Code locations > Reload in "
        "the UI) to load it."
    ]


def test_a_day_landed_before_the_first_landed_day_asks_for_a_reload(settings, raw_landing):
    sensor = build_raw_landing_sensor(settings, DAY_2)
    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m1")])
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m2")])
    context, collected = sensor_context()

    assert [r.partition_key for r in sensor(context).run_requests] == ["2026-03-02"]
    assert collected.messages == [
        "raw_landing has files for 2026-03-01, before the first partition, 2026-03-02: the "
        "partitions start at the first landed day as it was when the code location loaded. Not "
        "loaded yet: reload the code location (Deployment > Code locations > Reload in the UI) "
        "to offer and load it."
    ]


def test_a_day_before_the_first_partition_is_requested_once_the_code_location_reloads(
    settings, raw_landing
):
    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m1")])
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m2")])
    before_the_reload = requested(build_raw_landing_sensor(settings, DAY_2))
    load(settings, DAY_2)

    reloaded = build_raw_landing_sensor(settings, DAY_1)

    assert before_the_reload == ["2026-03-02"]
    assert requested(reloaded) == ["2026-03-01"]


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def sensor_context() -> tuple[SensorEvaluationContext, Collected]:
    """A sensor context whose warnings are collected."""
    context, collected = build_sensor_context(), Collected()
    context.log.addHandler(collected)
    return context, collected


def test_the_daily_schedule_builds_the_arrival_day_that_just_ended():
    schedule = build_daily_schedule()
    context = build_schedule_context(
        scheduled_execution_time=datetime(2026, 3, 3, 0, 15, tzinfo=UTC)
    )

    request = schedule(context)

    assert request.partition_key == "2026-03-02"
