"""Timing pipeline runs: wall time, Dagster steps, dbt models, overhead, memory and size."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
from dagster import DagsterEventType, DagsterInstance

from orchestration.benchmark.memory import PeakMemory
from orchestration.cli import run_pipeline
from orchestration.contract import DATASETS
from orchestration.publishing import PUBLISHED_MARTS_KEY, current_publication
from orchestration.settings import Settings
from orchestration.transform import DBT_STEP, dbt_project

DBT_STEPS = (DBT_STEP,)
# Pipeline tables whose row counts stand beside the floor's, to show both did the same work.
COUNTED_TABLES = {
    "load": "raw.events",
    "sessionize": "marts.sessions",
    "person_day_activity": "marts.user_activity_daily",
    "exact_quantiles": "marts.metric_aggregates",
    "funnel": "marts.funnel_attempt_steps",
}


@dataclass
class StepTiming:
    step: str
    stage: str
    seconds: float


@dataclass
class NodeTiming:
    """One dbt node of one invocation, from dbt's run_results.json."""

    step: str
    node: str
    resource_type: str
    status: str
    seconds: float


@dataclass
class RunMeasure:
    name: str
    start: date
    end: date
    success: bool
    seconds: float
    steps: list[StepTiming] = field(default_factory=list)
    dbt_nodes: list[NodeTiming] = field(default_factory=list)
    dbt_elapsed_seconds: dict[str, float] = field(default_factory=dict)
    """dbt's own `elapsed_time` per invocation (its work after start-up and parsing)."""
    outside_steps_seconds: float = 0.0
    """Run time not spent in any step: building the definitions, planning, starting the run,
    writing events."""
    dbt_invocation_overhead_seconds: float = 0.0
    """dbt step time outside dbt's own `elapsed_time`: starting dbt, `dbt --version`, loading
    the manifest, streaming dbt's events into Dagster and counting rows."""
    peak_memory_bytes: int = 0
    warehouse_bytes: int = 0
    """The warehouse file after the run."""
    published_bytes: int = 0
    """The current publication (DuckDB copy and Parquet) after the run."""
    row_counts: dict[str, int] = field(default_factory=dict)
    publication_seconds: dict[str, float] = field(default_factory=dict)
    """The publication's seconds by part (`copy`, `tables`, `parquet`, `total`), from its
    materialization; empty when the run published nothing."""

    @property
    def dagster_overhead_seconds(self) -> float:
        return self.outside_steps_seconds + self.dbt_invocation_overhead_seconds

    def stage_seconds(self) -> dict[str, float]:
        stages: dict[str, float] = {}
        for step in self.steps:
            stages[step.stage] = stages.get(step.stage, 0.0) + step.seconds
        return stages


def _stage_of(step_key: str) -> str:
    if step_key in DBT_STEPS:
        return "dbt build"
    if step_key.removeprefix("raw__") in DATASETS:
        return "landing"
    if "published" in step_key:
        return "publish"
    return "checks"


def _step_timings(instance: DagsterInstance, run_id: str) -> list[StepTiming]:
    started: dict[str, float] = {}
    timings = []
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or entry.step_key is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            started[entry.step_key] = entry.timestamp
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            seconds = entry.timestamp - started.pop(entry.step_key, entry.timestamp)
            timings.append(StepTiming(entry.step_key, _stage_of(entry.step_key), seconds))
    return timings


def _publication_seconds(instance: DagsterInstance, run_id: str) -> dict[str, float]:
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
        materialization = entry.asset_materialization
        if materialization is not None and materialization.asset_key == PUBLISHED_MARTS_KEY:
            seconds = materialization.metadata.get("seconds")
            if seconds is not None:
                return dict(seconds.value)
    return {}


def _dbt_run_results(target_dir: Path, run_id: str) -> dict[str, dict]:
    """run_results.json of each dbt invocation of the run, by step (dagster-dbt writes each
    invocation's artifacts to `target/<step>-<run id prefix>-<unique>/`)."""
    results = {}
    for path in sorted(target_dir.glob(f"*-{run_id[:7]}-*/run_results.json")):
        step = path.parent.name.rsplit("-", 2)[0]
        results[step] = json.loads(path.read_text())
    return results


def _node_timings(step: str, run_results: dict) -> list[NodeTiming]:
    return [
        NodeTiming(
            step=step,
            node=result["unique_id"].split(".", 2)[-1],
            resource_type=result["unique_id"].split(".", 1)[0],
            status=result["status"],
            seconds=result["execution_time"],
        )
        for result in run_results["results"]
    ]


def directory_bytes(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _row_counts(warehouse_path: Path) -> dict[str, int]:
    counts = {}
    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        for stage, table in COUNTED_TABLES.items():
            counts[stage] = connection.execute(f"select count(*) from {table}").fetchone()[0]
    return counts


def measure_run(
    name: str,
    settings: Settings,
    instance: DagsterInstance,
    memory: PeakMemory,
    start: date,
    end: date,
) -> RunMeasure:
    """Run the main job over the arrival days [start, end], as `warehouse run` does, and
    measure it."""
    memory.reset()
    began = time.perf_counter()
    result = run_pipeline(settings, start, end, instance=instance)
    seconds = time.perf_counter() - began
    measure = RunMeasure(name, start, end, result.success, seconds)
    measure.peak_memory_bytes = memory.peak_bytes
    measure.steps = _step_timings(instance, result.run_id)
    measure.publication_seconds = _publication_seconds(instance, result.run_id)
    project = dbt_project(settings.dbt_project_dir)
    target_dir = project.project_dir / project.target_path
    for step, run_results in _dbt_run_results(target_dir, result.run_id).items():
        measure.dbt_elapsed_seconds[step] = run_results["elapsed_time"]
        measure.dbt_nodes.extend(_node_timings(step, run_results))
    measure.outside_steps_seconds = seconds - sum(step.seconds for step in measure.steps)
    measure.dbt_invocation_overhead_seconds = sum(
        step.seconds - measure.dbt_elapsed_seconds.get(step.step, step.seconds)
        for step in measure.steps
        if step.step in DBT_STEPS
    )
    measure.warehouse_bytes = settings.warehouse_path.stat().st_size
    if measure.success:
        measure.published_bytes = directory_bytes(current_publication(settings).resolve())
    if measure.success:
        measure.row_counts = _row_counts(settings.warehouse_path)
    return measure
