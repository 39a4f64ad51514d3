"""`warehouse-benchmark`: the pipeline end to end on generated data, against a bare-DuckDB floor.

warehouse-benchmark                       10M events over 30 days (the default)
warehouse-benchmark --events 1M
warehouse-benchmark --events 100M --json results-100m.json
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

from orchestration.benchmark.report import render
from orchestration.benchmark.run import BenchmarkConfig, run_benchmark
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
        "--events", type=count, default=10_000_000, help="events of the full build (default 10M)"
    )
    parser.add_argument("--days", type=int, default=30, help="days of the full build (default 30)")
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
        help="skip the bare-DuckDB floor (it writes a second copy of the events: at 100M, "
        "about as much disk again as the warehouse)",
    )
    parser.add_argument(
        "--json", type=Path, help="where to write the result (default: <work-dir>/results-N.json)"
    )
    args = parser.parse_args(argv)
    if args.events < 1 or args.days < 1:
        parser.error("--events and --days must be positive")

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


if __name__ == "__main__":
    sys.exit(main())
