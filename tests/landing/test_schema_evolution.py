"""A contract that gains an optional column: the tables loaded before follow it on the next load.

Every other change of a declared table (a changed type, a removed column, a new required column)
stops the load, saying what differs and what to do, before anything is changed.
"""

from __future__ import annotations

import dataclasses

import duckdb
import pytest

from orchestration import audit, sql
from orchestration.checks import table_schema_differences
from orchestration.contract import DATASETS, EVENTS, Column, ColumnType, Dataset
from orchestration.landing import tables
from orchestration.landing.loader import load_partition
from tests.landing_files import DAY_1, DAY_2, event, write_landing_file

CAMPAIGN = Column("campaign_id", ColumnType.STRING, False, "Campaign that brought the visitor.")


@pytest.fixture
def loaded(warehouse, raw_landing) -> duckdb.DuckDBPyConnection:
    """A warehouse that loaded a day under the contract as it is: a kept row, a duplicate and
    a rejected row."""
    write_landing_file(
        raw_landing,
        EVENTS,
        DAY_1,
        "part-0.parquet",
        [event("m1"), event("m1"), event("bad", event_type="click")],
    )
    load_partition(warehouse, EVENTS, raw_landing, DAY_1)
    return warehouse


def evolve(monkeypatch, dataset: Dataset, columns: tuple[Column, ...]) -> Dataset:
    """The contract from now on: `dataset` with `columns`, wherever the code looks it up."""
    evolved = dataclasses.replace(dataset, columns=columns)
    monkeypatch.setitem(DATASETS, dataset.name, evolved)
    return evolved


def retyped(dataset: Dataset, name: str, column_type: ColumnType) -> tuple[Column, ...]:
    return tuple(
        dataclasses.replace(c, type=column_type) if c.name == name else c for c in dataset.columns
    )


def test_rows_loaded_before_get_null_and_new_files_load_the_new_column(
    loaded, raw_landing, monkeypatch
):
    evolved = evolve(monkeypatch, EVENTS, (*EVENTS.columns, CAMPAIGN))
    write_landing_file(
        raw_landing, evolved, DAY_2, "part-0.parquet", [event("m2", campaign_id="spring")]
    )

    day_2 = load_partition(loaded, evolved, raw_landing, DAY_2)

    assert (day_2.rows_read, day_2.rows_loaded) == (1, 1)
    assert loaded.execute(
        "select message_id, campaign_id from raw.events order by message_id"
    ).fetchall() == [("m1", None), ("m2", "spring")]
    assert loaded.execute("select campaign_id from raw.events_duplicates").fetchall() == [(None,)]
    for table in (evolved.table, evolved.duplicates_table):
        assert sql.column_types(loaded, table)["campaign_id"] == "VARCHAR"


def test_each_added_column_is_one_action_in_the_audit_log(loaded, raw_landing, monkeypatch):
    evolved = evolve(monkeypatch, EVENTS, (*EVENTS.columns, CAMPAIGN))
    write_landing_file(raw_landing, evolved, DAY_2, "part-0.parquet", [event("m2")])

    load_partition(loaded, evolved, raw_landing, DAY_2, actor="dagster run abc")

    assert loaded.execute(
        """
        select target, actor, rows_affected, details->>'added_column', details->>'type'
        from audit.actions where action = 'migrate' order by target
        """
    ).fetchall() == [
        ("raw.events", "dagster run abc", 1, "campaign_id", "VARCHAR"),
        ("raw.events_duplicates", "dagster run abc", 1, "campaign_id", "VARCHAR"),
    ]


def test_the_migrated_table_matches_the_new_contract(loaded, raw_landing, monkeypatch):
    evolved = evolve(monkeypatch, EVENTS, (*EVENTS.columns, CAMPAIGN))

    load_partition(loaded, evolved, raw_landing, DAY_2)

    expected = [(c.name, c.type.duckdb) for c in evolved.table_columns()]
    assert table_schema_differences(loaded, evolved.table, expected) == []


def test_a_table_with_the_contract_columns_in_another_order_matches_and_loads(
    warehouse, raw_landing
):
    columns = reversed(EVENTS.table_columns())
    warehouse.execute("create schema raw")
    warehouse.execute(
        f"create table raw.events ({', '.join(f'{c.name} {c.type.duckdb}' for c in columns)})"
    )
    write_landing_file(raw_landing, EVENTS, DAY_1, "part-0.parquet", [event("m1")])

    load_partition(warehouse, EVENTS, raw_landing, DAY_1)

    expected = [(c.name, c.type.duckdb) for c in EVENTS.table_columns()]
    assert table_schema_differences(warehouse, EVENTS.table, expected) == []
    assert warehouse.execute("select message_id, _source_row from raw.events").fetchall() == [
        ("m1", 0)
    ]


def test_a_changed_type_stops_the_load_saying_what_differs_and_what_to_do(
    loaded, raw_landing, monkeypatch
):
    evolved = evolve(monkeypatch, EVENTS, retyped(EVENTS, "screen_width", ColumnType.BIGINT))
    write_landing_file(raw_landing, evolved, DAY_2, "part-0.parquet", [event("m2")])

    with pytest.raises(sql.SchemaChangeError) as raised:
        load_partition(loaded, evolved, raw_landing, DAY_2)

    assert str(raised.value) == (
        "The tables differ from their declared columns in ways that adding nullable columns "
        "cannot mend:\n"
        "- raw.events.screen_width is INTEGER, but declared BIGINT\n"
        "- raw.events_duplicates.screen_width is INTEGER, but declared BIGINT\n"
        "Only a new optional column is added to an existing table by itself. Either declare the "
        "change that way (a new optional column; old columns kept, with their types), or change "
        "the tables by hand, for example:\n"
        '    alter table raw.events alter column "screen_width" type BIGINT;\n'
        '    alter table raw.events_duplicates alter column "screen_width" type BIGINT;\n'
        "and run again."
    )
    assert sql.column_types(loaded, "raw.events")["screen_width"] == "INTEGER"
    assert loaded.execute("select count(*) from raw.load_manifest").fetchone() == (1,)


def test_a_column_removed_from_the_contract_stops_the_load(loaded, raw_landing, monkeypatch):
    evolved = evolve(monkeypatch, EVENTS, tuple(c for c in EVENTS.columns if c.name != "city"))

    with pytest.raises(sql.SchemaChangeError) as raised:
        load_partition(loaded, evolved, raw_landing, DAY_2)

    problems = [line for line in str(raised.value).splitlines() if line.startswith(("-", " "))]
    assert problems == [
        "- raw.events.city VARCHAR is no longer declared",
        "- raw.events_duplicates.city VARCHAR is no longer declared",
        '    alter table raw.events drop column "city";',
        '    alter table raw.events_duplicates drop column "city";',
    ]


def test_a_new_required_column_stops_the_load(loaded, raw_landing, monkeypatch):
    region = Column("region", ColumnType.STRING, True, "Data region of the tenant.")
    evolved = evolve(monkeypatch, EVENTS, (*EVENTS.columns, region))

    with pytest.raises(sql.SchemaChangeError) as raised:
        load_partition(loaded, evolved, raw_landing, DAY_2)

    assert (
        "- raw.events.region VARCHAR is declared required, but the rows already there have no "
        "value for it\n"
    ) in str(raised.value)
    assert "region" not in sql.column_types(loaded, "raw.events")


def test_the_manifest_and_rejected_tables_get_the_columns_declared_after_them(
    loaded, raw_landing, monkeypatch
):
    checked = ("checked_by", "VARCHAR", "Who checked the file.")
    reviewed = ("reviewed", "BOOLEAN", "Whether someone looked at the row.")
    monkeypatch.setattr(tables, "LOAD_MANIFEST_COLUMNS", (*tables.LOAD_MANIFEST_COLUMNS, checked))
    monkeypatch.setattr(tables, "REJECTED_COLUMNS", (*tables.REJECTED_COLUMNS, reviewed))
    write_landing_file(
        raw_landing, EVENTS, DAY_2, "part-0.parquet", [event("m2"), event("x", event_type="?")]
    )

    day_2 = load_partition(loaded, EVENTS, raw_landing, DAY_2)

    assert (day_2.rows_loaded, day_2.rows_rejected) == (1, 1)
    assert loaded.execute(
        "select _source_file, reviewed from raw.events_rejected order by all"
    ).fetchall() == [
        ("events/date=2026-03-01/part-0.parquet", None),
        ("events/date=2026-03-02/part-0.parquet", None),
    ]
    assert loaded.execute(
        "select landing_date, checked_by from raw.load_manifest order by all"
    ).fetchall() == [(DAY_1, None), (DAY_2, None)]
    assert loaded.execute(
        """
        select target, rows_affected, details->>'added_column', details->>'type'
        from audit.actions where action = 'migrate' order by target
        """
    ).fetchall() == [
        ("raw.events_rejected", 1, "reviewed", "BOOLEAN"),
        ("raw.load_manifest", 1, "checked_by", "VARCHAR"),
        ("raw.metrics_rejected", 0, "reviewed", "BOOLEAN"),
    ]


def test_the_audit_log_gets_the_columns_declared_after_it(warehouse, monkeypatch):
    audit.record_action(warehouse, "load", "raw.events 2026-03-01", actor="user ops")
    monkeypatch.setattr(
        audit, "AUDIT_COLUMNS", (*audit.AUDIT_COLUMNS, ("ticket", "VARCHAR", "Change ticket."))
    )

    audit.record_action(warehouse, "forget", "user u1", actor="user ops")

    assert warehouse.execute(
        "select action, target, ticket, details->>'added_column' from audit.actions order by action"
    ).fetchall() == [
        ("forget", "user u1", None, None),
        ("load", "raw.events 2026-03-01", None, None),
        ("migrate", "audit.actions", None, "ticket"),
    ]


def test_declared_types_compare_as_duckdb_spells_them(warehouse):
    columns = [("n", "int", "A number."), ("s", "text", "A text."), ("l", "varchar[]", "A list.")]
    sql.create_table_if_missing(warehouse, "x.t", columns)

    assert sql.create_table_if_missing(warehouse, "x.t", columns) == []
    assert sql.column_types(warehouse, "x.t") == {"n": "INTEGER", "s": "VARCHAR", "l": "VARCHAR[]"}
