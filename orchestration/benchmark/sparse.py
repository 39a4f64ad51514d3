"""The sparse benchmark: what a run costs per arrival day, when the days hold few events.

Two runs, each on a warehouse and a Dagster instance of its own:
- **sparse history**: N events generated over D days, and one run over the D days, as a new
  user importing a sparse history would run it;
- **mostly empty range**: the files of K of those days, spread over a range of R days (the
  other R - K days have no folder), and one run over the R days.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from orchestration.benchmark.memory import PeakMemory
from orchestration.benchmark.pipeline import RunMeasure, measure_run
from orchestration.benchmark.run import _generate, _instance, _landing_rows, _read_through
from orchestration.contract import DATASETS
from orchestration.generator.config import GeneratorConfig
from orchestration.settings import PROJECT_ROOT, Settings
from orchestration.transform import dbt_project

SPARSE_HISTORY = "sparse history"
MOSTLY_EMPTY_RANGE = "mostly empty range"


@dataclass(frozen=True)
class SparseConfig:
    events: int
    days: int
    """Arrival days of the sparse history, each with files."""
    range_days: int
    """Arrival days of the mostly empty range."""
    days_with_files: int
    """Days of the mostly empty range that have files."""
    seed: int
    end_date: date
    work_dir: Path
    threads: int
    memory_limit: str

    @property
    def generator(self) -> GeneratorConfig:
        return GeneratorConfig(
            out=self.work_dir / "data" / f"sparse-{self.events}-days-{self.days}-seed-{self.seed}",
            days=self.days,
            events=self.events,
            seed=self.seed,
            end_date=self.end_date,
        )

    @property
    def range_start(self) -> date:
        return self.end_date - timedelta(days=self.range_days - 1)


@dataclass
class SparseResult:
    config: dict[str, object]
    machine: dict[str, object]
    versions: dict[str, str]
    commit: str | None
    landing_rows: dict[str, int]
    """Rows of the sparse history's files."""
    files: dict[str, int]
    """Landing files of each run."""
    runs: list[RunMeasure]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str)


def _spread_days(source: Path, landing: Path, config: SparseConfig) -> None:
    """Put the files of `days_with_files` generated days into the landing, one every
    range_days / days_with_files days of the range, as hard links (else copies)."""
    generated = sorted({p.parent.name for p in source.glob("*/date=*/*.parquet")})
    step = max(config.range_days // config.days_with_files, 1)
    picked = generated[:: max(len(generated) // config.days_with_files, 1)]
    for n, folder in enumerate(picked[: config.days_with_files]):
        day = config.range_start + timedelta(days=n * step)
        for dataset in DATASETS:
            target = landing / dataset / f"date={day.isoformat()}"
            for path in (source / dataset / folder).glob("*.parquet"):
                target.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(path, target / path.name)
                except OSError:
                    shutil.copy2(path, target / path.name)


def run_sparse_benchmark(config: SparseConfig, *, log=print) -> SparseResult:
    from orchestration.benchmark.machine import commit, machine, versions

    machine_before = machine()
    generator = config.generator
    log(f"Generating {generator.events:,} events over {generator.days} days ...")
    if _generate(generator) is None:
        log(f"  reusing the landing in {generator.out}")
    _read_through(generator.out)
    spread = config.work_dir / "sparse" / "spread_landing"
    shutil.rmtree(spread, ignore_errors=True)
    _spread_days(generator.out, spread, config)
    os.environ["DUCKDB_MEMORY_LIMIT"] = config.memory_limit
    result = SparseResult(
        config={
            "events": config.events,
            "days": config.days,
            "range_days": config.range_days,
            "days_with_files": config.days_with_files,
            "seed": config.seed,
            "end_date": config.end_date,
            "duckdb_threads": config.threads,
            "duckdb_memory_limit": config.memory_limit,
            "work_dir": str(config.work_dir),
        },
        machine=machine_before,
        versions=versions(),
        commit=commit(PROJECT_ROOT),
        landing_rows=_landing_rows(generator.out),
        files={},
        runs=[],
    )
    history_start = config.end_date - timedelta(days=config.days - 1)
    runs = (
        (SPARSE_HISTORY, generator.out, history_start),
        (MOSTLY_EMPTY_RANGE, spread, config.range_start),
    )
    defaults = Settings.from_env()
    with PeakMemory() as memory:
        for name, landing, start in runs:
            work = config.work_dir / "sparse" / name.replace(" ", "_")
            shutil.rmtree(work / "warehouse", ignore_errors=True)
            settings = replace(
                defaults,
                raw_landing_dir=landing.resolve(),
                warehouse_dir=(work / "warehouse").resolve(),
                # The mostly empty range starts before its first landed day.
                partitions_start_date=start,
                duckdb_threads=config.threads,
                duckdb_memory_limit=config.memory_limit,
            )
            # Parsing the dbt project happens once per change of it, not per run: untimed.
            dbt_project(settings.dbt_project_dir)
            result.files[name] = sum(1 for _ in landing.glob("*/date=*/*.parquet"))
            log(f"{name}: arrival days {start} to {config.end_date}, {result.files[name]} files")
            run = measure_run(
                name, settings, _instance(work / "dagster_home"), memory, start, config.end_date
            )
            result.runs.append(run)
            log(f"  {run.seconds:.1f} s{'' if run.success else ' (FAILED)'}")
            if not run.success:
                break
    return result
