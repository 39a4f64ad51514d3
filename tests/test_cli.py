"""The `warehouse` command: which arrival days a run covers, and what it says."""

from __future__ import annotations

import dataclasses
import shutil

import duckdb
import pytest

from orchestration.cli import days_to_run, main
from orchestration.contract import EVENTS, METRICS
from orchestration.landing.loader import load_partition
from orchestration.settings import Settings
from tests.landing_files import DAY_1, DAY_2, DAY_3, event, metric, write_landing_file


@pytest.fixture
def settings(tmp_path, raw_landing) -> Settings:
    return dataclasses.replace(
        Settings.from_env(), raw_landing_dir=raw_landing, warehouse_dir=tmp_path / "warehouse"
    )


def test_nothing_landed_means_nothing_to_run(settings):
    assert days_to_run(settings) is None


def test_a_run_covers_every_day_with_files_of_either_dataset(settings, raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m1")])
    write_landing_file(raw_landing, METRICS, DAY_3, "part-0.parquet", [metric("x")])

    assert days_to_run(settings) == (DAY_2, DAY_3)


def test_a_day_loaded_before_whose_files_are_gone_is_run_again(settings, raw_landing):
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])
    write_landing_file(raw_landing, EVENTS, DAY_3, "part-0.parquet", [event("m2")])
    settings.warehouse_dir.mkdir()
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        load_partition(connection, EVENTS, raw_landing, DAY_1)
    shutil.rmtree(raw_landing / "events" / "date=2026-03-01")

    assert days_to_run(settings) == (DAY_1, DAY_3)


def test_run_without_landed_files_says_how_to_get_some(monkeypatch, settings, capsys):
    monkeypatch.setenv("RAW_LANDING_DIR", str(settings.raw_landing_dir))
    monkeypatch.setenv("WAREHOUSE_DIR", str(settings.warehouse_dir))

    assert main(["run"]) == 1
    assert "generate a sample with `warehouse-generate`" in capsys.readouterr().err
