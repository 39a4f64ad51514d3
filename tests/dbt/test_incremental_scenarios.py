"""Incremental runs, one arrival window at a time, build exactly the marts of a full refresh.

An arrival window is a half-open range of arrival days (the folders rows landed in,
`_landing_date`): its rows are inserted into raw.events, then dbt runs with the window as the
vars `min_date` / `max_date`. Each scenario is a few hand-written events on anonymous ids of its
own, so that the scenarios share one dataset, `EVENTS`, run in the windows `WINDOWS`:
1. an offline purchase arrives three weeks late, into an old session of a visitor active every
   day since;
2. a late page view falls between two old sessions of a visitor and merges them;
3. a login links a laptop with months of anonymous history to a user; the next day the user's
   phone logs in too;
4. a session from before to after midnight arrives on two consecutive days;
5. one more arrival day, whose rows were all received on other days (`MISFILED_MARCH_3`);
6. the same windows run in two more orders;
7. a window run again, and an arrival day delivered again with one event removed and one moved.
Scenarios 8-10 continue the day-by-day warehouse with the arrival days 2025-03-03 to 2025-03-05
of `LATER_EVENTS`, on anonymous ids of their own:
8. an arrival day delivered again without the only session an anonymous id had in it, after
   the id's next session arrived;
9. a duplicate in a later day's file that wins, received earlier, and moves its event;
10. a late event that becomes a session's first event, and its window run again.
Scenarios 11 and 12 are in the shared dataset: a purchase arrives three weeks late into a direct
session of a visitor who came from search and from an email before, and its attribution credits
them; a session arrives late between two purchases, and becomes a touch of the later one only.
Every build starts from a copy of one seeded warehouse; copies taken after each run show what
that run changed.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.publishing import publish, published_column
from orchestration.settings import Settings
from orchestration.sql import column_types
from tests.dbt.conftest import Warehouse, differing_marts, event_row, make_warehouse

pytestmark = pytest.mark.slow

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@dataclass(frozen=True)
class Window:
    """The arrival days [min_date, max_date), loaded and run together."""

    min_date: date
    max_date: date

    def holds(self, row: dict[str, Any]) -> bool:
        return self.min_date <= row["_landing_date"] < self.max_date

    @property
    def variables(self) -> dict[str, date]:
        return {"min_date": self.min_date, "max_date": self.max_date}


def day_window(day: date) -> Window:
    return Window(day, day + timedelta(days=1))


HISTORY = Window(date(2024, 11, 1), date(2025, 3, 1))
MARCH_1 = day_window(date(2025, 3, 1))
MARCH_2 = day_window(date(2025, 3, 2))
MARCH_3 = day_window(date(2025, 3, 3))
MARCH_4 = day_window(date(2025, 3, 4))
MARCH_5 = day_window(date(2025, 3, 5))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def event(
    message_id: str, name: str, anonymous_id: str, when: str, **values: Any
) -> dict[str, Any]:
    return event_row(
        message_id, event_name=name, anonymous_id=anonymous_id, timestamp=at(when), **values
    )


def sent_late(received: str) -> dict[str, datetime]:
    """The columns of an event kept on an offline device and sent (and received) at `received`."""
    return {"sent_at": at(received), "received_at": at(received)}


def purchase(message_id: str, anonymous_id: str, when: str, **values: Any) -> dict[str, Any]:
    properties = '{"value": 30.0, "currency": "EUR"}'
    return event(message_id, "purchase", anonymous_id, when, properties=properties, **values)


def identify(
    message_id: str, anonymous_id: str, user_id: str, when: str, **values: Any
) -> dict[str, Any]:
    traits = '{"traits": {"name": "Chris", "plan": "pro"}}'
    return event(
        message_id, "identify", anonymous_id, when, user_id=user_id, properties=traits, **values
    )


EVENTS = [
    # 1. Every day from 2025-02-08 to 2025-03-01 one session; the purchase of 2025-02-08 09:25,
    # 15 minutes after that day's last page view, arrives on 2025-03-01 at noon.
    event("daily-0208-1", "page_view", "daily_visitor", "2025-02-08 09:00"),
    event("daily-0208-2", "page_view", "daily_visitor", "2025-02-08 09:10"),
    *(
        event(f"daily-{day:%m%d}", "page_view", "daily_visitor", f"{day} 09:00")
        for day in (date(2025, 2, 9) + timedelta(days=n) for n in range(21))
    ),
    purchase("daily-late", "daily_visitor", "2025-02-08 09:25", **sent_late("2025-03-01 12:00")),
    # 2. Two sessions 40 minutes apart on 2025-01-20; the page view between them, 20 minutes
    # from each, arrives on 2025-03-02.
    event("bridge-1", "page_view", "bridged_visitor", "2025-01-20 14:00"),
    event("bridge-2", "page_view", "bridged_visitor", "2025-01-20 14:10"),
    event("bridge-4", "page_view", "bridged_visitor", "2025-01-20 14:50"),
    event("bridge-5", "page_view", "bridged_visitor", "2025-01-20 15:00"),
    event(
        "bridge-3",
        "page_view",
        "bridged_visitor",
        "2025-01-20 14:30",
        **sent_late("2025-03-02 08:00"),
    ),
    # 3. A laptop browses anonymously from November and logs in as user_c on 2025-03-01; a
    # phone browses on 2025-02-20 and logs in on 2025-03-02.
    event(
        "laptop-1",
        "page_view",
        "laptop",
        "2024-11-05 19:00",
        page_url="https://shop.example.com/?utm_source=newsletter&utm_medium=email",
        page_path="/",
    ),
    event("laptop-2", "page_view", "laptop", "2024-12-10 20:00"),
    event("laptop-3", "page_view", "laptop", "2025-01-15 21:00"),
    event("laptop-4", "page_view", "laptop", "2025-02-14 18:00"),
    identify("laptop-5", "laptop", "user_c", "2025-03-01 10:00"),
    event("phone-1", "page_view", "phone", "2025-02-20 07:30", user_agent=IPHONE),
    event("phone-2", "page_view", "phone", "2025-03-02 08:00", user_agent=IPHONE),
    identify("phone-3", "phone", "user_c", "2025-03-02 08:01", user_agent=IPHONE),
    # 4. One session from 23:50 on 2025-03-01 to 00:20 on 2025-03-02, arriving on both days.
    event("night-1", "page_view", "night_owl", "2025-03-01 23:50", page_path="/"),
    event(
        "night-2", "page_ping", "night_owl", "2025-03-01 23:58", properties='{"scroll_depth": 40}'
    ),
    event("night-3", "page_view", "night_owl", "2025-03-02 00:05", page_path="/blog"),
    event(
        "night-4", "page_leave", "night_owl", "2025-03-02 00:20", properties='{"scroll_depth": 90}'
    ),
    # 7. One session with a purchase on 2025-03-02.
    event("redelivered-1", "page_view", "redelivered_visitor", "2025-03-02 10:00"),
    event("redelivered-2", "page_view", "redelivered_visitor", "2025-03-02 10:05"),
    purchase("redelivered-3", "redelivered_visitor", "2025-03-02 10:10"),
    event("redelivered-4", "page_view", "redelivered_visitor", "2025-03-02 10:20"),
    # 11. Sessions from a search engine on 2025-02-01, an email on 2025-02-15 and a direct visit
    # on 2025-02-20, whose purchase arrives on 2025-03-02.
    event(
        "attributed-1",
        "page_view",
        "attributed_visitor",
        "2025-02-01 12:00",
        page_url="https://shop.example.com/",
        page_referrer="https://www.google.com/",
    ),
    event(
        "attributed-2",
        "page_view",
        "attributed_visitor",
        "2025-02-15 12:00",
        page_url="https://shop.example.com/?utm_source=newsletter&utm_medium=email",
    ),
    event(
        "attributed-3",
        "page_view",
        "attributed_visitor",
        "2025-02-20 12:00",
        page_url="https://shop.example.com/",
    ),
    purchase(
        "attributed-4", "attributed_visitor", "2025-02-20 12:05", **sent_late("2025-03-02 09:00")
    ),
    # 12. Two direct visits with a purchase each, on 2025-02-05 and 2025-02-25; a session from an
    # email on 2025-02-10, between them, arrives on 2025-03-01.
    event("touched-1", "page_view", "touched_visitor", "2025-02-05 18:00"),
    purchase("touched-2", "touched_visitor", "2025-02-05 18:05"),
    event(
        "touched-3",
        "page_view",
        "touched_visitor",
        "2025-02-10 18:00",
        page_url="https://shop.example.com/?utm_source=newsletter&utm_medium=email",
        **sent_late("2025-03-01 08:00"),
    ),
    event("touched-4", "page_view", "touched_visitor", "2025-02-25 18:00"),
    purchase("touched-5", "touched_visitor", "2025-02-25 18:05"),
]
WINDOWS = [HISTORY, MARCH_1, MARCH_2]

# 7. The arrival day 2025-03-02 delivered again: without the purchase, and with the last page
# view at 11:00 instead of 10:20.
REDELIVERED_MARCH_2 = [
    *(
        row
        for row in EVENTS
        if MARCH_2.holds(row) and row["message_id"] not in {"redelivered-3", "redelivered-4"}
    ),
    event("redelivered-4", "page_view", "redelivered_visitor", "2025-03-02 11:00"),
]
REDELIVERED_EVENTS = [row for row in EVENTS if not MARCH_2.holds(row)] + REDELIVERED_MARCH_2

# 5. The arrival day 2025-03-03, after the shared dataset's days, holds only rows received on
# other days.
MISFILED_MARCH_3 = [
    # Received a minute before midnight; the file was written after it.
    event(
        "misfiled-1",
        "page_view",
        "late_file_visitor",
        "2025-03-02 23:59",
        landing_date=MARCH_3.min_date,
    ),
    # Received 30 seconds after the next midnight, in a file of the day before.
    event(
        "misfiled-2",
        "page_view",
        "early_file_visitor",
        "2025-03-04 00:00:30",
        landing_date=MARCH_3.min_date,
    ),
]

# 6. The shared dataset's windows in two more orders (WINDOWS is chronological).
OTHER_ORDERS = {
    "reverse": [MARCH_2, MARCH_1, HISTORY],
    "shuffled": [MARCH_1, HISTORY, MARCH_2],
}

# 8. A session of withdrawn_visitor arrives on 2025-03-03, its next one on 2025-03-04; then
# 2025-03-03 is delivered again without the first (REDELIVERED_MARCH_3).
WITHDRAWN_SESSION = [
    event("withdrawn-1", "page_view", "withdrawn_visitor", "2025-03-03 09:00"),
    event(
        "withdrawn-2",
        "page_ping",
        "withdrawn_visitor",
        "2025-03-03 09:02",
        properties='{"scroll_depth": 60}',
    ),
]
# 9. duplicate-2 first arrives on 2025-03-04, received at 12:00 without sent_at, so its event
# time is its device timestamp, 10:20.
FIRST_DELIVERY_OF_DUPLICATE = event(
    "duplicate-2",
    "page_view",
    "duplicate_visitor",
    "2025-03-04 10:20",
    received_at=at("2025-03-04 12:00"),
)
# What raw.events holds of the arrival days 2025-03-03 to 2025-03-05 in the end. The days run
# in turn, then 2025-03-03 again. No run after a scenario's last touches its sessions, hours or
# days (the redelivery changes 2025-03-03 only, scenarios 9 and 10 are on 2025-03-04), so none
# can repair what an earlier run got wrong before the marts are compared with a full refresh.
LATER_EVENTS = [
    # 8. The event of 2025-03-03 that stays when the day is delivered again.
    event("steady-1", "page_view", "steady_visitor", "2025-03-03 18:00"),
    event("withdrawn-3", "page_view", "withdrawn_visitor", "2025-03-04 09:00"),
    # 9. A file of 2025-03-05 holds the delivery of duplicate-2 received at 11:00, which wins:
    # sent at 11:30 by a device clock 30 minutes fast, it happened at 09:50, 10 minutes before
    # the session's first page view.
    event("duplicate-1", "page_view", "duplicate_visitor", "2025-03-04 10:00"),
    event(
        "duplicate-2",
        "page_view",
        "duplicate_visitor",
        "2025-03-04 10:20",
        sent_at=at("2025-03-04 11:30"),
        received_at=at("2025-03-04 11:00"),
        landing_date=MARCH_5.min_date,
    ),
    # 10. A session at 15:00 and 15:10 on 2025-03-04; the page view of 14:45, 15 minutes before
    # it, arrives on 2025-03-05.
    event("late-start-2", "page_view", "late_start_visitor", "2025-03-04 15:00"),
    event("late-start-3", "page_view", "late_start_visitor", "2025-03-04 15:10"),
    event(
        "late-start-1",
        "page_view",
        "late_start_visitor",
        "2025-03-04 14:45",
        **sent_late("2025-03-05 08:00"),
    ),
]
LATER_DELIVERIES = [*LATER_EVENTS, *WITHDRAWN_SESSION, FIRST_DELIVERY_OF_DUPLICATE]
LATER_WINDOWS = [MARCH_3, MARCH_4, MARCH_5]
REDELIVERED_MARCH_3 = [row for row in LATER_EVENTS if MARCH_3.holds(row)]


def copy_of(warehouse: Warehouse, directory: Path) -> Warehouse:
    """A copy of the warehouse's database in `directory`, with its own dbt target path."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(warehouse.path, directory / warehouse.path.name)
    return Warehouse(directory=directory, target_path=directory / "dbt-target")


def deliver(warehouse: Warehouse, window: Window, rows: list[dict[str, Any]]) -> None:
    """Load `rows` as the arrival days of `window`, as the loader does, and run the window.

    The rows replace what those days held, and each row replaces the deliveries of its message
    on other days: every row given here is the delivery that wins.
    """
    with warehouse.connect() as connection:
        connection.execute(
            "delete from raw.events where _landing_date >= ? and _landing_date < ?",
            [window.min_date, window.max_date],
        )
        connection.executemany(
            "delete from raw.events where tenant_id = ? and message_id = ?",
            [(row["tenant_id"], row["message_id"]) for row in rows],
        )
    warehouse.insert_events(rows)
    warehouse.dbt("run", variables=window.variables)


@dataclass(frozen=True)
class Published:
    """A publication after a window's run: the version it copied (None: written afresh), and
    the marts whose published rows differ from the warehouse's (see `publish_and_compare`)."""

    patched_from: str | None
    differing: dict[str, tuple[int, int]]


def publish_and_compare(warehouse: Warehouse) -> Published:
    """Publish the warehouse's marts beside it, then compare each published table with its
    mart as the publication writes it (UTC instants, JSON as text): rows only in the mart,
    rows only in the publication."""
    settings = dataclasses.replace(Settings.from_env(), warehouse_dir=warehouse.directory)
    with warehouse.connect() as connection:
        publication = publish(connection, settings, actor="test")
        connection.execute(f"attach '{publication.database_path}' as copy (read_only)")
        differing = {}
        for name in publication.manifest["marts"]:
            columns = column_types(connection, f"marts.{name}").items()
            mart = "select " + ", ".join(published_column(c, t, name) for c, t in columns)
            mart += f" from marts.{name}"
            copy = f"from copy.marts.{name}"
            counts = tuple(
                connection.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
                for a, b in ((mart, copy), (copy, mart))
            )
            if counts != (0, 0):
                differing[name] = counts
        connection.execute("detach copy")
    return Published(publication.manifest["patched_from"], differing)


@dataclass
class IncrementalBuild:
    """A warehouse built one window at a time, a copy of it after each window's run, and the
    publication after each."""

    warehouse: Warehouse
    after: dict[Window, Warehouse]
    published: dict[Window, Published]


def build_incrementally(
    start: Warehouse, rows: list[dict[str, Any]], windows: list[Window], directory: Path
) -> IncrementalBuild:
    """A copy of `start` after delivering the rows of each window, running it and publishing,
    in order."""
    warehouse = copy_of(start, directory / "warehouse")
    after = {}
    published = {}
    for window in windows:
        deliver(warehouse, window, [row for row in rows if window.holds(row)])
        after[window] = copy_of(warehouse, directory / f"after_{window.min_date}")
        published[window] = publish_and_compare(warehouse)
    return IncrementalBuild(warehouse=warehouse, after=after, published=published)


def build_fully(seeded: Warehouse, rows: list[dict[str, Any]], directory: Path) -> Warehouse:
    warehouse = copy_of(seeded, directory)
    warehouse.insert_events(rows)
    warehouse.dbt("run", "--full-refresh")
    return warehouse


def sessions(warehouse: Warehouse, anonymous_id: str, columns: str) -> list[tuple[Any, ...]]:
    return warehouse.query(
        f"select {columns} from marts.sessions "
        f"where anonymous_id = '{anonymous_id}' order by session_start"
    )


def page_views(warehouse: Warehouse, anonymous_id: str, columns: str) -> list[tuple[Any, ...]]:
    return warehouse.query(
        f"select {columns} from marts.page_views "
        f"where anonymous_id = '{anonymous_id}' order by viewed_at"
    )


def changed_session_dates(
    before: Warehouse, after: Warehouse, anonymous_id: str
) -> tuple[list[date], list[date]]:
    """session_date of the sessions of `anonymous_id` (every column compared) only in `before`,
    and only in `after`."""
    with duckdb.connect() as connection:
        connection.execute(f"attach '{before.path}' as before_run (read_only)")
        connection.execute(f"attach '{after.path}' as after_run (read_only)")
        dates = []
        for left, right in (("before_run", "after_run"), ("after_run", "before_run")):
            rows = connection.sql(
                f"select session_date from (select * from {left}.marts.sessions "
                f"except all select * from {right}.marts.sessions) "
                f"where anonymous_id = '{anonymous_id}' order by session_date"
            ).fetchall()
            dates.append([day for (day,) in rows])
    return dates[0], dates[1]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """An empty warehouse after `dbt seed`; every build below starts from a copy of it."""
    warehouse = make_warehouse(tmp_path_factory.mktemp("seeded"))
    warehouse.dbt("seed")
    return warehouse


@pytest.fixture(scope="module")
def full_build(seeded: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return build_fully(seeded, EVENTS, tmp_path_factory.mktemp("full"))


@pytest.fixture(scope="module")
def day_by_day(seeded: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> IncrementalBuild:
    return build_incrementally(seeded, EVENTS, WINDOWS, tmp_path_factory.mktemp("day_by_day"))


@pytest.fixture(scope="module", params=list(OTHER_ORDERS))
def other_order(
    request: pytest.FixtureRequest, seeded: Warehouse, tmp_path_factory: pytest.TempPathFactory
) -> IncrementalBuild:
    return build_incrementally(
        seeded, EVENTS, OTHER_ORDERS[request.param], tmp_path_factory.mktemp(request.param)
    )


@pytest.fixture(scope="module")
def rerun(day_by_day: IncrementalBuild, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The day-by-day warehouse after running the window of 2025-03-01 a second time."""
    warehouse = copy_of(day_by_day.warehouse, tmp_path_factory.mktemp("rerun"))
    warehouse.dbt("run", variables=MARCH_1.variables)
    return warehouse


@pytest.fixture(scope="module")
def redelivered(
    day_by_day: IncrementalBuild, tmp_path_factory: pytest.TempPathFactory
) -> Warehouse:
    """The day-by-day warehouse after 2025-03-02 was delivered again and its window run."""
    warehouse = copy_of(day_by_day.warehouse, tmp_path_factory.mktemp("redelivered"))
    deliver(warehouse, MARCH_2, REDELIVERED_MARCH_2)
    return warehouse


@pytest.fixture(scope="module")
def redelivered_full_build(
    seeded: Warehouse, tmp_path_factory: pytest.TempPathFactory
) -> Warehouse:
    return build_fully(seeded, REDELIVERED_EVENTS, tmp_path_factory.mktemp("redelivered_full"))


@pytest.fixture(scope="module")
def misfiled(day_by_day: IncrementalBuild, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The day-by-day warehouse after 2025-03-03 was loaded and its window run."""
    warehouse = copy_of(day_by_day.warehouse, tmp_path_factory.mktemp("misfiled"))
    deliver(warehouse, MARCH_3, MISFILED_MARCH_3)
    return warehouse


@pytest.fixture(scope="module")
def misfiled_full_build(seeded: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return build_fully(seeded, EVENTS + MISFILED_MARCH_3, tmp_path_factory.mktemp("misfiled_full"))


@pytest.fixture(scope="module")
def later_days(
    day_by_day: IncrementalBuild, tmp_path_factory: pytest.TempPathFactory
) -> IncrementalBuild:
    """The day-by-day warehouse after 2025-03-03, 2025-03-04 and 2025-03-05, run in turn."""
    return build_incrementally(
        day_by_day.warehouse, LATER_DELIVERIES, LATER_WINDOWS, tmp_path_factory.mktemp("later_days")
    )


@pytest.fixture(scope="module")
def later_days_redelivered(
    later_days: IncrementalBuild, tmp_path_factory: pytest.TempPathFactory
) -> Warehouse:
    """The later days' warehouse after 2025-03-03 was delivered again and its window run."""
    warehouse = copy_of(later_days.warehouse, tmp_path_factory.mktemp("later_days_redelivered"))
    deliver(warehouse, MARCH_3, REDELIVERED_MARCH_3)
    return warehouse


@pytest.fixture(scope="module")
def later_days_full_build(seeded: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return build_fully(seeded, EVENTS + LATER_EVENTS, tmp_path_factory.mktemp("later_days_full"))


@pytest.fixture(scope="module")
def later_days_rerun(
    later_days: IncrementalBuild, tmp_path_factory: pytest.TempPathFactory
) -> Warehouse:
    """The later days' warehouse after running the window of 2025-03-05 a second time."""
    warehouse = copy_of(later_days.warehouse, tmp_path_factory.mktemp("later_days_rerun"))
    warehouse.dbt("run", variables=MARCH_5.variables)
    return warehouse


# Scenarios 1-4: late events, bridged sessions, logins and midnight, run day by day.


def test_day_by_day_runs_equal_a_full_refresh(
    day_by_day: IncrementalBuild, full_build: Warehouse
) -> None:
    assert differing_marts(day_by_day.warehouse, full_build) == {}


@pytest.mark.parametrize("build", ["day_by_day", "later_days"])
def test_each_publication_after_the_first_patches_the_last_with_what_the_run_changed(
    build: str, request: pytest.FixtureRequest
) -> None:
    """Late events, merged sessions, logins, a duplicate that moves its event: the copy of the
    previous version, patched with the rows of the keys each run logged, holds the marts."""
    published = list(request.getfixturevalue(build).published.values())
    assert [p.differing for p in published] == [{}] * len(published)
    assert published[0].patched_from is None
    assert all(p.patched_from is not None for p in published[1:])


def test_a_purchase_three_weeks_late_joins_its_old_session(day_by_day: IncrementalBuild) -> None:
    columns = "session_start, session_end, event_count, converted, conversion_value"
    old_sessions = sessions(day_by_day.after[MARCH_1], "daily_visitor", columns)
    assert old_sessions[0] == (at("2025-02-08 09:00"), at("2025-02-08 09:25"), 3, True, 30.0)


def test_a_purchase_three_weeks_late_changes_no_later_session(
    day_by_day: IncrementalBuild,
) -> None:
    before, after = day_by_day.after[HISTORY], day_by_day.after[MARCH_1]
    assert changed_session_dates(before, after, "daily_visitor") == (
        [date(2025, 2, 8)],
        [date(2025, 2, 8), date(2025, 3, 1)],
    )
    assert len(sessions(after, "daily_visitor", "session_key")) == 22


def test_a_purchase_three_weeks_late_credits_the_sessions_before_it(
    day_by_day: IncrementalBuild,
) -> None:
    query = (
        "select attribution.attribution_model, attribution.channel, attribution.credit "
        "from marts.conversion_attribution as attribution "
        "where attribution.message_id = 'attributed-4' "
        "order by attribution.attribution_model, attribution.touch_number"
    )
    assert day_by_day.after[MARCH_1].query(query) == []
    assert day_by_day.after[MARCH_2].query(query) == [
        ("first_touch", "Organic Search", 1.0),
        ("last_non_direct", "Email", 1.0),
        ("last_touch", "Direct", 1.0),
        ("linear", "Organic Search", 1 / 3),
        ("linear", "Email", 1 / 3),
        ("linear", "Direct", 1 / 3),
        ("position_based", "Organic Search", 0.4),
        ("position_based", "Email", 0.2),
        ("position_based", "Direct", 0.4),
    ]


def test_a_late_session_becomes_a_touch_of_the_purchases_after_it(
    day_by_day: IncrementalBuild,
) -> None:
    touches = (
        "select message_id, count(*) from marts.conversion_attribution "
        "where person_id = 'touched_visitor' and attribution_model = 'linear' "
        "group by message_id order by message_id"
    )
    last_non_direct = (
        "select message_id, channel from marts.conversion_attribution "
        "where person_id = 'touched_visitor' and attribution_model = 'last_non_direct' "
        "order by message_id"
    )
    before, after = day_by_day.after[HISTORY], day_by_day.after[MARCH_1]
    assert before.query(touches) == [("touched-2", 1), ("touched-5", 2)]
    assert after.query(touches) == [("touched-2", 1), ("touched-5", 3)]
    assert before.query(last_non_direct) == [("touched-2", "Direct"), ("touched-5", "Direct")]
    assert after.query(last_non_direct) == [("touched-2", "Direct"), ("touched-5", "Email")]


def test_a_late_event_between_two_sessions_merges_them(day_by_day: IncrementalBuild) -> None:
    columns = "session_start, session_end, event_count"
    assert sessions(day_by_day.after[HISTORY], "bridged_visitor", columns) == [
        (at("2025-01-20 14:00"), at("2025-01-20 14:10"), 2),
        (at("2025-01-20 14:50"), at("2025-01-20 15:00"), 2),
    ]
    assert sessions(day_by_day.after[MARCH_2], "bridged_visitor", columns) == [
        (at("2025-01-20 14:00"), at("2025-01-20 15:00"), 5)
    ]


def test_a_login_moves_months_of_anonymous_sessions_to_the_user(
    day_by_day: IncrementalBuild,
) -> None:
    columns = "session_date, person_id"
    assert sessions(day_by_day.after[MARCH_1], "laptop", columns) == [
        (date(2024, 11, 5), "user_c"),
        (date(2024, 12, 10), "user_c"),
        (date(2025, 1, 15), "user_c"),
        (date(2025, 2, 14), "user_c"),
        (date(2025, 3, 1), "user_c"),
    ]
    assert sessions(day_by_day.after[MARCH_1], "phone", columns) == [(date(2025, 2, 20), "phone")]


def test_a_login_moves_months_old_daily_activity_to_the_user(
    day_by_day: IncrementalBuild,
) -> None:
    assert day_by_day.warehouse.query(
        "select person_id, session_count, is_new_user from marts.user_activity_daily "
        "where activity_date = date '2024-11-05'"
    ) == [("user_c", 1, True)]


def test_the_second_device_joins_the_user_after_its_login(
    day_by_day: IncrementalBuild,
) -> None:
    assert day_by_day.warehouse.query(
        "select person_id, anonymous_id_count, first_seen_at, session_count, first_utm_source "
        "from marts.users where person_id in ('user_c', 'laptop', 'phone')"
    ) == [("user_c", 2, at("2024-11-05 19:00"), 7, "newsletter")]
    assert day_by_day.warehouse.query(
        "select anonymous_id, first_linked_at, link_source, is_current_person "
        "from marts.identities where user_id = 'user_c' order by anonymous_id"
    ) == [
        ("laptop", at("2025-03-01 10:00"), "identify", True),
        ("phone", at("2025-03-02 08:01"), "identify", True),
    ]


def test_a_session_across_midnight_grows_with_the_next_days_arrivals(
    day_by_day: IncrementalBuild,
) -> None:
    columns = "session_key, session_date, session_start, session_end, event_count"
    [first_day] = sessions(day_by_day.after[MARCH_1], "night_owl", columns)
    [both_days] = sessions(day_by_day.after[MARCH_2], "night_owl", columns)
    assert first_day[1:] == (date(2025, 3, 1), at("2025-03-01 23:50"), at("2025-03-01 23:58"), 2)
    assert both_days == (
        first_day[0],
        date(2025, 3, 1),
        at("2025-03-01 23:50"),
        at("2025-03-02 00:20"),
        4,
    )


# Scenario 5: the arrival folder, not received_at, decides the window of a row.


def test_runs_of_rows_received_on_another_day_than_their_folder_equal_a_full_refresh(
    misfiled: Warehouse, misfiled_full_build: Warehouse
) -> None:
    assert differing_marts(misfiled, misfiled_full_build) == {}


def test_the_run_of_an_arrival_day_includes_a_row_received_the_day_before(
    misfiled: Warehouse,
) -> None:
    assert sessions(misfiled, "late_file_visitor", "session_start") == [(at("2025-03-02 23:59"),)]


def test_the_run_of_an_arrival_day_includes_a_row_received_the_day_after(
    misfiled: Warehouse,
) -> None:
    assert sessions(misfiled, "early_file_visitor", "session_start") == [
        (at("2025-03-04 00:00:30"),)
    ]


# Scenario 6: the same windows run in other orders.


def test_runs_in_another_arrival_order_equal_a_full_refresh(
    other_order: IncrementalBuild, full_build: Warehouse
) -> None:
    assert differing_marts(other_order.warehouse, full_build) == {}


def test_history_arriving_after_the_login_belongs_to_the_user(
    other_order: IncrementalBuild,
) -> None:
    assert other_order.warehouse.query(
        "select distinct person_id from marts.sessions where anonymous_id = 'laptop'"
    ) == [("user_c",)]


# Scenario 7: a window run again, and an arrival day delivered again with changes.


def test_rerunning_a_window_changes_no_mart(rerun: Warehouse, day_by_day: IncrementalBuild) -> None:
    assert differing_marts(rerun, day_by_day.warehouse) == {}


def test_a_redelivered_day_run_again_equals_a_full_refresh_of_the_new_rows(
    redelivered: Warehouse, redelivered_full_build: Warehouse
) -> None:
    assert differing_marts(redelivered, redelivered_full_build) == {}


def test_a_redelivered_day_replaces_the_sessions_it_changed(
    day_by_day: IncrementalBuild, redelivered: Warehouse
) -> None:
    columns = "session_start, session_end, event_count, converted"
    assert sessions(day_by_day.warehouse, "redelivered_visitor", columns) == [
        (at("2025-03-02 10:00"), at("2025-03-02 10:20"), 4, True)
    ]
    assert sessions(redelivered, "redelivered_visitor", columns) == [
        (at("2025-03-02 10:00"), at("2025-03-02 10:05"), 2, False),
        (at("2025-03-02 11:00"), at("2025-03-02 11:00"), 1, False),
    ]


def test_a_redelivered_day_without_a_purchase_drops_its_conversion(
    redelivered: Warehouse,
) -> None:
    assert redelivered.query(
        "select count(*) from marts.conversions where anonymous_id = 'redelivered_visitor'"
    ) == [(0,)]


# Scenarios 8-10: a day delivered again without a session, a duplicate that wins from a later
# day, and a late event that starts a session; the later days run after the shared dataset's.


def test_later_days_run_day_by_day_and_delivered_again_equal_a_full_refresh(
    later_days_redelivered: Warehouse, later_days_full_build: Warehouse
) -> None:
    assert differing_marts(later_days_redelivered, later_days_full_build) == {}


def test_a_redelivered_day_without_an_ids_session_drops_that_session(
    later_days: IncrementalBuild, later_days_redelivered: Warehouse
) -> None:
    columns = "session_start, session_end, event_count"
    assert sessions(later_days.warehouse, "withdrawn_visitor", columns) == [
        (at("2025-03-03 09:00"), at("2025-03-03 09:02"), 2),
        (at("2025-03-04 09:00"), at("2025-03-04 09:00"), 1),
    ]
    assert sessions(later_days_redelivered, "withdrawn_visitor", columns) == [
        (at("2025-03-04 09:00"), at("2025-03-04 09:00"), 1)
    ]


def test_a_redelivered_day_without_an_ids_session_drops_its_page_view(
    later_days: IncrementalBuild, later_days_redelivered: Warehouse
) -> None:
    assert page_views(later_days.warehouse, "withdrawn_visitor", "message_id") == [
        ("withdrawn-1",),
        ("withdrawn-3",),
    ]
    assert page_views(later_days_redelivered, "withdrawn_visitor", "message_id") == [
        ("withdrawn-3",)
    ]


def test_a_redelivered_day_without_an_ids_first_session_makes_the_next_day_its_first(
    later_days_redelivered: Warehouse,
) -> None:
    assert later_days_redelivered.query(
        "select activity_date, session_count, is_new_user from marts.user_activity_daily "
        "where person_id = 'withdrawn_visitor' order by activity_date"
    ) == [(date(2025, 3, 4), 1, True)]


def test_a_duplicate_that_wins_from_a_later_day_moves_its_session_to_its_event_time(
    later_days: IncrementalBuild,
) -> None:
    columns = "session_start, session_end, event_count"
    assert sessions(later_days.after[MARCH_4], "duplicate_visitor", columns) == [
        (at("2025-03-04 10:00"), at("2025-03-04 10:20"), 2)
    ]
    assert sessions(later_days.after[MARCH_5], "duplicate_visitor", columns) == [
        (at("2025-03-04 09:50"), at("2025-03-04 10:00"), 2)
    ]


def test_a_duplicate_that_wins_from_a_later_day_replaces_its_page_view(
    later_days: IncrementalBuild,
) -> None:
    assert later_days.after[MARCH_5].query(
        "select viewed_at, page_view_number, is_entrance from marts.page_views "
        "where message_id = 'duplicate-2'"
    ) == [(at("2025-03-04 09:50"), 1, True)]


def test_a_late_event_before_a_sessions_first_event_starts_the_session_anew(
    later_days: IncrementalBuild,
) -> None:
    columns = "session_key, session_start, session_end, event_count"
    [before] = sessions(later_days.after[MARCH_4], "late_start_visitor", columns)
    [after] = sessions(later_days.after[MARCH_5], "late_start_visitor", columns)
    assert before[1:] == (at("2025-03-04 15:00"), at("2025-03-04 15:10"), 2)
    assert after[1:] == (at("2025-03-04 14:45"), at("2025-03-04 15:10"), 3)
    assert after[0] != before[0]


def test_a_late_event_before_a_sessions_first_event_leaves_its_old_rows_superseded(
    later_days: IncrementalBuild,
) -> None:
    [(old_key,)] = sessions(later_days.after[MARCH_4], "late_start_visitor", "session_key")
    assert later_days.after[MARCH_5].query(
        "select message_id, session_key, session_start from intermediate.int_event_sessions "
        "where anonymous_id = 'late_start_visitor' and is_superseded "
        f"and rederived_for = '{MARCH_5.min_date}..{MARCH_5.max_date}' order by message_id"
    ) == [
        ("late-start-2", old_key, at("2025-03-04 15:00")),
        ("late-start-3", old_key, at("2025-03-04 15:00")),
    ]


def test_rerunning_the_window_of_a_sessions_new_first_event_changes_no_mart(
    later_days_rerun: Warehouse, later_days: IncrementalBuild
) -> None:
    assert differing_marts(later_days_rerun, later_days.after[MARCH_5]) == {}
