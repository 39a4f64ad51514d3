"""The benchmark command: its smoke mode end to end, its report, and the memory sampler it
relies on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import duckdb
import pytest

from dashboard import PAGES
from orchestration.benchmark import run, sparse
from orchestration.benchmark.cli import count, main
from orchestration.benchmark.memory import PeakMemory, process_tree_rss
from orchestration.benchmark.pipeline import RunMeasure
from orchestration.benchmark.report import _publication_parts


def test_counts_take_suffixes():
    assert [count(text) for text in ("10M", "1m", "250k", "1_000", "2.5M")] == [
        10_000_000,
        1_000_000,
        250_000,
        1_000,
        2_500_000,
    ]


def test_peak_memory_includes_child_processes():
    allocate = "import time; block = b'x' * (300 * 2**20); time.sleep(1.5)"
    with PeakMemory(interval_seconds=0.05) as memory:
        memory.reset()
        alone = process_tree_rss(os.getpid())
        subprocess.run([sys.executable, "-c", allocate], check=True)
        peak = memory.peak_bytes
    assert peak - alone >= 250 * 2**20


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> dict:
    """One tiny benchmark: 4,000 events over 2 days. `progress` holds what its JSON said when
    each run began."""
    work = tmp_path_factory.mktemp("benchmark")
    result_path = work / "results-4000.json"
    progress = {}
    measure = run.measure_run

    def measure_run(name, *args):
        progress[name] = json.loads(result_path.read_text()) if result_path.exists() else None
        return measure(name, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(run, "measure_run", measure_run)
        assert main(["--events", "4k", "--days", "2", "--work-dir", str(work)]) == 0
    return {**json.loads(result_path.read_text()), "progress": progress}


def test_smoke_runs_build_add_a_day_and_nothing_new(smoke):
    runs = {run["name"]: run for run in smoke["runs"]}
    assert list(runs) == ["full build", "one more day", "nothing new"]
    assert all(run["success"] for run in runs.values())
    assert (runs["full build"]["start"], runs["full build"]["end"]) == ("2026-10-29", "2026-10-30")
    assert runs["one more day"]["start"] == runs["one more day"]["end"] == "2026-10-31"


def test_smoke_times_every_stage_and_dbt_model(smoke):
    full = smoke["runs"][0]
    stages = {step["stage"] for step in full["steps"]}
    assert stages == {"landing", "checks", "dbt build", "publish"}
    models = {node["node"] for node in full["dbt_nodes"] if node["resource_type"] == "model"}
    assert {"int_events", "sessions", "metric_aggregates", "funnel_attempt_steps"} <= models
    assert set(full["dbt_elapsed_seconds"]) == {"dbt_models"}
    assert full["peak_memory_bytes"] > 0
    assert full["warehouse_bytes"] > 0 and full["published_bytes"] > 0


def test_smoke_skips_dbt_and_publishing_when_nothing_is_new(smoke):
    nothing_new = smoke["runs"][2]
    assert nothing_new["dbt_nodes"] == []
    assert {step["stage"] for step in nothing_new["steps"]} <= {"landing", "checks", "dbt build"}


def test_smoke_times_the_parts_of_each_publication(smoke):
    full, one_day, nothing_new = smoke["runs"]
    # The full build writes a new file; the next day patches a copy of it.
    assert full["publication_seconds"]["copy"] == 0
    assert one_day["publication_seconds"]["copy"] > 0
    for measured in (full, one_day):
        parts = measured["publication_seconds"]
        assert set(parts) == {"copy", "tables", "parquet", "total"}
        assert 0 < parts["copy"] + parts["tables"] + parts["parquet"] <= parts["total"]
    assert nothing_new["publication_seconds"] == {}


def test_the_report_says_where_each_publication_went():
    day = date(2026, 10, 31)
    runs = [
        RunMeasure(
            "full build",
            day,
            day,
            True,
            10.0,
            publication_seconds={"copy": 0.0, "tables": 2.04, "parquet": 1.46, "total": 3.9},
        ),
        RunMeasure("nothing new", day, day, True, 1.0),
    ]

    assert _publication_parts(runs) == [
        "",
        "Publication, copying the last version's file / the marts / Parquet: "
        "full build 0.0 / 2.0 / 1.5 s",
    ]


def test_smoke_floor_did_the_same_work(smoke):
    floor = {stage["name"]: stage for stage in smoke["floor"]["stages"]}
    loaded = smoke["runs"][0]["row_counts"]
    assert list(floor) == ["load", "sessionize", "person_day_activity", "exact_quantiles", "funnel"]
    # The floor keeps the rows the contract rejects; the pipeline loads the others.
    assert 0 < floor["load"]["rows"] - loaded["load"] < 0.01 * floor["load"]["rows"]
    assert smoke["landing_rows"]["events"] > floor["load"]["rows"]


def test_smoke_reports_machine_versions_and_targets(smoke):
    assert smoke["config"]["events"] == 4000
    assert smoke["machine"]["cores"] >= 1
    assert smoke["versions"]["duckdb"] == "2.0.0"
    assert set(smoke["targets"]["met"]) == {
        "full build above a no-op run at most 2x the floor",
        "the full build's dbt stage at most 3x the floor after loading",
        "one new day at most 10% of a full build",
        "a run with nothing new at most 15 s",
        "peak memory at most 12 GiB",
        "each dashboard page <= 1 s of query time",
    }


def test_smoke_times_every_dashboard_page_on_its_publication(smoke):
    assert [page["page"] for page in smoke["dashboard_pages"]] == [title for _, title, _ in PAGES]
    assert all(page["queries"] > 0 for page in smoke["dashboard_pages"])


def test_smoke_writes_what_it_measured_after_each_run(smoke):
    progress = smoke["progress"]
    # The floor runs first, and is written before the full build begins.
    assert progress["full build"]["runs"] == []
    assert progress["full build"]["floor"]["stages"][0]["name"] == "load"
    before_last = progress["nothing new"]
    assert before_last["complete"] is False
    assert before_last["targets"] is None
    assert [r["name"] for r in before_last["runs"]] == ["full build", "one more day"]
    assert before_last["floor"]["stages"][0]["name"] == "load"
    assert smoke["complete"] is True


def test_a_failed_run_ends_the_benchmark(tmp_path, monkeypatch, capsys):
    def failed_build(name, settings, instance, memory, start, end):
        return RunMeasure(name, start, end, success=False, seconds=1.5)

    monkeypatch.setattr(run, "measure_run", failed_build)

    code = main(["--events", "500", "--days", "1", "--work-dir", str(tmp_path)])

    written = json.loads((tmp_path / "results-500.json").read_text())
    assert code == 1
    assert [r["name"] for r in written["runs"]] == ["full build"]
    assert written["complete"] is False
    # Measured before the build, the floor is kept.
    assert written["floor"]["stages"][0]["name"] == "load"
    assert written["targets"] is None
    assert "full build (FAILED)" in capsys.readouterr().out


def test_a_failed_floor_is_reported_and_the_runs_go_on(tmp_path, monkeypatch, capsys):
    def full_disk(*args, **kwargs):
        raise duckdb.IOException("Could not write file floor.duckdb.tmp: No space left on device")

    def failed_build(name, settings, instance, memory, start, end):
        return RunMeasure(name, start, end, success=False, seconds=1.5)

    monkeypatch.setattr(run, "run_floor", full_disk)
    monkeypatch.setattr(run, "measure_run", failed_build)

    main(["--events", "500", "--days", "1", "--work-dir", str(tmp_path)])

    written = json.loads((tmp_path / "results-500.json").read_text())
    assert written["floor"] is None
    assert "No space left on device" in written["floor_error"]
    assert [r["name"] for r in written["runs"]] == ["full build"]
    output = capsys.readouterr().out
    assert "Floor: failed: Could not write file floor.duckdb.tmp: No space left on" in output


def test_sparse_range_spreads_the_files_of_its_days_with_files(tmp_path):
    generated = tmp_path / "generated"
    for day in range(1, 5):
        for dataset in ("events", "metrics"):
            folder = generated / dataset / f"date=2026-10-0{day}"
            folder.mkdir(parents=True)
            (folder / "part-0000.parquet").write_bytes(b"file of " + folder.name.encode())
    config = sparse.SparseConfig(
        events=300,
        days=4,
        range_days=10,
        days_with_files=2,
        seed=1,
        end_date=date(2026, 10, 31),
        work_dir=tmp_path,
        threads=1,
        memory_limit="1GB",
    )

    sparse._spread_days(generated, tmp_path / "landing", config)

    landed = sorted(
        p.relative_to(tmp_path / "landing").as_posix()
        for p in (tmp_path / "landing").rglob("*.parquet")
    )
    assert landed == [
        "events/date=2026-10-22/part-0000.parquet",
        "events/date=2026-10-27/part-0000.parquet",
        "metrics/date=2026-10-22/part-0000.parquet",
        "metrics/date=2026-10-27/part-0000.parquet",
    ]
    assert (tmp_path / "landing/events/date=2026-10-27/part-0000.parquet").read_bytes() == (
        b"file of date=2026-10-03"
    )
