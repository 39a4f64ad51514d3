"""The benchmark's targets, computed from explicit timings."""

from __future__ import annotations

from datetime import date

from orchestration.benchmark.floor import FloorResult, FloorStage
from orchestration.benchmark.pipeline import RunMeasure, StepTiming
from orchestration.benchmark.run import _targets

DAY = date(2026, 10, 31)
GIB = 2**30


def _run(name: str, seconds: float, dbt_seconds: float, peak_gib: float) -> RunMeasure:
    return RunMeasure(
        name=name,
        start=DAY,
        end=DAY,
        success=True,
        seconds=seconds,
        steps=[
            StepTiming("raw__events", "landing", seconds - dbt_seconds),
            StepTiming("dbt_models", "dbt build", dbt_seconds),
        ],
        peak_memory_bytes=int(peak_gib * GIB),
    )


RUNS = [
    _run("full build", 400.0, dbt_seconds=120.0, peak_gib=8.0),
    _run("one more day", 36.0, dbt_seconds=20.0, peak_gib=6.0),
    _run("nothing new", 8.0, dbt_seconds=0.0, peak_gib=1.0),
]
FLOOR = FloorResult(
    stages=[
        FloorStage("load", 60.0, 100),
        FloorStage("sessionize", 30.0, 10),
        FloorStage("person_day_activity", 8.0, 10),
        FloorStage("exact_quantiles", 1.5, 10),
        FloorStage("funnel", 0.5, 10),
    ]
)


def test_the_dbt_stage_is_compared_with_the_floor_after_loading():
    targets = _targets(RUNS, FLOOR)

    assert targets.dbt_build_per_floor_compute == 120.0 / 40.0
    assert targets.met["the full build's dbt stage at most 3x the floor after loading"] is True


def test_a_day_at_most_a_tenth_of_the_full_build_meets_its_target():
    targets = _targets(RUNS, FLOOR)

    assert targets.one_day_share_of_full_build == 0.09
    assert targets.met["one new day at most 10% of a full build"] is True
    assert targets.build_above_no_op_per_floor == (400.0 - 8.0) / 100.0
    assert targets.met["full build above a no-op run at most 2x the floor"] is False


def test_without_a_floor_only_the_targets_that_need_none_are_judged():
    targets = _targets(RUNS, None)

    assert targets.dbt_build_per_floor_compute is None
    assert set(targets.met) == {
        "one new day at most 10% of a full build",
        "a run with nothing new at most 15 s",
        "peak memory at most 12 GiB",
    }
