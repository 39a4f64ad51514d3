"""Files that no partition loads are named with why, and never stop the files that do load."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.automation import landed_files
from orchestration.cli import days_to_run
from orchestration.contract import EVENTS
from orchestration.landing import loader
from orchestration.settings import Settings
from tests.landing_files import DAY_1, DAY_2, event, write_landing_file


def land_at(raw_landing: Path, relative: str) -> Path:
    """A valid events file at `relative` (to raw_landing/), wherever that is."""
    path = raw_landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist([event("stray")], schema=EVENTS.arrow_schema()), path)
    return path


STRAYS = [
    (
        "events/date=2026-13-45/part-0.parquet",
        "folder date=2026-13-45: 2026-13-45 is not a valid YYYY-MM-DD date",
    ),
    (
        "events/date=20260301/part-0.parquet",
        "folder date=20260301: 20260301 is not a valid YYYY-MM-DD date",
    ),
    ("events/2026-03-01/part-0.parquet", "folder 2026-03-01 is not named date=YYYY-MM-DD"),
    ("events/part-0.parquet", "not in a date=YYYY-MM-DD folder"),
    (
        "events/date=2026-03-01/retry/part-0.parquet",
        "in a subfolder of date=2026-03-01: only files directly in it load",
    ),
    ("events/date=2026-03-01/part-1.csv", "not a .parquet file"),
]


@pytest.mark.parametrize(("path", "reason"), STRAYS)
def test_a_file_in_no_partition_is_named_with_why_and_the_day_beside_it_loads(
    warehouse, raw_landing, path, reason
):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    land_at(raw_landing, path)

    strays = loader.stray_files(raw_landing, EVENTS)
    day = loader.load_partition(warehouse, EVENTS, raw_landing, DAY_1)

    assert strays == [loader.StrayFile(path, reason)]
    assert (day.rows_read, day.rows_loaded) == (1, 1)
    assert warehouse.execute("select file_path from raw.load_manifest").fetchall() == [
        ("events/date=2026-03-01/part-0.parquet",)
    ]


def test_every_file_of_a_misnamed_folder_is_named(raw_landing):
    for path in ("2026-03-01/b.parquet", "2026-03-01/a.parquet", "2026-03-01/late/c.parquet"):
        land_at(raw_landing, f"events/{path}")

    assert loader.stray_files(raw_landing, EVENTS) == [
        loader.StrayFile(
            f"events/2026-03-01/{name}", "folder 2026-03-01 is not named date=YYYY-MM-DD"
        )
        for name in ("a.parquet", "b.parquet", "late/c.parquet")
    ]


def test_hidden_files_and_folders_are_not_deliveries(raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    for path in (
        "events/date=2026-03-01/.part-1.parquet.inprogress",
        "events/date=2026-03-01/_SUCCESS",
        "events/_temporary/0/part-0.parquet",
        "events/.DS_Store",
        "events/2026-03-01/.part-0.parquet.crc",
    ):
        land_at(raw_landing, path)

    assert loader.stray_files(raw_landing, EVENTS) == []


def test_the_other_dataset_and_a_missing_folder_have_no_stray_files(raw_landing):
    land_at(raw_landing, "metrics/part-0.parquet")

    assert loader.stray_files(raw_landing, EVENTS) == []


def test_only_folders_named_as_the_loader_reads_them_are_landed_dates(raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m1")])
    for path, _ in STRAYS:
        land_at(raw_landing, path)
    land_at(raw_landing, "events/date=2026-3-4/part-0.parquet")

    assert loader.landed_dates(raw_landing, EVENTS) == [DAY_1, DAY_2]
    # date=2026-03-01 holds no Parquet file of its own, only a stray subfolder and a CSV.
    assert loader.landing_files(raw_landing, EVENTS, DAY_1) == []


def test_the_sensor_and_the_run_range_see_only_loadable_days(tmp_path, raw_landing):
    settings = dataclasses.replace(
        Settings.from_env(), raw_landing_dir=raw_landing, warehouse_dir=tmp_path / "warehouse"
    )
    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m1")])
    for path, _ in STRAYS:
        if "date=2026-03-01/" not in path:
            land_at(raw_landing, path)

    assert list(landed_files(settings)) == [DAY_2.isoformat()]
    assert days_to_run(settings) == (DAY_2, DAY_2)
