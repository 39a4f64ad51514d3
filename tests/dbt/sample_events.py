"""A small multi-day sample of raw events, written out row by row.

Arrival days 2025-03-01 .. 2025-03-05. What the rows exercise:
- anon_a browses anonymously on day 1, signs up as user_1 on day 2 (retroactive stitching),
  returns on day 3 (a 30:00 gap that continues and a 30:01 gap that splits), sends an event
  three days late with clock skew on day 4 that lands in its day-1 session, and logs in as
  user_3 on day 5 (its whole history moves from user_1 to user_3).
- anon_b (iPhone) has a session that starts before midnight and continues after it.
- anon_c uses client session ids, buys on day 1 and logs in as user_2 on day 4.
- anon_d is user_1's second device (iPad) from day 2.
- anon_f browses on day 4 and is identified as user_2 on day 5 (user_2's second device).
- a Googlebot views a page on day 1 (counted in hourly rollups only).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tests.dbt.conftest import event_row

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.0 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SITE = "https://shop.example.com"

ARRIVAL_DAYS = [date(2025, 3, day) for day in range(1, 6)]


def t(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, second)


def _page_view(message_id: str, at: datetime, path: str, **values: Any) -> dict[str, Any]:
    query = values.pop("query", "")
    return event_row(
        message_id,
        event_name="page_view",
        timestamp=at,
        page_url=f"{SITE}{path}{query}",
        page_path=path,
        page_title=path.strip("/").title() or "Home",
        **values,
    )


def _ping(message_id: str, at: datetime, scroll_depth: float, **values: Any) -> dict[str, Any]:
    return event_row(
        message_id,
        event_name=values.pop("event_name", "page_ping"),
        timestamp=at,
        properties=f'{{"scroll_depth": {scroll_depth}, "engaged_ms": 5000}}',
        **values,
    )


SAMPLE_EVENTS: list[dict[str, Any]] = [
    # Day 1.
    _page_view(
        "a-01",
        t(1, 10),
        "/pricing",
        anonymous_id="anon_a",
        query="?utm_source=newsletter&utm_medium=email&utm_campaign=spring%20sale",
        page_referrer="https://www.google.com/search?q=shop",
        country_code="DE",
    ),
    _ping("a-02", t(1, 10, 0, 20), 45, anonymous_id="anon_a"),
    _page_view("a-03", t(1, 10, 5), "/signup", anonymous_id="anon_a", country_code="DE"),
    event_row(
        "a-04",
        event_name="feature_used",
        anonymous_id="anon_a",
        timestamp=t(1, 10, 6),
        properties='{"feature": "export", "action": "click", "duration_ms": 1200, "success": true}',
    ),
    _page_view("b-01", t(1, 23, 50), "/", anonymous_id="anon_b", user_agent=IPHONE),
    _ping("b-02", t(1, 23, 55), 30, anonymous_id="anon_b", user_agent=IPHONE),
    _page_view("c-01", t(1, 9), "/products/1", anonymous_id="anon_c", session_id="sess-c1"),
    event_row(
        "c-02",
        event_name="purchase",
        anonymous_id="anon_c",
        session_id="sess-c1",
        timestamp=t(1, 9, 1),
        properties='{"value": 20.5, "currency": "EUR"}',
    ),
    _page_view("g-01", t(1, 12), "/", anonymous_id="bot_g", user_agent=GOOGLEBOT),
    # Day 2: the session of anon_b continues after midnight; anon_a signs up.
    _page_view("b-03", t(2, 0, 10), "/products/2", anonymous_id="anon_b", user_agent=IPHONE),
    _ping(
        "b-04", t(2, 0, 12), 120, anonymous_id="anon_b", user_agent=IPHONE, event_name="page_leave"
    ),
    event_row(
        "a-05",
        event_name="signup",
        anonymous_id="anon_a",
        user_id="user_1",
        timestamp=t(2, 9),
        properties='{"value": 0, "currency": "EUR"}',
    ),
    event_row(
        "a-06",
        event_name="identify",
        anonymous_id="anon_a",
        user_id="user_1",
        timestamp=t(2, 9, 0, 1),
        properties='{"traits": {"name": "Ada", "plan": "free"}}',
    ),
    _page_view(
        "d-01", t(2, 10), "/account", anonymous_id="anon_d", user_id="user_1", user_agent=IPAD
    ),
    # Day 3: anon_a returns; 30:00 continues the session, 30:01 starts a new one.
    _page_view("a-07", t(3, 11), "/", anonymous_id="anon_a", user_id="user_1"),
    _page_view("a-08", t(3, 11, 30), "/pricing", anonymous_id="anon_a", user_id="user_1"),
    _page_view("a-09", t(3, 12, 0, 1), "/features", anonymous_id="anon_a", user_id="user_1"),
    # Day 4: an event from day 1 arrives three days late from a device whose clock is 65 s
    # behind (event time 2025-03-01 10:20:10); anon_c logs in; anon_f browses.
    event_row(
        "a-10",
        event_name="feature_used",
        anonymous_id="anon_a",
        timestamp=t(1, 10, 19, 5),
        sent_at=t(4, 7, 59),
        received_at=t(4, 8, 0, 5),
        properties='{"feature": "import", "action": "click", "duration_ms": 800, "success": false}',
    ),
    event_row(
        "c-03",
        event_name="identify",
        anonymous_id="anon_c",
        user_id="user_2",
        session_id="sess-c2",
        timestamp=t(4, 15),
        properties='{"traits": {"name": "Grace", "plan": "pro"}}',
    ),
    _page_view("f-01", t(4, 16), "/blog", anonymous_id="anon_f", query="?utm_source=twitter"),
    # Day 5: anon_a logs in as another user; anon_f is identified as user_2.
    event_row(
        "a-11",
        event_name="identify",
        anonymous_id="anon_a",
        user_id="user_3",
        timestamp=t(5, 8),
        properties='{"traits": {"name": "Alan", "plan": "team"}}',
    ),
    event_row(
        "f-02",
        event_name="identify",
        anonymous_id="anon_f",
        user_id="user_2",
        timestamp=t(5, 9),
        properties='{"traits": {"name": "Grace", "plan": "pro"}}',
    ),
]


def events_received_on(day: date) -> list[dict[str, Any]]:
    return [row for row in SAMPLE_EVENTS if row["received_at"].date() == day]
