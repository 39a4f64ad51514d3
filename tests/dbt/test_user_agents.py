"""The events landing parses each distinct user agent once, into raw.user_agents, in the
transaction of the load that brought it; stg_events reads device, OS and browser from there."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from ua_parser import Result

from orchestration.contract import EVENTS
from orchestration.landing import loader, user_agents
from orchestration.landing.loader import PartitionLoad, load_partition
from tests.dbt.conftest import Warehouse
from tests.dbt.sample_events import GOOGLEBOT, IPAD, IPHONE
from tests.landing_files import DAY_1, DAY_2, event, utc, write_landing_file

ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


def land(raw_landing: Path, day: date, user_agents: list[str | None]) -> None:
    """One landing file of `day` with an event per user agent."""
    received_at = utc(f"{day.isoformat()} 10:00:01")
    events = [
        event(f"{day}-{number}", user_agent=agent, received_at=received_at)
        for number, agent in enumerate(user_agents)
    ]
    write_landing_file(raw_landing, EVENTS, day, "part-0.parquet", events)


def load(
    warehouse: Warehouse, raw_landing: Path, day: date, *, force: bool = False
) -> PartitionLoad:
    with warehouse.connect() as connection:
        return load_partition(connection, EVENTS, raw_landing, day, force=force)


def parsed_user_agents(warehouse: Warehouse) -> list[tuple]:
    return warehouse.query(
        "select user_agent, device_type, os_name, browser_name from raw.user_agents order by all"
    )


@pytest.mark.parametrize(
    ("user_agent", "device_type", "os_name", "browser_name"),
    [
        (GOOGLEBOT, "bot", None, "Googlebot"),
        (IPAD, "tablet", "iOS", "Mobile Safari"),
        (ANDROID_TABLET, "tablet", "Android", "Chrome"),
        (ANDROID_PHONE, "mobile", "Android", "Chrome Mobile"),
        (IPHONE, "mobile", "iOS", "Mobile Safari"),
        (WINDOWS_CHROME, "desktop", "Windows", "Chrome"),
    ],
    ids=["crawler", "ipad", "android-tablet", "android-phone", "iphone", "windows"],
)
def test_a_load_parses_the_device_os_and_browser_of_its_user_agents(
    warehouse: Warehouse,
    raw_landing: Path,
    user_agent: str,
    device_type: str,
    os_name: str | None,
    browser_name: str,
) -> None:
    land(raw_landing, DAY_1, [user_agent, user_agent])

    partition_load = load(warehouse, raw_landing, DAY_1)

    assert partition_load.user_agents_parsed == 1
    assert parsed_user_agents(warehouse) == [(user_agent, device_type, os_name, browser_name)]


def test_events_without_a_user_agent_add_no_row(warehouse: Warehouse, raw_landing: Path) -> None:
    land(raw_landing, DAY_1, [None])

    partition_load = load(warehouse, raw_landing, DAY_1)

    assert partition_load.rows_loaded == 1
    assert partition_load.user_agents_parsed == 0
    assert parsed_user_agents(warehouse) == []


def test_a_known_user_agent_is_never_parsed_again(
    warehouse: Warehouse, raw_landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    parse = user_agents.parse

    def counting_parse(user_agent: str) -> Result:
        parsed.append(user_agent)
        return parse(user_agent)

    monkeypatch.setattr(user_agents, "parse", counting_parse)
    land(raw_landing, DAY_1, [IPHONE, IPHONE])
    day_1 = load(warehouse, raw_landing, DAY_1)
    with warehouse.connect() as connection:
        connection.execute("update raw.user_agents set os_name = 'parsed on day 1'")
    land(raw_landing, DAY_2, [IPHONE, GOOGLEBOT])

    day_2 = load(warehouse, raw_landing, DAY_2)
    reload = load(warehouse, raw_landing, DAY_1, force=True)

    assert parsed == [IPHONE, GOOGLEBOT]
    assert [day_1.user_agents_parsed, day_2.user_agents_parsed, reload.user_agents_parsed] == [
        1,
        1,
        0,
    ]
    assert parsed_user_agents(warehouse) == [
        (GOOGLEBOT, "bot", None, "Googlebot"),
        (IPHONE, "mobile", "parsed on day 1", "Mobile Safari"),
    ]


def test_a_failed_load_leaves_no_parsed_user_agent(
    warehouse: Warehouse, raw_landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed_counts: list[int] = []
    record_user_agents = loader.record_user_agents

    def counting_record_user_agents(connection: duckdb.DuckDBPyConnection) -> int:
        parsed_counts.append(record_user_agents(connection))
        return parsed_counts[-1]

    def failing_record_action(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the audit log is gone")

    monkeypatch.setattr(loader, "record_user_agents", counting_record_user_agents)
    # The audit records are written after the user agents, in the same transaction.
    monkeypatch.setattr(loader, "record_action", failing_record_action)
    land(raw_landing, DAY_1, [IPHONE])

    with pytest.raises(RuntimeError, match="the audit log is gone"):
        load(warehouse, raw_landing, DAY_1)

    assert parsed_counts == [1]
    assert parsed_user_agents(warehouse) == []
    assert warehouse.query("select count(*) from raw.events") == [(0,)]


def test_events_landed_before_the_table_existed_get_their_user_agents_on_the_next_load(
    warehouse: Warehouse, raw_landing: Path
) -> None:
    land(raw_landing, DAY_1, [IPHONE])
    load(warehouse, raw_landing, DAY_1)
    with warehouse.connect() as connection:
        connection.execute("drop table raw.user_agents")

    partition_load = load(warehouse, raw_landing, DAY_1)

    assert partition_load.unchanged
    assert partition_load.user_agents_parsed == 1
    assert parsed_user_agents(warehouse) == [(IPHONE, "mobile", "iOS", "Mobile Safari")]


@pytest.mark.slow
def test_stg_events_reads_device_os_and_browser_from_the_parsed_user_agents(
    warehouse: Warehouse, raw_landing: Path
) -> None:
    land(raw_landing, DAY_1, [GOOGLEBOT, ANDROID_PHONE])
    load(warehouse, raw_landing, DAY_1)

    warehouse.dbt("run", "--select", "stg_events")

    assert warehouse.query(
        "select user_agent, device_type, os_name, browser_name, is_bot from staging.stg_events "
        "order by message_id"
    ) == [
        (GOOGLEBOT, "bot", None, "Googlebot", True),
        (ANDROID_PHONE, "mobile", "Android", "Chrome Mobile", False),
    ]
