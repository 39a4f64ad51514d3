"""The daily arrival-date partitions shared by the landing assets and the incremental models.

The partitions run from the first landed day, the earliest `date=YYYY-MM-DD` folder of any
dataset in raw_landing/ when the definitions load, to today (UTC), so that the UI offers the days
there are files for. PARTITIONS_START_DATE, when set, is the first partition instead (to offer
days before anything landed). With nothing landed and no setting, the partitions start today: the
day files land next. A code location that is running keeps the partitions it loaded with: files
that land later for an earlier day are offered once it is reloaded.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from dagster import DailyPartitionsDefinition

from orchestration.contract import DATASETS
from orchestration.landing.loader import landed_dates
from orchestration.settings import Settings


def first_landed_day(raw_landing_dir: Path) -> date | None:
    """The earliest arrival day with a folder in raw_landing/, of any dataset; None if none."""
    firsts = [
        days[0] for dataset in DATASETS.values() if (days := landed_dates(raw_landing_dir, dataset))
    ]
    return min(firsts, default=None)


def first_partition_day(settings: Settings) -> date:
    """PARTITIONS_START_DATE when set, else the first landed day, else today (UTC)."""
    if settings.partitions_start_date is not None:
        return settings.partitions_start_date
    return first_landed_day(settings.raw_landing_dir) or datetime.now(UTC).date()


def daily_partitions(settings: Settings) -> DailyPartitionsDefinition:
    # end_offset=1 offers today's partition too: files land all day long.
    return DailyPartitionsDefinition(
        start_date=first_partition_day(settings).isoformat(), end_offset=1
    )
