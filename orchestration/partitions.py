"""The daily arrival-date partitions shared by the landing assets and the incremental models."""

from __future__ import annotations

from dagster import DailyPartitionsDefinition

from orchestration.settings import Settings


def daily_partitions(settings: Settings) -> DailyPartitionsDefinition:
    # end_offset=1 offers today's partition too: files land all day long.
    return DailyPartitionsDefinition(
        start_date=settings.partitions_start_date.isoformat(), end_offset=1
    )
