"""The blocking checks catch a landing table changed by hand between two runs, in a partition the
second run did not load, and re-read nothing when nothing changed.

Each test loads day 1 (m1, m2, m3) and day 2 (m4) in two runs whose checks pass, changes
raw.events by hand, and runs day 2 again: its files are unchanged, so nothing is loaded.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from orchestration.contract import EVENTS
from orchestration.landing import fingerprints
from orchestration.settings import Settings
from tests.landing.test_checks import run_landing
from tests.landing_files import DAY_1, DAY_2, DAY_3, event, write_landing_file


@pytest.fixture
def settings(tmp_path: Path, raw_landing: Path) -> Settings:
    settings = dataclasses.replace(
        Settings.from_env(), raw_landing_dir=raw_landing, warehouse_dir=tmp_path / "warehouse"
    )
    day_1 = [event("m1"), event("m2"), event("m3")]
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", day_1)
    write_landing_file(raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m4")])
    for day in (DAY_1, DAY_2):
        assert run_landing(settings, day.isoformat()).success
    return settings


def change_by_hand(settings: Settings, sql: str) -> None:
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute(sql)


def nothing_new_run(settings: Settings) -> dict[str, tuple[bool, str, dict]]:
    """Each check of a run of day 2 again: passed, description, metadata."""
    result = run_landing(settings, DAY_2.isoformat())
    return {
        e.check_name: (e.passed, e.description, {k: v.value for k, v in e.metadata.items()})
        for e in result.get_asset_check_evaluations()
    }


def test_a_clean_nothing_new_run_passes_and_rehashes_no_partition(settings):
    checks = nothing_new_run(settings)

    assert checks["unique_key"][0] is True
    passed, description, metadata = checks["unchanged_since_load"]
    assert passed is True
    assert description == "every partition holds the rows its load wrote"
    assert (metadata["partitions_rehashed"], metadata["partitions_unread"]) == (0, 2)


def test_a_row_deleted_from_an_old_partition_is_named_with_the_counts(settings):
    # The current checks caught this too: the manifest counts no longer match the file's rows.
    change_by_hand(settings, "delete from raw.events where message_id = 'm2'")

    checks = nothing_new_run(settings)

    assert checks["unchanged_since_load"][:2] == (
        False,
        "raw.events 2026-03-01: 3 rows when loaded, 2 now",
    )
    assert checks["reconciles_with_manifest"][0] is False


def test_a_value_updated_in_an_old_partition_is_named(settings):
    # The count is unchanged: the current checks passed this.
    change_by_hand(settings, "update raw.events set page_path = '/edited' where message_id = 'm2'")

    checks = nothing_new_run(settings)

    assert checks["unchanged_since_load"][:2] == (
        False,
        "raw.events 2026-03-01: the 3 rows it was loaded with, but values in them differ from "
        "what the load wrote",
    )
    assert checks["reconciles_with_manifest"][0] is True


def test_a_duplicate_key_inserted_into_an_old_partition_is_named(settings):
    # The current unique_key check caught this too, reading every key of the table.
    change_by_hand(
        settings,
        "insert into raw.events select * replace (date '2026-03-01' as _landing_date) "
        "from raw.events where message_id = 'm4'",
    )

    checks = nothing_new_run(settings)

    assert checks["unchanged_since_load"][:2] == (
        False,
        "raw.events 2026-03-01: 3 rows when loaded, 4 now",
    )
    passed, _, metadata = checks["unique_key"]
    assert passed is False
    assert metadata["examples"] == "raw.events (acme, m4): 2 rows, in 2026-03-01, 2026-03-02"


def test_a_row_moved_to_another_partition_is_named_in_both(settings):
    # Its file and key are unchanged: the current checks passed this.
    change_by_hand(
        settings,
        "update raw.events set _landing_date = date '2026-03-02' where message_id = 'm3'",
    )

    checks = nothing_new_run(settings)

    assert checks["unchanged_since_load"][:2] == (
        False,
        "raw.events 2026-03-01: 3 rows when loaded, 2 now; "
        "raw.events 2026-03-02: 1 rows when loaded, 2 now",
    )
    assert checks["unique_key"][0] is True
    assert checks["reconciles_with_manifest"][0] is True


def test_a_change_found_once_is_found_again_on_the_next_run(settings):
    change_by_hand(settings, "update raw.events set city = 'Elsewhere' where message_id = 'm1'")
    nothing_new_run(settings)

    assert nothing_new_run(settings)["unchanged_since_load"][0] is False


def test_rows_taken_off_the_manifest_with_the_table_pass_and_are_fingerprinted_again(settings):
    # What forgetting a person does, in one transaction: the rows and their manifest counts.
    change_by_hand(
        settings,
        """
        delete from raw.events where message_id = 'm2';
        update raw.load_manifest set rows_read = rows_read - 1, rows_loaded = rows_loaded - 1,
            file_sha256 = 'rewritten' where landing_date = date '2026-03-01';
        """,
    )

    assert nothing_new_run(settings)["unchanged_since_load"][0] is True
    _, _, metadata = nothing_new_run(settings)["unchanged_since_load"]
    assert metadata["partitions_rehashed"] == 0


def test_repeated_keys_are_those_of_the_partitions_held_by_another_row_too():
    connection = duckdb.connect()
    connection.execute("create schema raw")
    connection.execute(
        "create table raw.events (tenant_id varchar, message_id varchar, _landing_date date)"
    )
    connection.execute(
        """
        insert into raw.events values
            ('acme', 'm1', date '2026-03-01'), ('acme', 'm1', date '2026-03-02'),
            ('acme', 'm2', date '2026-03-01'), ('nimbus', 'm2', date '2026-03-02'),
            ('acme', 'm3', date '2026-03-02'), ('acme', 'm3', date '2026-03-02'),
            ('acme', 'm4', date '2026-03-03'), ('acme', 'm4', date '2026-03-03')
        """
    )
    m1 = "raw.events (acme, m1): 2 rows, in 2026-03-01, 2026-03-02"
    m3 = "raw.events (acme, m3): 2 rows, in 2026-03-02"
    m4 = "raw.events (acme, m4): 2 rows, in 2026-03-03"

    assert fingerprints._repeated_keys(connection, EVENTS, {DAY_1}) == [m1]
    assert fingerprints._repeated_keys(connection, EVENTS, {DAY_2}) == [m1, m3]
    every_day = {DAY_1, DAY_2, DAY_3}
    assert fingerprints._repeated_keys(connection, EVENTS, every_day, every_partition=True) == [
        m1,
        m3,
        m4,
    ]
    assert fingerprints._repeated_keys(connection, EVENTS, every_day) == [m1, m3, m4]
    assert fingerprints._repeated_keys(connection, EVENTS, set()) == []
