"""The raw_landing sensor and the daily schedule request runs for the right arrival days."""

from __future__ import annotations

import dataclasses
import logging
import os
from datetime import UTC, datetime

import pytest
from dagster import SensorEvaluationContext, build_schedule_context, build_sensor_context

from orchestration.automation import build_daily_schedule, build_raw_landing_sensor
from orchestration.contract import EVENTS, METRICS
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


def evaluate(sensor, cursor):
    result = sensor(build_sensor_context(cursor=cursor))
    return [request.partition_key for request in result.run_requests], result.cursor


def test_a_new_file_requests_a_run_for_its_arrival_day_only(settings, raw_landing):
    sensor = build_raw_landing_sensor(settings, DAY_1)
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    _, cursor = evaluate(sensor, None)

    write_landing_file(raw_landing, METRICS, DAY_2, "part-0.parquet", [metric("x")])
    partitions, cursor = evaluate(sensor, cursor)

    assert partitions == ["2026-03-02"]
    assert evaluate(sensor, cursor)[0] == []


def test_a_redelivered_file_requests_its_day_again(settings, raw_landing):
    sensor = build_raw_landing_sensor(settings, DAY_1)
    path = write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m2")])
    first, cursor = evaluate(sensor, None)

    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1"), event("m3")])
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))

    assert first == ["2026-03-01", "2026-03-02"]
    assert evaluate(sensor, cursor)[0] == ["2026-03-01"]


def test_a_removed_file_requests_its_day_again(settings, raw_landing):
    sensor = build_raw_landing_sensor(settings, DAY_1)
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    extra = write_landing_file(raw_landing, EVENTS, DAY_1, "part-1.parquet", [event("m2")])
    _, cursor = evaluate(sensor, None)

    extra.unlink()

    assert evaluate(sensor, cursor)[0] == ["2026-03-01"]


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
    _, cursor = evaluate(build_raw_landing_sensor(settings, DAY_2), None)

    reloaded = build_raw_landing_sensor(settings, DAY_1)

    assert evaluate(reloaded, cursor)[0] == ["2026-03-01"]


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
