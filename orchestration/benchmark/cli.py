"""`warehouse-benchmark`: the pipeline end to end on generated data, against a bare-DuckDB floor.

warehouse-benchmark                       10M events over 30 days (the default)
warehouse-benchmark --events 1M
warehouse-benchmark --events 100M --json results-100m.json
warehouse-benchmark --sparse              4,000 events over 200 days, and 10 days of files in 300
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

from orchestration.benchmark.report import render, render_sparse
from orchestration.benchmark.run import BenchmarkConfig, run_benchmark
from orchestration.benchmark.sparse import SparseConfig, run_sparse_benchmark
from orchestration.settings import PROJECT_ROOT

_SUFFIXES = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}


def count(text: str) -> int:
    """`10M`, `1m`, `250k` or `1_000_000`."""
    text = text.strip().lower().replace("_", "")
    try:
        if text and text[-1] in _SUFFIXES:
            return round(float(text[:-1]) * _SUFFIXES[text[-1]])
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a count of events: {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="warehouse-benchmark",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.split("\n")[2:]),
    )
    parser.add_argument(
        "--events",
        type=count,
        help="events of the full build (default 10M; with --sparse, 4,000)",
    )
    parser.add_argument(
        "--days", type=int, help="days of the full build (default 30; with --sparse, 200)"
    )
    parser.add_argument(
        "--sparse",
        action="store_true",
        help="measure the cost per arrival day instead: one run over --days days holding "
        "--events events, and one over --range-days days of which --days-with-files have files",
    )
    parser.add_argument(
        "--range-days",
        type=int,
        default=300,
        help="with --sparse: days of the mostly empty range (default 300)",
    )
    parser.add_argument(
        "--days-with-files",
        type=int,
        default=10,
        help="with --sparse: days of the mostly empty range that have files (default 10)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=date(2026, 10, 31),
        help="the extra day added after the full build (default 2026-10-31, so that reruns "
        "reuse the generated landing)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=PROJECT_ROOT / "benchmark_data",
        help="generated landings, the warehouse and the results (default: benchmark_data/)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("DUCKDB_THREADS", str(os.cpu_count() or 2))),
        help="DuckDB threads for the loader and the floor; dbt's DuckDB uses every core "
        "(default: DUCKDB_THREADS or cores)",
    )
    parser.add_argument(
        "--memory-limit",
        default=os.environ.get("DUCKDB_MEMORY_LIMIT", "8GB"),
        help="DuckDB memory_limit for the pipeline and the floor (default: DUCKDB_MEMORY_LIMIT "
        "or 8GB)",
    )
    parser.add_argument(
        "--no-floor",
        action="store_true",
        help="skip the bare-DuckDB floor (it writes a second copy of the events and spills: at "
        "100M events it took more than 20 GB of disk)",
    )
    parser.add_argument(
        "--json", type=Path, help="where to write the result (default: <work-dir>/results-N.json)"
    )
    args = parser.parse_args(argv)
    args.events = args.events or (4_000 if args.sparse else 10_000_000)
    args.days = args.days or (200 if args.sparse else 30)
    if args.events < 1 or args.days < 1:
        parser.error("--events and --days must be positive")
    if args.sparse:
        return _sparse(args, parser)

    config = BenchmarkConfig(
        events=args.events,
        days=args.days,
        seed=args.seed,
        end_date=args.end_date,
        work_dir=args.work_dir.resolve(),
        threads=args.threads,
        memory_limit=args.memory_limit,
        floor=not args.no_floor,
    )
    config.work_dir.mkdir(parents=True, exist_ok=True)
    json_path = args.json or config.work_dir / f"results-{args.events}.json"
    result = run_benchmark(
        config, log=lambda message: print(message, flush=True), progress_path=json_path
    )
    json_path.write_text(result.to_json() + "\n")
    print()
    print(render(result))
    print(f"\nResult written to {json_path}")
    return 0 if all(run.success for run in result.runs) else 1


def _sparse(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if not 1 <= args.days_with_files <= min(args.days, args.range_days):
        parser.error("--days-with-files must be between 1 and --days and --range-days")
    config = SparseConfig(
        events=args.events,
        days=args.days,
        range_days=args.range_days,
        days_with_files=args.days_with_files,
        seed=args.seed,
        end_date=args.end_date,
        work_dir=args.work_dir.resolve(),
        threads=args.threads,
        memory_limit=args.memory_limit,
    )
    config.work_dir.mkdir(parents=True, exist_ok=True)
    json_path = args.json or config.work_dir / f"results-sparse-{args.events}-{args.days}.json"
    result = run_sparse_benchmark(config, log=lambda message: print(message, flush=True))
    json_path.write_text(result.to_json() + "\n")
    print()
    print(render_sparse(result))
    print(f"\nResult written to {json_path}")
    return 0 if all(run.success for run in result.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
