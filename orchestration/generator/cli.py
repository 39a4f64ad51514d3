"""`warehouse-generate`: write a sample landing of events and metrics."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from tqdm import tqdm

from orchestration.generator.config import GeneratorConfig, yesterday_utc
from orchestration.generator.generate import generate
from orchestration.settings import Settings

DEFAULTS = GeneratorConfig(out=Path())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warehouse-generate",
        description=(
            "Write sample product events and metrics as contract-conformant Parquet into "
            "<out>/<dataset>/date=YYYY-MM-DD/part-NNNN.parquet, partitioned by arrival date. "
            "The same arguments always write the same files."
        ),
    )
    parser.add_argument(
        "--days", type=int, default=DEFAULTS.days, help="days of traffic (default: %(default)s)"
    )
    parser.add_argument(
        "--events",
        type=int,
        default=DEFAULTS.events,
        help="distinct events, redeliveries on top (default: %(default)s)",
    )
    parser.add_argument(
        "--metrics", type=int, default=None, help="distinct metric points (default: events / 5)"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULTS.seed, help="random seed (default: %(default)s)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="landing folder (default: RAW_LANDING_DIR or raw_landing/ of the project)",
    )
    parser.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=None,
        help="last day events happen on, YYYY-MM-DD (default: yesterday, UTC)",
    )
    parser.add_argument(
        "--files-per-day",
        type=int,
        default=DEFAULTS.files_per_day,
        help="files per dataset and arrival date (default: %(default)s)",
    )
    rates = parser.add_argument_group("messiness (shares between 0 and 1)")
    rates.add_argument(
        "--duplicate-rate",
        type=float,
        default=DEFAULTS.duplicate_rate,
        help="messages delivered twice: same id and content, later received_at "
        "(default: %(default)s)",
    )
    rates.add_argument(
        "--late-rate",
        type=float,
        default=DEFAULTS.late_rate,
        help="sessions sent 1-5 days late by an offline device (default: %(default)s)",
    )
    rates.add_argument(
        "--skew-rate",
        type=float,
        default=DEFAULTS.skew_rate,
        help="sessions from a device whose clock is off, timestamp and sent_at shifted alike "
        "(default: %(default)s)",
    )
    rates.add_argument(
        "--no-session-id-rate",
        type=float,
        default=DEFAULTS.no_session_id_rate,
        help="sessions sent without a session_id (default: %(default)s)",
    )
    rates.add_argument(
        "--bot-rate",
        type=float,
        default=DEFAULTS.bot_rate,
        help="events from crawlers (default: %(default)s)",
    )
    rates.add_argument(
        "--invalid-rate",
        type=float,
        default=DEFAULTS.invalid_rate,
        help="rows that break the contract's value rules (default: %(default)s)",
    )
    parser.add_argument(
        "--clean", action="store_true", help="remove the events and metrics folders first"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = GeneratorConfig(
            out=args.out or Settings.from_env().raw_landing_dir,
            days=args.days,
            events=args.events,
            metrics=args.metrics,
            seed=args.seed,
            end_date=args.end_date or yesterday_utc(),
            files_per_day=args.files_per_day,
            duplicate_rate=args.duplicate_rate,
            late_rate=args.late_rate,
            skew_rate=args.skew_rate,
            no_session_id_rate=args.no_session_id_rate,
            bot_rate=args.bot_rate,
            invalid_rate=args.invalid_rate,
            clean=args.clean,
        )
    except ValueError as error:
        print(f"warehouse-generate: {error}", file=sys.stderr)
        return 2
    with tqdm(
        total=config.events + config.metric_points, unit="rows", unit_scale=True, disable=None
    ) as bar:
        summary = generate(config, progress=bar.update)
    print(summary.describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
