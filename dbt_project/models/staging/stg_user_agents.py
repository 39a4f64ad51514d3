"""Device type, OS and browser of every distinct user agent, parsed once with `ua-parser`.

Incremental: a run parses only the user agents the table does not know yet, so each distinct
user agent string is parsed once over the life of the warehouse.
"""

import pyarrow as pa
from ua_parser import parse

MOBILE_OS_FAMILIES = {
    "Android",
    "iOS",
    "Windows Phone",
    "BlackBerry OS",
    "KaiOS",
    "Firefox OS",
    "Symbian OS",
    "Tizen",
}
DESKTOP_OS_FAMILIES = {
    "Windows",
    "Mac OS X",
    "Linux",
    "Ubuntu",
    "Fedora",
    "Debian",
    "Chrome OS",
    "FreeBSD",
    "OpenBSD",
}
TABLET_MARKERS = ("ipad", "tablet", "kindle", "playbook", "nexus 7", "nexus 9", "nexus 10")


def device_type(user_agent: str, os_family: str | None, device_family: str | None, brand) -> str:
    """desktop, mobile, tablet, bot or unknown, from what ua-parser recognised."""
    if device_family == "Spider":
        return "bot"
    device_text = f"{device_family or ''} {brand or ''}".lower()
    if any(marker in device_text for marker in TABLET_MARKERS):
        return "tablet"
    if os_family == "Android" and "mobile" not in user_agent.lower():
        return "tablet"
    if os_family in MOBILE_OS_FAMILIES:
        return "mobile"
    if os_family in DESKTOP_OS_FAMILIES or device_family == "Mac":
        return "desktop"
    return "unknown"


def parsed_user_agent(user_agent: str) -> dict[str, str | None]:
    result = parse(user_agent)
    os_family = result.os.family if result.os else None
    device_family = result.device.family if result.device else None
    brand = result.device.brand if result.device else None
    return {
        "user_agent": user_agent,
        "device_type": device_type(user_agent, os_family, device_family, brand),
        "os_name": os_family,
        "browser_name": result.user_agent.family if result.user_agent else None,
        "device_family": device_family,
    }


def model(dbt, session):
    dbt.config(materialized="incremental")
    events = dbt.source("raw", "events")
    distinct_user_agents = events.filter("user_agent is not null").project("user_agent").distinct()
    if dbt.is_incremental:
        known = session.sql(f"select user_agent from {dbt.this}")
        distinct_user_agents = distinct_user_agents.except_(known)
    user_agents = sorted(row[0] for row in distinct_user_agents.fetchall())
    rows = [parsed_user_agent(user_agent) for user_agent in user_agents]
    schema = pa.schema(
        [
            ("user_agent", pa.string()),
            ("device_type", pa.string()),
            ("os_name", pa.string()),
            ("browser_name", pa.string()),
            ("device_family", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)
