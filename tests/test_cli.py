"""The `warehouse` command: which arrival days a run covers, and what it says."""

from __future__ import annotations

import dataclasses
import shutil

import duckdb
import pytest

from orchestration.cli import days_to_run, main
from orchestration.contract import EVENTS, METRICS
from orchestration.history_import import DumpFormat
from orchestration.landing.loader import load_partition
from orchestration.settings import Settings
from tests.landing_files import DAY_1, DAY_2, DAY_3, event, metric, write_landing_file
from tests.test_history_import import write_dump


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


@pytest.fixture
def environment(monkeypatch, settings, tmp_path):
    """The command line pointed at `settings` and an instance of its own."""
    monkeypatch.setenv("RAW_LANDING_DIR", str(settings.raw_landing_dir))
    monkeypatch.setenv("WAREHOUSE_DIR", str(settings.warehouse_dir))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.delenv("PARTITIONS_START_DATE", raising=False)
    (tmp_path / "dagster_home").mkdir()


def test_run_without_landed_files_says_how_to_get_some(environment, capsys):

    assert main(["run"]) == 1
    assert "generate a sample with `warehouse-generate`" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("landed", "arguments", "message"),
    [
        (
            DAY_1,
            [],
            "Cannot run arrival days 2026-03-01 to 2026-03-01: 2026-03-01 is before the first "
            "partition, PARTITIONS_START_DATE 2026-03-02. Set PARTITIONS_START_DATE=2026-03-01 "
            "(or earlier) to load it.",
        ),
        (
            DAY_2,
            ["--end", "2999-01-01"],
            "Cannot run arrival days 2026-03-02 to 2999-01-01: 2999-01-01 is after today (",
        ),
        (
            DAY_2,
            ["--start", "2026-03-03", "--end", "2026-03-02"],
            "Cannot run arrival days 2026-03-03 to 2026-03-02: the first day is after the last.",
        ),
    ],
    ids=["before-the-partitions", "after-today", "reversed"],
)
def test_days_outside_the_partitions_get_a_clear_error_and_no_run(
    environment, monkeypatch, raw_landing, capsys, landed, arguments, message
):
    monkeypatch.setenv("PARTITIONS_START_DATE", DAY_2.isoformat())
    write_landing_file(raw_landing, EVENTS, landed, "part-0.parquet", [event("m1")])

    assert main(["run", *arguments]) == 2
    assert capsys.readouterr().err.startswith(message)


def test_an_import_before_the_first_landed_day_says_a_running_ui_needs_a_reload(
    environment, raw_landing, tmp_path, capsys
):
    write_landing_file(raw_landing, EVENTS, DAY_3, "part-0.parquet", [event("m1")])
    dump = write_dump(tmp_path / "old.ndjson", DumpFormat.NDJSON)

    assert main(["import", str(dump)]) == 0
    assert (
        "The dump reaches back to 2026-03-01, before the first partition until now, 2026-03-03 "
        "(the first landed day): `warehouse run` loads it; a Dagster UI that is running offers "
        "those days once its code location is reloaded (Deployment > Code locations > Reload).\n"
    ) in capsys.readouterr().out


def test_an_import_before_partitions_start_date_says_to_move_it(
    environment, monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("PARTITIONS_START_DATE", DAY_2.isoformat())
    dump = write_dump(tmp_path / "old.ndjson", DumpFormat.NDJSON)

    assert main(["import", str(dump)]) == 0
    assert (
        "The dump reaches back to 2026-03-01, before the first partition, PARTITIONS_START_DATE "
        "2026-03-02: set PARTITIONS_START_DATE=2026-03-01 (or earlier) to load it.\n"
    ) in capsys.readouterr().out
