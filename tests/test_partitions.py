"""The daily partitions start at the first landed day, unless PARTITIONS_START_DATE says."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from dagster import AssetKey

from orchestration.contract import EVENTS, METRICS
from orchestration.definitions import build_definitions
from orchestration.partitions import daily_partitions, first_landed_day
from orchestration.settings import Settings
from tests.landing_files import DAY_1, DAY_2, DAY_3, event, metric, write_landing_file


@pytest.fixture
def settings(tmp_path, raw_landing) -> Settings:
    return dataclasses.replace(
        Settings.from_env(),
        raw_landing_dir=raw_landing,
        warehouse_dir=tmp_path / "warehouse",
        partitions_start_date=None,
    )


def first_key(settings: Settings) -> str:
    return daily_partitions(settings).get_first_partition_key()


def test_the_first_partition_is_the_first_landed_day_of_any_dataset(settings, raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_3, "part-0.parquet", [event("m1")])
    write_landing_file(raw_landing, METRICS, DAY_2, "part-0.parquet", [metric("x")])

    assert first_key(settings) == "2026-03-02"


def test_the_partitions_are_the_landed_days_through_today(settings, raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m1")])
    today = datetime.now(UTC).date()

    keys = daily_partitions(settings).get_partition_keys()

    assert keys[0] == "2026-03-02"
    assert keys[-1] == today.isoformat()
    assert len(keys) == (today - DAY_2).days + 1


def test_folders_that_name_no_day_do_not_move_the_first_partition(settings, raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m1")])
    (raw_landing / "events" / "date=2026-3-1").mkdir()
    (raw_landing / "events" / "2026-02-01").mkdir()
    (raw_landing / "metrics").mkdir()

    assert first_landed_day(raw_landing) == DAY_2


def test_partitions_start_date_set_on_purpose_wins(settings, raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_3, "part-0.parquet", [event("m1")])

    assert first_key(dataclasses.replace(settings, partitions_start_date=DAY_1)) == "2026-03-01"


def test_with_nothing_landed_the_partitions_start_today(settings):
    today = datetime.now(UTC).date().isoformat()

    assert daily_partitions(settings).get_partition_keys() == [today]


def test_the_code_location_offers_the_landed_days(settings, raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m1")])

    graph = build_definitions(settings).resolve_asset_graph()

    for name in ("events", "metrics"):
        partitions = graph.get(AssetKey(["raw", name])).partitions_def
        assert partitions.get_first_partition_key() == "2026-03-02"
