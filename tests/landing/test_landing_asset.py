"""The landing asset over a range of days: one run, each partition's materialization showing its
own load."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize

from orchestration.contract import DATASETS, EVENTS
from orchestration.landing.assets import build_landing_asset
from orchestration.resources import warehouse_resource
from orchestration.settings import Settings
from tests.landing_files import DAY_1, DAY_3, event, write_landing_file


@pytest.fixture
def settings(tmp_path: Path, raw_landing: Path) -> Settings:
    return dataclasses.replace(
        Settings.from_env(), raw_landing_dir=raw_landing, warehouse_dir=tmp_path / "warehouse"
    )


def test_each_partition_of_a_range_shows_its_own_load(settings, raw_landing):
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [event("m1"), event("m1"), event("m2", event_type="click")],
    )
    write_landing_file(
        raw_landing, EVENTS, DAY_3, "part-0.parquet", [event("m3", user_agent="curl/8.4.0")]
    )
    instance = DagsterInstance.ephemeral()

    result = materialize(
        [build_landing_asset(DATASETS["events"], settings)],
        resources={"warehouse": warehouse_resource(settings)},
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": DAY_1.isoformat(),
            "dagster/asset_partition_range_end": DAY_3.isoformat(),
        },
    )

    by_day = {
        m.partition: {key: value.value for key, value in m.metadata.items()}
        for m in result.asset_materializations_for_node("raw__events")
    }
    assert list(by_day) == ["2026-03-01", "2026-03-02", "2026-03-03"]
    counts = ("files", "rows_read", "rows_loaded", "rows_rejected", "rows_duplicate")
    assert [tuple(by_day[day][key] for key in counts) for day in by_day] == [
        (1, 3, 1, 1, 1),
        (0, 0, 0, 0, 0),
        (1, 1, 1, 0, 0),
    ]
    assert "event_type: 'click' is not one of" in by_day["2026-03-01"]["rejected_row_examples"]
    assert by_day["2026-03-03"]["rejected_row_examples"] == "none"
    assert [r.data["file_path"] for r in by_day["2026-03-03"]["load_manifest"].records] == [
        "events/date=2026-03-03/part-0.parquet"
    ]
    # Each partition's row count is its own day's rows in the table; what the run did as a
    # whole, and the table's size, is on every partition's materialization.
    assert {day: metadata["dagster/row_count"] for day, metadata in by_day.items()} == {
        "2026-03-01": 1,
        "2026-03-02": 0,
        "2026-03-03": 1,
    }
    assert {metadata["table_rows"] for metadata in by_day.values()} == {2}
    assert {metadata["user_agents_parsed"] for metadata in by_day.values()} == {1}
    assert by_day["2026-03-02"]["partitions_without_files"] == 1
    assert len(by_day["2026-03-02"]["preview"].records) == 2
    messages = [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if entry.level == logging.INFO and entry.step_key == "raw__events"
    ]
    assert (
        "events 2026-03-01: 1 files, 3 rows read, 1 loaded, 1 rejected, 1 duplicates\n"
        "events 2026-03-03: 1 files, 1 rows read, 1 loaded, 0 rejected, 0 duplicates\n"
        "events: 1 new user agents parsed"
    ) in messages
    assert "events: no files on 1 of the days, and none loaded before: nothing to do" in messages


def test_the_preview_shows_the_first_loaded_rows_in_file_and_row_order(settings, raw_landing):
    # Files whose rows were all rejected hold none of the table's rows, as many as the preview
    # has rows: it starts with the next file.
    for part in range(5):
        write_landing_file(
            raw_landing,
            EVENTS,
            DAY_1,
            f"part-{part}.parquet",
            [event(f"bad{part}", event_type="click")],
        )
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-5.parquet", [event("a1"), event("a2")])
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_3,
        "part-0.parquet",
        [event("c1"), event("c2"), event("c3"), event("c4")],
    )

    result = materialize(
        [build_landing_asset(DATASETS["events"], settings)],
        resources={"warehouse": warehouse_resource(settings)},
        instance=DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": DAY_1.isoformat(),
            "dagster/asset_partition_range_end": DAY_3.isoformat(),
        },
    )

    (preview,) = {
        tuple((r.data["_source_file"], r.data["message_id"]) for r in m.metadata["preview"].records)
        for m in result.asset_materializations_for_node("raw__events")
    }
    assert preview == (
        ("events/date=2026-03-01/part-5.parquet", "a1"),
        ("events/date=2026-03-01/part-5.parquet", "a2"),
        ("events/date=2026-03-03/part-0.parquet", "c1"),
        ("events/date=2026-03-03/part-0.parquet", "c2"),
        ("events/date=2026-03-03/part-0.parquet", "c3"),
    )
