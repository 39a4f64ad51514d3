"""Device type, OS and browser of every distinct user agent of `raw.events`, parsed once with the
maintained `ua-parser` package (uap-core rules).

`raw.user_agents` holds one row per distinct user agent string that landed in `raw.events`. Every
events load calls `record_user_agents` in its own transaction, so the user agents of the rows it
loaded are parsed and committed with them (a load that fails leaves no parsed row behind), and a
user agent the table holds already is never parsed again. dbt's `stg_events` joins the table: the
parsing happens here, not in a dbt Python model, so the dbt project runs on engines that cannot
run Python models. Rows are kept when the events that brought them go (retention, forget): a user
agent string identifies no person, and parsing it again would give the same row.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
from ua_parser import parse

from orchestration.contract import EVENTS, Dataset

USER_AGENTS_TABLE = "raw.user_agents"

USER_AGENT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("user_agent", "VARCHAR", "The raw user agent string, as it landed in raw.events."),
    (
        "device_type",
        "VARCHAR",
        "desktop, mobile, tablet, bot (ua-parser's Spider device) or unknown.",
    ),
    (
        "os_name",
        "VARCHAR",
        "Operating system family, e.g. Windows, Mac OS X, iOS, Android; NULL when unrecognised.",
    ),
    (
        "browser_name",
        "VARCHAR",
        "Browser family, e.g. Chrome, Mobile Safari, Googlebot; NULL when unrecognised.",
    ),
    ("device_family", "VARCHAR", "Device family as ua-parser names it, e.g. iPhone, iPad, Mac."),
)
USER_AGENT_KEY = ("user_agent",)

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


def parses_user_agents(dataset: Dataset) -> bool:
    """Whether a load of `dataset` parses the user agents it brings: those of events do."""
    return dataset.name == EVENTS.name


def device_type(
    user_agent: str, os_family: str | None, device_family: str | None, brand: str | None
) -> str:
    """desktop, mobile, tablet, bot or unknown, from what ua-parser recognised."""
    if device_family == "Spider":
        return "bot"
    device_text = f"{device_family or ''} {brand or ''}".lower()
    if any(marker in device_text for marker in TABLET_MARKERS):
        return "tablet"
    # Android tablets' browsers leave "Mobile" out of the user agent; phones' put it in.
    if os_family == "Android" and "mobile" not in user_agent.lower():
        return "tablet"
    if os_family in MOBILE_OS_FAMILIES:
        return "mobile"
    if os_family in DESKTOP_OS_FAMILIES or device_family == "Mac":
        return "desktop"
    return "unknown"


def parse_user_agent(user_agent: str) -> dict[str, str | None]:
    """A row of `raw.user_agents` for one user agent string."""
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


def record_user_agents(connection: duckdb.DuckDBPyConnection) -> int:
    """Parse every distinct non-null user agent of `raw.events` that `raw.user_agents` does not
    hold yet, insert their rows, and return how many were parsed. Call it in the transaction
    that writes the events, so that both commit together."""
    new_user_agents = connection.execute(
        f"""
        select distinct user_agent from {EVENTS.table} where user_agent is not null
        except
        select user_agent from {USER_AGENTS_TABLE}
        order by user_agent
        """
    ).fetchall()
    if not new_user_agents:
        return 0
    schema = pa.schema([(name, pa.string()) for name, _, _ in USER_AGENT_COLUMNS])
    parsed = pa.Table.from_pylist(
        [parse_user_agent(user_agent) for (user_agent,) in new_user_agents], schema=schema
    )
    connection.register("_parsed_user_agents", parsed)
    try:
        connection.execute(
            f"insert into {USER_AGENTS_TABLE} by name select * from _parsed_user_agents"
        )
    finally:
        connection.unregister("_parsed_user_agents")
    return parsed.num_rows
