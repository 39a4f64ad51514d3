"""What starts runs without a person: a sensor on raw_landing/ and a daily schedule, both off
by default (a fresh clone should not start loading on its own; turn them on in the Dagster UI
under Automation); and a sensor, on by default, that marks failed the runs whose process died.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from dagster import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    schedule,
    sensor,
)

from orchestration.contract import DATASETS
from orchestration.coordination import release_dead_runs
from orchestration.jobs import main_job
from orchestration.landing.loaded_files import read_loaded, stamp
from orchestration.landing.loader import landed_dates, landing_files
from orchestration.settings import Settings


def landed_files(settings: Settings) -> dict[str, list[str]]:
    """The stamp (name, size, modification time) of every file in raw_landing/, per arrival
    day, sorted."""
    files_by_day: dict[str, list[str]] = {}
    for dataset in DATASETS.values():
        for day in landed_dates(settings.raw_landing_dir, dataset):
            for path in landing_files(settings.raw_landing_dir, dataset, day):
                files_by_day.setdefault(day.isoformat(), []).append(stamp(dataset.name, path))
    return {day: sorted(files) for day, files in files_by_day.items()}


def _fingerprint(stamps: list[str]) -> str:
    return hashlib.sha256("\n".join(stamps).encode()).hexdigest()


def build_raw_landing_sensor(settings: Settings, first_partition: date) -> SensorDefinition:
    """The sensor of a code location whose partitions start at `first_partition`."""

    @sensor(
        name="raw_landing_sensor",
        job=main_job,
        minimum_interval_seconds=30,
        default_status=DefaultSensorStatus.STOPPED,
        description=(
            "Requests a run of the main job for every arrival day whose files in raw_landing/ "
            "differ from those the last load of the day saw (new, re-delivered, touched or "
            "removed files), and only for those days."
        ),
    )
    def raw_landing_sensor(context: SensorEvaluationContext) -> SensorResult:
        # What the loads saw, as they recorded it beside the warehouse: readable while a run
        # holds the warehouse (orchestration/landing/loaded_files.py).
        loaded = read_loaded(settings.warehouse_path)
        run_requests = []
        for day, stamps in sorted(landed_files(settings).items()):
            if loaded.get(day) == stamps:
                continue
            if date.fromisoformat(day) < first_partition:
                context.log.warning(_before_first_partition(settings, day, first_partition))
                continue
            # The same files ask once: Dagster skips a run key it has requested before.
            run_requests.append(
                RunRequest(run_key=f"{day}:{_fingerprint(stamps)}", partition_key=day)
            )
        return SensorResult(run_requests=run_requests)

    return raw_landing_sensor


def _before_first_partition(settings: Settings, day: str, first_partition: date) -> str:
    reload = "reload the code location (Deployment > Code locations > Reload in the UI)"
    if settings.partitions_start_date is not None:
        return (
            f"raw_landing has files for {day}, before the first partition, PARTITIONS_START_DATE "
            f"{first_partition}: not loaded. Set PARTITIONS_START_DATE={day} (or earlier) and "
            f"{reload} to load it."
        )
    return (
        f"raw_landing has files for {day}, before the first partition, {first_partition}: the "
        "partitions start at the first landed day as it was when the code location loaded. "
        f"Not loaded yet: {reload} to offer and load it."
    )


def build_daily_schedule() -> ScheduleDefinition:
    @schedule(
        name="daily_build",
        job=main_job,
        cron_schedule="15 0 * * *",
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.STOPPED,
        description="Every day at 00:15 UTC, loads the arrival day that just ended and builds.",
    )
    def daily_build(context: ScheduleEvaluationContext) -> RunRequest:
        day = (context.scheduled_execution_time.date() - timedelta(days=1)).isoformat()
        return RunRequest(run_key=f"daily:{day}", partition_key=day)

    return daily_build


def build_dead_run_sensor() -> SensorDefinition:
    @sensor(
        name="dead_run_sensor",
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description=(
            "Every minute, marks failed the runs whose process is gone (killed, out of memory, "
            "a reboot), so that the queue of the duckdb_warehouse pool does not wait for them "
            "forever."
        ),
    )
    def dead_run_sensor(context: SensorEvaluationContext) -> SkipReason:
        dead = release_dead_runs(context.instance)
        for run in dead:
            context.log.warning(run.describe())
        return SkipReason(
            f"marked failed: {', '.join(run.run_id for run in dead)}"
            if dead
            else "no run has lost its process"
        )

    return dead_run_sensor
