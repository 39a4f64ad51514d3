"""Each distinct user agent is parsed once; incremental runs never parse it again nor leave
their temporary table behind."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.dbt.conftest import Warehouse, event_row
from tests.dbt.sample_events import GOOGLEBOT, IPHONE

pytestmark = pytest.mark.slow


def test_known_user_agents_are_not_parsed_again(warehouse: Warehouse) -> None:
    warehouse.insert_events(
        [
            event_row(
                "m1",
                event_name="page_view",
                anonymous_id="a",
                user_agent=IPHONE,
                timestamp=datetime(2025, 3, 1, 10),
            ),
            event_row(
                "m2",
                event_name="page_view",
                anonymous_id="b",
                user_agent=IPHONE,
                timestamp=datetime(2025, 3, 1, 11),
            ),
        ]
    )
    warehouse.dbt("run", "--select", "stg_user_agents")
    with warehouse.connect() as connection:
        connection.execute("update staging.stg_user_agents set os_name = 'parsed on day 1'")
    warehouse.insert_events(
        [
            event_row(
                "m3",
                event_name="page_view",
                anonymous_id="c",
                user_agent=IPHONE,
                timestamp=datetime(2025, 3, 2, 10),
            ),
            event_row(
                "m4",
                event_name="page_view",
                anonymous_id="g",
                user_agent=GOOGLEBOT,
                timestamp=datetime(2025, 3, 2, 10),
            ),
        ]
    )
    warehouse.dbt(
        "run",
        "--select",
        "stg_user_agents",
        variables={"min_date": "2025-03-02", "max_date": "2025-03-03"},
    )

    assert warehouse.query(
        "select user_agent, device_type, os_name, browser_name from staging.stg_user_agents "
        "order by user_agent"
    ) == [
        (GOOGLEBOT, "bot", None, "Googlebot"),
        (IPHONE, "mobile", "parsed on day 1", "Mobile Safari"),
    ]


def test_incremental_run_leaves_no_temporary_table(warehouse: Warehouse) -> None:
    warehouse.insert_events(
        [
            event_row(
                "m1",
                event_name="page_view",
                anonymous_id="a",
                user_agent=IPHONE,
                timestamp=datetime(2025, 3, 1, 10),
            )
        ]
    )
    warehouse.dbt("run", "--select", "stg_user_agents")
    warehouse.insert_events(
        [
            event_row(
                "m2",
                event_name="page_view",
                anonymous_id="g",
                user_agent=GOOGLEBOT,
                timestamp=datetime(2025, 3, 2, 10),
            )
        ]
    )
    warehouse.dbt(
        "run",
        "--select",
        "stg_user_agents",
        variables={"min_date": "2025-03-02", "max_date": "2025-03-03"},
    )

    assert (
        warehouse.query(
            "select table_catalog, table_schema, table_name from information_schema.tables "
            "where contains(table_name, '__dbt_tmp')"
        )
        == []
    )
