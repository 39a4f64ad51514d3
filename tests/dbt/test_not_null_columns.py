"""The `not_null_columns` generic test (dbt_project/tests/generic/not_null_columns.sql): one query
checks all of a table's required columns, and the rows it fails name their NULL columns."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.dbt.conftest import Warehouse, event_row

AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def test_rows_with_a_null_in_a_required_column_fail_and_name_it(warehouse: Warehouse) -> None:
    warehouse.insert_events(
        [
            event_row("complete", event_name="page_view", anonymous_id="a1", timestamp=AT),
            event_row("no_name", event_name=None, anonymous_id="a1", timestamp=AT),
            event_row("no_name_no_device", event_name=None, anonymous_id=None, timestamp=AT),
        ]
    )
    output = warehouse.dbt_failing(
        "build",
        "--select",
        "stg_events",
        "--exclude-resource-type",
        "unit_test",
        "--store-failures",
    )
    assert re.search(r"FAIL 2 not_null_stg_events", output), output
    failed = warehouse.query(
        "select message_id, null_columns from dbt_test__audit.not_null_stg_events order by 1"
    )
    assert failed == [("no_name", "event_name"), ("no_name_no_device", "event_name, anonymous_id")]


def test_a_table_without_nulls_in_its_required_columns_passes(warehouse: Warehouse) -> None:
    warehouse.insert_events(
        [event_row("complete", event_name="page_view", anonymous_id="a1", timestamp=AT)]
    )
    output = warehouse.dbt(
        "build", "--select", "stg_events", "--exclude-resource-type", "unit_test"
    )
    assert re.search(r"PASS not_null_stg_events", output), output
