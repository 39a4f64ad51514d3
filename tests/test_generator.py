"""The sample-data generator: contract-conformant, deterministic, realistic and messy on purpose."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import duckdb
import pyarrow.parquet as pq
import pytest
import ua_parser

from orchestration.contract import (
    DEPLOYMENT_STATUSES,
    EVENT_PROPERTIES,
    EVENTS,
    METRIC_TYPES,
    METRICS,
    ColumnType,
    Dataset,
)
from orchestration.generator import GenerationSummary, GeneratorConfig, catalog, generate
from orchestration.generator.cli import main
from orchestration.settings import Settings

END = date(2025, 3, 10)
DAYS = 4
EVENT_COUNT = 40_000
METRIC_COUNT = 6_000
FILES_PER_DAY = 3
BOT_SIGNATURES = ("bot", "facebookexternalhit")
FUTURE_TOLERANCE = timedelta(hours=Settings.from_env().future_tolerance_hours)


@dataclass(frozen=True)
class Landing:
    root: Path
    summary: GenerationSummary
    sql: duckdb.DuckDBPyConnection
    _cache: dict[str, list[Any]] = field(default_factory=dict)

    def rows(self, query: str, *params: Any) -> list[tuple]:
        return self.sql.execute(query, list(params)).fetchall()

    def value(self, query: str, *params: Any) -> Any:
        return self.rows(query, *params)[0][0]

    def records(self, dataset: Dataset) -> list[dict[str, Any]]:
        if dataset.name not in self._cache:
            self._cache[dataset.name] = [
                row
                for path in sorted((self.root / dataset.name).glob("date=*/*.parquet"))
                for row in pq.read_table(path).to_pylist()
            ]
        return self._cache[dataset.name]

    def violations(self, dataset: Dataset) -> list[list[str]]:
        """Per row that breaks the contract, the rules it breaks."""
        key = f"{dataset.name} violations"
        if key not in self._cache:
            problems = (contract_violations(row, dataset) for row in self.records(dataset))
            self._cache[key] = [p for p in problems if p]
        return self._cache[key]


def _config(out: Path, **overrides: Any) -> GeneratorConfig:
    settings = {
        "days": DAYS,
        "events": EVENT_COUNT,
        "metrics": METRIC_COUNT,
        "seed": 7,
        "end_date": END,
        "files_per_day": FILES_PER_DAY,
        "invalid_rate": 0.0,
        **overrides,
    }
    return GeneratorConfig(out=out, **settings)


def _open(root: Path, summary: GenerationSummary) -> Landing:
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    for dataset in (EVENTS, METRICS):
        connection.execute(
            f"create view {dataset.name} as select *, "
            "regexp_extract(filename, 'date=([0-9-]+)', 1)::date as folder_date "
            f"from read_parquet('{root}/{dataset.name}/*/*.parquet', filename = true, "
            "hive_partitioning = false)"
        )
    # First deliveries only: a redelivery's later received_at would shift its event time.
    connection.execute(
        """
        create view event_times as
        select *,
            coalesce(received_at - (sent_at - "timestamp"), "timestamp") as event_time
        from events
        qualify row_number() over (partition by message_id order by received_at) = 1
        """
    )
    return Landing(root, summary, connection)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landing]:
    """A clean landing: the default messiness, but no rows that break the contract."""
    root = tmp_path_factory.mktemp("landing")
    opened = _open(root, generate(_config(root)))
    yield opened
    opened.sql.close()


@pytest.fixture(scope="module")
def acquisition(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landing]:
    """A larger landing of two days, so that even the rarest sources of sessions show up."""
    root = tmp_path_factory.mktemp("acquisition")
    config = _config(root, days=2, events=300_000, metrics=1_000, files_per_day=1)
    opened = _open(root, generate(config))
    yield opened
    opened.sql.close()


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landing]:
    """A landing with every kind of messiness turned up, to measure the rates."""
    root = tmp_path_factory.mktemp("messy")
    config = _config(
        root,
        duplicate_rate=0.05,
        late_rate=0.1,
        skew_rate=0.2,
        no_session_id_rate=0.3,
        bot_rate=0.05,
        invalid_rate=0.01,
    )
    opened = _open(root, generate(config))
    yield opened
    opened.sql.close()


def contract_violations(row: dict[str, Any], dataset: Dataset) -> list[str]:
    """The value rules of the contract that `row` breaks, as the loader checks them."""
    problems = []
    for column in dataset.columns:
        value = row[column.name]
        if value is None:
            if column.required:
                problems.append(f"{column.name} is null")
            continue
        if column.accepted_values is not None and value not in column.accepted_values:
            problems.append(f"{column.name} is not an accepted value")
        if column.pattern is not None and not re.fullmatch(column.pattern, value):
            problems.append(f"{column.name} does not match its pattern")
        if column.type is ColumnType.DOUBLE and not math.isfinite(value):
            problems.append(f"{column.name} is not finite")
        if column.json_object:
            try:
                parsed = json.loads(value)
            except ValueError:
                problems.append(f"{column.name} is not JSON")
                continue
            if not isinstance(parsed, dict):
                problems.append(f"{column.name} is not a JSON object")
            elif column.json_string_values and not all(isinstance(v, str) for v in parsed.values()):
                problems.append(f"{column.name} has values that are not strings")
    if dataset is EVENTS:
        event_time = row["timestamp"]
        if row["sent_at"] is not None:
            event_time = row["received_at"] - (row["sent_at"] - row["timestamp"])
        if event_time > row["received_at"] + FUTURE_TOLERANCE:
            problems.append("event time is more than the tolerance after received_at")
    return problems


def _share(landing: Landing, condition: str, of: str = "true", table: str = "events") -> float:
    return landing.value(f"select avg(({condition})::int) from {table} where {of}")


# Files


def test_every_file_has_exactly_the_contract_schema(landing: Landing) -> None:
    for dataset in (EVENTS, METRICS):
        paths = sorted((landing.root / dataset.name).glob("date=*/*.parquet"))
        assert paths
        for path in paths:
            assert pq.read_schema(path).remove_metadata() == dataset.arrow_schema(), path


def test_files_are_zstd_compressed(landing: Landing) -> None:
    for path in landing.root.glob("*/date=*/*.parquet"):
        metadata = pq.ParquetFile(path).metadata
        assert metadata.row_group(0).column(0).compression == "ZSTD", path


def test_each_arrival_date_gets_the_requested_number_of_part_files(landing: Landing) -> None:
    dates = [(END - timedelta(days=d)).isoformat() for d in reversed(range(DAYS))]
    for dataset in (EVENTS, METRICS):
        folders = sorted(p.name for p in (landing.root / dataset.name).iterdir())
        assert folders == [f"date={d}" for d in dates]
        for folder in folders:
            parts = sorted(p.name for p in (landing.root / dataset.name / folder).iterdir())
            assert parts == [f"part-{n:04d}.parquet" for n in range(FILES_PER_DAY)]


@pytest.mark.parametrize("dataset", [EVENTS, METRICS], ids=lambda d: d.name)
def test_the_files_of_a_date_hold_similar_numbers_of_rows(
    landing: Landing, dataset: Dataset
) -> None:
    for folder_date, smallest, largest in landing.rows(
        f"""
        select folder_date, min(rows), max(rows) from (
            select folder_date, filename, count(*) as rows from {dataset.name} group by all
        )
        group by 1
        """
    ):
        assert largest < 1.5 * smallest, folder_date


def test_events_land_in_the_folder_of_their_received_at_date(landing: Landing) -> None:
    misplaced = landing.value("select count(*) from events where received_at::date <> folder_date")
    assert landing.value("select count(*) from events") > 0
    assert misplaced == 0


def test_metrics_first_land_on_their_own_date_or_up_to_two_days_later(landing: Landing) -> None:
    lateness = landing.rows(
        """
        select first_date - point_date, count(*) from (
            select metric_id,
                min(folder_date) as first_date,
                any_value(timestamp::date) as point_date
            from metrics group by metric_id
        )
        group by 1 order by 1
        """
    )
    assert [days for days, _ in lateness] == [0, 1, 2]
    assert lateness[0][1] > 0.97 * METRIC_COUNT


def test_nothing_arrives_after_the_end_date(landing: Landing) -> None:
    assert landing.value("select max(received_at)::date from events") == END
    assert landing.value("select max(folder_date) from metrics") == END


def test_the_requested_numbers_of_distinct_rows_are_written(landing: Landing) -> None:
    assert landing.value("select count(distinct message_id) from events") == EVENT_COUNT
    assert landing.value("select count(distinct metric_id) from metrics") == METRIC_COUNT
    assert landing.summary.events.distinct == EVENT_COUNT
    assert landing.summary.events.rows == landing.value("select count(*) from events")


# Determinism


def _file_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*.parquet"))
    }


def test_the_same_arguments_write_byte_identical_files(tmp_path: Path) -> None:
    for run in ("first", "second"):
        generate(_config(tmp_path / run, days=2, events=3_000, metrics=500))
    first = _file_bytes(tmp_path / "first")
    assert len(first) == 2 * 2 * FILES_PER_DAY
    assert first == _file_bytes(tmp_path / "second")


def test_another_seed_writes_other_events(tmp_path: Path) -> None:
    for seed in (1, 2):
        generate(_config(tmp_path / str(seed), days=1, events=1_000, metrics=100, seed=seed))
    ids = [
        {row["message_id"] for row in pq.read_table(tmp_path / str(seed) / "events").to_pylist()}
        for seed in (1, 2)
    ]
    assert not ids[0] & ids[1]


# Messiness


def test_redeliveries_repeat_the_message_and_arrive_later(messy: Landing) -> None:
    deliveries: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in messy.records(EVENTS):
        deliveries[row["message_id"]].append(row)
    redelivered = 0
    for rows in deliveries.values():
        first, *again = sorted(rows, key=lambda row: row["received_at"])
        for row in again:
            assert row["received_at"] > first["received_at"]
            assert {**row, "received_at": None} == {**first, "received_at": None}
        redelivered += len(again)
    assert redelivered == messy.summary.events.redelivered
    assert redelivered == pytest.approx(0.05 * EVENT_COUNT, rel=0.15)


def test_some_redeliveries_land_in_another_file_and_another_day(messy: Landing) -> None:
    other_file, other_day = messy.rows(
        """
        select count(distinct message_id) filter (where files > 1),
            count(distinct message_id) filter (where dates > 1)
        from (
            select message_id,
                count(distinct filename) as files,
                count(distinct folder_date) as dates
            from events group by message_id having count(*) > 1
        )
        """
    )[0]
    assert other_file > 0
    assert other_day > 0


def test_late_sessions_arrive_one_to_five_days_after_the_event(messy: Landing) -> None:
    # Sessions of the last days cannot be late: nothing arrives after the end date.
    old_enough = f"event_time < '{END - timedelta(days=1)}'"
    late = "received_at - event_time >= interval 1 day"
    assert _share(messy, late, old_enough, "event_times") == pytest.approx(0.1, rel=0.3)
    longest = messy.value("select max(received_at - event_time) from event_times")
    assert timedelta(days=2) < longest <= timedelta(days=5, seconds=15)


def test_skewed_devices_shift_timestamp_and_sent_at_alike(messy: Landing) -> None:
    skewed = "abs(epoch_ms(sent_at) - epoch_ms(received_at)) > 60000"
    on_time = "sent_at is not null and received_at - event_time < interval 1 minute"
    assert _share(messy, skewed, on_time, "event_times") == pytest.approx(0.2, rel=0.2)
    # After skew correction the event time is seconds before its arrival.
    assert messy.value(
        f"select max(received_at - event_time) from event_times where {skewed} and {on_time}"
    ) < timedelta(seconds=15)


def test_sessions_without_session_id_have_the_requested_share(messy: Landing) -> None:
    assert _share(messy, "session_id is null") == pytest.approx(0.3, rel=0.15)


def test_crawlers_send_the_requested_share_of_events(messy: Landing) -> None:
    crawler = " or ".join(f"user_agent ilike '%{s}%'" for s in BOT_SIGNATURES)
    assert _share(messy, crawler) == pytest.approx(0.05, rel=0.1)


def test_about_two_percent_of_the_default_traffic_is_crawlers(landing: Landing) -> None:
    crawler = " or ".join(f"user_agent ilike '%{s}%'" for s in BOT_SIGNATURES)
    assert _share(landing, crawler) == pytest.approx(0.02, rel=0.1)


def test_crawlers_name_their_device_type_only_sometimes(landing: Landing) -> None:
    given = landing.rows(
        """
        select device_type, count(*) from events
        where user_agent ilike '%bot%' group by 1 order by 1 nulls last
        """
    )
    assert [device for device, _ in given] == ["bot", None]
    assert all(count > 100 for _, count in given)


@pytest.mark.parametrize("dataset", [EVENTS, METRICS], ids=lambda d: d.name)
def test_a_landing_without_invalid_rate_has_no_row_breaking_the_contract(
    landing: Landing, dataset: Dataset
) -> None:
    assert landing.violations(dataset) == []


@pytest.mark.parametrize("dataset", [EVENTS, METRICS], ids=lambda d: d.name)
def test_invalid_rows_break_the_contract_as_many_times_as_reported(
    messy: Landing, dataset: Dataset
) -> None:
    broken = messy.violations(dataset)
    summary = messy.summary.events if dataset is EVENTS else messy.summary.metrics
    assert len(broken) == summary.invalid
    assert summary.invalid == pytest.approx(0.01 * summary.distinct, rel=0.3)
    assert all(len(rules) == 1 for rules in broken)


def test_invalid_events_break_every_kind_of_value_rule(messy: Landing) -> None:
    assert {rules[0] for rules in messy.violations(EVENTS)} == {
        "event_type is not an accepted value",
        "channel_type is not an accepted value",
        "device_type is not an accepted value",
        "country_code does not match its pattern",
        "properties is not JSON",
        "properties is not a JSON object",
        "event time is more than the tolerance after received_at",
    }


def test_invalid_metrics_break_every_kind_of_value_rule(messy: Landing) -> None:
    assert {rules[0] for rules in messy.violations(METRICS)} == {
        "metric_type is not an accepted value",
        "value is not finite",
        "tags is not JSON",
        "tags is not a JSON object",
        "tags has values that are not strings",
    }


# The product


FUNNELS = {
    "signup": ("pricing_viewed", "signup_started", "signup"),
    "checkout": ("product_viewed", "add_to_cart", "checkout_started", "purchase"),
    "booking": ("booking_page_viewed", "appointment_booked"),
}


@pytest.mark.parametrize("steps", FUNNELS.values(), ids=FUNNELS.keys())
def test_every_funnel_is_walked_with_drop_off_at_each_step(
    landing: Landing, steps: tuple[str, ...]
) -> None:
    counts = dict(
        landing.rows(
            "select event_name, count(distinct message_id) from events "
            "where event_name in (select unnest(?)) group by 1",
            list(steps),
        )
    )
    reached = [counts.get(step, 0) for step in steps]
    assert reached[-1] > 10
    assert reached == sorted(reached, reverse=True)
    assert len(set(reached)) == len(reached)


def test_conversions_carry_a_value_and_an_iso_currency(landing: Landing) -> None:
    conversions = landing.rows(
        """
        select event_name,
            count(*),
            count(*) filter (
                where json_type(properties, '$.value') in ('UBIGINT', 'BIGINT', 'DOUBLE')
            ),
            count(*) filter (where regexp_full_match(properties ->> '$.currency', '[A-Z]{3}')),
            count(*) filter (where properties ->> '$.currency' in ('USD', 'EUR', 'GBP'))
        from events
        where event_name in ('signup', 'purchase', 'appointment_booked')
        group by 1 order by 1
        """
    )
    assert [name for name, *_ in conversions] == ["appointment_booked", "purchase", "signup"]
    for _, total, with_value, with_currency, usual_currency in conversions:
        assert with_value == total
        assert with_currency == total
        assert usual_currency > 0.8 * total


def test_purchases_are_worth_the_product_price_times_the_items(landing: Landing) -> None:
    prices = {product.price for product in catalog.SHOP.products}
    for value, items in landing.rows(
        "select (properties ->> '$.value')::double, (properties ->> '$.items')::int "
        "from events where event_name = 'purchase'"
    ):
        assert any(math.isclose(value, price * items) for price in prices)


def test_identify_events_carry_the_user_id_and_traits(landing: Landing) -> None:
    identifies = landing.rows(
        """
        select user_id, properties -> '$.traits' from events
        where event_name = 'identify' and event_type = 'identify'
        """
    )
    assert len(identifies) > 100
    for user_id, traits in identifies:
        assert user_id.startswith("usr_")
        assert set(json.loads(traits)) == {"name", "email", "plan"}
        assert "@" in json.loads(traits)["email"]


def test_after_identifying_a_visitor_keeps_the_user_id(landing: Landing) -> None:
    anonymous_after_identify = landing.value(
        """
        select count(*) from event_times later
        join (
            select anonymous_id, min(event_time) identified_at from event_times
            where event_name = 'identify' group by 1
        ) first_identify using (anonymous_id)
        where later.event_time > first_identify.identified_at and later.user_id is null
        """
    )
    logged_in_later = landing.value(
        "select count(*) from events where user_id is not null and event_name <> 'identify'"
    )
    assert anonymous_after_identify == 0
    assert logged_in_later > 1_000


def test_visitors_browse_anonymously_before_they_log_in(landing: Landing) -> None:
    anonymous_before = landing.value(
        """
        select count(distinct anonymous_id) from event_times earlier
        join (
            select anonymous_id, min(event_time) identified_at from event_times
            where event_name = 'identify' group by 1
        ) first_identify using (anonymous_id)
        where earlier.event_time < first_identify.identified_at and earlier.user_id is null
        """
    )
    assert anonymous_before > 50


def test_some_users_come_back_on_a_second_device(landing: Landing) -> None:
    devices = landing.rows(
        """
        select user_id, list(distinct device_type order by device_type) from events
        where user_id is not null and device_type is not null
        group by 1 having count(distinct anonymous_id) = 2
        """
    )
    assert len(devices) > 10
    assert any(kinds == ["desktop", "mobile"] for _, kinds in devices)


def test_visitor_activity_is_skewed_towards_a_few_regulars(landing: Landing) -> None:
    top_share, median = landing.rows(
        """
        with visitors as (
            select anonymous_id, count(*) as events from events
            where user_agent not ilike '%bot%' group by 1
        )
        select
            sum(events) filter (where rank <= (select count(*) / 100 from visitors))
                / sum(events),
            median(events)
        from (select *, row_number() over (order by events desc) as rank from visitors)
        """
    )[0]
    assert top_share > 0.05
    assert median < 40


def test_page_views_are_followed_by_pings_and_leaves_on_the_same_page(landing: Landing) -> None:
    orphans, pings, depths = landing.rows(
        """
        select
            count(*) filter (where not viewed),
            count(*),
            count(*) filter (where (properties ->> '$.scroll_depth')::int between 0 and 100
                and coalesce((properties ->> '$.engaged_ms')::int, 0) >= 0)
        from (
            select *, max(event_name = 'page_view') over (
                partition by session_id, page_path order by "timestamp"
                rows between unbounded preceding and current row
            ) as viewed
            from events where session_id is not null
        )
        where event_name in ('page_ping', 'page_leave')
        """
    )[0]
    assert pings > 1_000
    assert orphans == 0
    assert depths == pings


def test_scroll_depth_grows_with_each_ping_of_a_page_view(landing: Landing) -> None:
    shrinking, followed = landing.rows(
        """
        with numbered as (
            select *,
                (properties ->> '$.scroll_depth')::int as depth,
                count(*) filter (where event_name = 'page_view') over (
                    partition by session_id order by "timestamp"
                ) as page_view_number
            from event_times where session_id is not null
        ),
        steps as (
            select depth, lag(depth) over (
                partition by session_id, page_view_number order by "timestamp"
            ) as previous_depth
            from numbered where event_name in ('page_ping', 'page_leave')
        )
        select count(*) filter (where depth < previous_depth), count(previous_depth) from steps
        """
    )[0]
    assert followed > 500
    assert shrinking == 0


def test_engaged_ms_never_exceeds_the_time_since_the_previous_ping_or_the_view(
    landing: Landing,
) -> None:
    too_long, measured, pings, median_ping, pages_over, pages = landing.rows(
        """
        with numbered as (
            select *,
                count(*) filter (where event_name = 'page_view') over (
                    partition by session_id order by "timestamp", message_id
                ) as page_view_number
            from event_times
            where session_id is not null
                and event_name in ('page_view', 'page_ping', 'page_leave')
        ),
        steps as (
            select session_id, page_view_number, event_name,
                (properties ->> '$.engaged_ms')::bigint as engaged_ms,
                epoch_ms("timestamp") - lag(epoch_ms("timestamp")) over (
                    partition by session_id, page_view_number order by "timestamp", message_id
                ) as since_previous,
                epoch_ms("timestamp") - first_value(epoch_ms("timestamp")) over (
                    partition by session_id, page_view_number order by "timestamp", message_id
                ) as since_view
            from numbered
        ),
        page_views as (
            select sum(engaged_ms) as engaged_ms, max(since_view) as on_page
            from steps where engaged_ms is not null
            group by session_id, page_view_number
        )
        select
            (select count(*) from steps where engaged_ms > since_previous),
            (select count(*) from steps where engaged_ms is not null),
            (select count(*) from steps where event_name = 'page_ping' and engaged_ms is not null),
            (select median(engaged_ms) from steps where event_name = 'page_ping'),
            (select count(*) from page_views where engaged_ms > on_page),
            (select count(*) from page_views)
        """
    )[0]
    assert measured > 1_000
    assert pings > 500
    assert pages > 500
    assert too_long == 0
    assert pages_over == 0
    # Each ping reports about its 10 s interval, not the time since the page view.
    assert 7_000 <= median_ping <= 10_000


def test_about_a_quarter_of_web_devices_send_pings_without_engaged_ms(landing: Landing) -> None:
    devices = landing.rows(
        """
        select anonymous_id, any_value(sdk_version),
            bool_and(properties ->> '$.engaged_ms' is not null),
            bool_or(properties ->> '$.engaged_ms' is not null),
            bool_and(json_keys(properties) = ['scroll_depth']
                or properties ->> '$.engaged_ms' is not null)
        from events where event_name in ('page_ping', 'page_leave')
        group by anonymous_id
        """
    )
    without = [device for device in devices if not device[3]]
    assert 0.15 < len(without) / len(devices) < 0.35
    # A device's SDK either measures engaged time on every ping and leave or on none.
    assert all(always == ever for _, _, always, ever, _ in devices)
    assert {sdk for _, sdk, *_ in without} == set(catalog.SDKS_WITHOUT_ENGAGED_MS)
    # Without engaged time a ping or leave carries its scroll depth alone.
    assert all(scroll_depth_alone for *_, scroll_depth_alone in devices)


def test_every_source_of_sessions_shows_up_on_first_visits(acquisition: Landing) -> None:
    # A visitor's first page view always starts a session (a page after a long break never
    # comes first), so its referrer and UTM parameters are those of the session's source.
    first_visits = dict(
        acquisition.rows(
            """
            with first_visits as (
                select * from event_times where event_name = 'page_view' and page_url is not null
                qualify row_number() over (
                    partition by anonymous_id order by "timestamp", message_id
                ) = 1
            )
            select
                case when page_referrer = regexp_extract(page_url, '^https?://[^/]+') || '/'
                    then 'own site' else coalesce(page_referrer, '') end
                || ' ' || coalesce(regexp_extract(page_url, '[?].*$'), ''),
                count(*)
            from first_visits group by all
            """
        )
    )
    sources = {}
    for source in catalog.SOURCES:
        referrer = source.referrer or ""
        if catalog.OWN_SITE in referrer:
            referrer = "own site"
        sources[source] = f"{referrer} {'?' + urlencode(source.utm) if source.utm else ''}"
    missing = [source for source, key in sources.items() if key not in first_visits]
    assert missing == []
    # The rare sources (video, display, shopping, webmail, affiliates, SMS, push ...) stay a few
    # percent of the visits, as their weights say.
    rare = [source for source in catalog.SOURCES if source.weight < 0.6]
    expected = sum(source.weight for source in rare) / sum(s.weight for s in catalog.SOURCES)
    share = sum(first_visits[sources[source]] for source in rare) / sum(first_visits.values())
    assert expected < 0.07
    assert 0.7 * expected < share < 1.3 * expected


def test_campaign_entry_pages_carry_utm_parameters(landing: Landing) -> None:
    campaigns = landing.rows(
        """
        select distinct regexp_extract(page_url, 'utm_medium=([a-z_]+)', 1) from events
        where page_url like '%utm_source=%' and page_url like '%utm_campaign=%'
        """
    )
    assert {medium for (medium,) in campaigns} >= {"cpc", "email", "paid_social"}
    assert landing.value("select count(*) from events where page_url like '%utm_term=%'") > 0
    assert landing.value("select count(*) from events where page_url like '%utm_content=%'") > 0


def test_referrers_are_search_social_direct_and_internal(landing: Landing) -> None:
    referrers = {
        referrer
        for (referrer,) in landing.rows(
            "select distinct page_referrer from events where event_name = 'page_view'"
        )
    }
    assert None in referrers
    assert {"https://www.google.com/", "https://l.facebook.com/", "https://t.co/"} <= referrers
    assert any(r and r.startswith("https://www.acme-outdoor.com/") for r in referrers)


def test_ip_addresses_are_ipv4_and_ipv6(landing: Landing) -> None:
    ipv4 = r"\d{1,3}(\.\d{1,3}){3}"
    ipv6 = r"[0-9a-f]{1,4}(:[0-9a-f]{1,4}){2,6}::[0-9a-f]{0,4}"
    shares = landing.rows(
        "select avg(regexp_full_match(ip_address, ?)::int), "
        "avg(regexp_full_match(ip_address, ?)::int) from events where ip_address is not null",
        ipv4,
        ipv6,
    )[0]
    assert shares[0] + shares[1] == pytest.approx(1.0)
    assert shares[1] == pytest.approx(0.28, abs=0.08)


def test_device_os_and_browser_are_sometimes_left_to_the_user_agent(landing: Landing) -> None:
    left_out = _share(
        landing,
        "device_type is null and os_name is null and browser_name is null",
        "user_agent is not null",
    )
    assert left_out == pytest.approx(0.45, abs=0.1)


def test_given_os_and_browser_agree_with_what_the_user_agent_says() -> None:
    for agent in catalog.USER_AGENTS:
        parsed = ua_parser.parse(agent.ua)
        assert parsed.os is not None and parsed.os.family == agent.os_name, agent.ua
        if agent.browser_name is not None:
            assert parsed.user_agent is not None, agent.ua
            assert parsed.user_agent.family == agent.browser_name, agent.ua


def test_crawler_user_agents_are_recognised_as_spiders() -> None:
    for crawler in catalog.CRAWLERS:
        parsed = ua_parser.parse(crawler.ua)
        assert parsed.device is not None and parsed.device.family == "Spider", crawler.ua


def test_traffic_is_mostly_web_some_mobile_and_a_little_whatsapp(landing: Landing) -> None:
    shares = dict(
        landing.rows(
            "select coalesce(channel_type, 'web'), count(*) / sum(count(*)) over () "
            "from events where event_name <> 'deployment' group by 1"
        )
    )
    assert shares["web"] > 0.8
    assert 0.03 < shares["mobile"] < 0.15
    assert 0 < shares["whatsapp"] < 0.03


def test_several_tenants_and_projects_send_events(landing: Landing) -> None:
    projects = landing.rows("select distinct tenant_id, project_id from events order by 1, 2")
    assert projects == sorted((p.tenant_id, p.project_id) for p in catalog.PROJECTS)


def test_some_sessions_cross_midnight(landing: Landing) -> None:
    crossing = landing.value(
        """
        select count(*) from (
            select session_id from events where session_id is not null
            group by 1 having count(distinct "timestamp"::date) > 1
        )
        """
    )
    assert crossing > 0


def test_long_breaks_start_a_new_client_session(landing: Landing) -> None:
    longest_gap_within_a_session = landing.value(
        """
        select max(gap) from (
            select "timestamp" - lag("timestamp") over (
                partition by session_id order by "timestamp"
            ) as gap
            from events where session_id is not null
        )
        """
    )
    assert longest_gap_within_a_session <= timedelta(minutes=30)


def test_feature_usage_names_the_feature_its_duration_and_success(landing: Landing) -> None:
    features = landing.rows(
        """
        select properties ->> '$.feature', properties ->> '$.action',
            min((properties ->> '$.duration_ms')::int),
            list(distinct json_type(properties, '$.success'))
        from events where event_name = 'feature_used' group by 1, 2
        """
    )
    assert len(features) >= 10
    for _, action, shortest, success_types in features:
        assert action
        assert shortest >= 0
        assert success_types == ["BOOLEAN"]


def test_preference_updates_carry_every_preference(landing: Landing) -> None:
    for (properties,) in landing.rows(
        "select properties from events where event_name = 'preferences_updated'"
    ):
        preferences = json.loads(properties)
        assert preferences["color_scheme"] in catalog.COLOR_SCHEMES
        assert preferences["font_family"] in catalog.FONT_FAMILIES
        assert preferences["layout_mode"] in catalog.LAYOUT_MODES
        assert set(preferences["favorite_components"]) <= set(catalog.FAVORITE_COMPONENTS)


def test_properties_hold_the_fields_the_contract_lists_for_each_event(landing: Landing) -> None:
    optional = {"rollback_of", "engaged_ms"}
    names = landing.rows("select distinct event_name from events")
    assert {name for (name,) in names} >= set(EVENT_PROPERTIES)
    for name, fields in EVENT_PROPERTIES.items():
        missing = landing.value(
            "select count(*) from events where event_name = ? and not list_has_all("
            "coalesce(json_keys(properties), []), ?)",
            name,
            [f for f in fields if f not in optional],
        )
        assert missing == 0, name


def test_deployments_go_from_pending_to_a_final_status(landing: Landing) -> None:
    histories = landing.rows(
        """
        select list(distinct properties ->> '$.status' order by properties ->> '$.status')
        from events where event_name = 'deployment'
        group by properties ->> '$.deployment_id'
        """
    )
    assert len(histories) > 10
    finished = [statuses for (statuses,) in histories]
    assert all("pending" in statuses and len(statuses) >= 2 for statuses in finished)
    assert {status for statuses in finished for status in statuses} == set(DEPLOYMENT_STATUSES)


def test_rolled_back_deployments_are_replaced_by_a_rollback(landing: Landing) -> None:
    rollbacks = landing.rows(
        """
        select rollback.properties ->> '$.rollback_of', count(replaced.message_id)
        from events rollback
        left join events replaced
            on replaced.properties ->> '$.deployment_id' = rollback.properties ->> '$.rollback_of'
            and replaced.properties ->> '$.status' = 'rolled_back'
        where rollback.event_name = 'deployment' and rollback.properties ->> '$.status' = 'ready'
            and rollback.properties ->> '$.rollback_of' is not null
        group by 1
        """
    )
    assert rollbacks
    assert all(replaced >= 1 for _, replaced in rollbacks)


def test_metrics_cover_every_type_with_units(landing: Landing) -> None:
    types = landing.rows(
        "select metric_type, list(distinct unit order by unit) from metrics group by 1 order by 1"
    )
    assert [metric_type for metric_type, _ in types] == sorted(METRIC_TYPES)
    assert dict(types)["timer"] == ["ms", None]


def test_metric_tags_arrive_in_varying_key_order(landing: Landing) -> None:
    spellings = landing.rows(
        """
        select list(distinct tags) from metrics
        where name = 'api.request.duration' and tags like '%"region"%'
        group by tags::json ->> '$.region', tags::json ->> '$.endpoint'
        """
    )
    for (texts,) in spellings:
        orders = {tuple(json.loads(text)) for text in texts}
        assert len(orders) > 1
    assert all(
        isinstance(value, str)
        for (texts,) in spellings
        for text in texts
        for value in json.loads(text).values()
    )


# The command line


def test_the_command_line_writes_the_landing_and_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code = main(
        [
            "--days",
            "2",
            "--events",
            "2000",
            "--metrics",
            "300",
            "--seed",
            "3",
            "--end-date",
            "2025-03-10",
            "--files-per-day",
            "2",
            "--out",
            str(tmp_path),
        ]
    )
    printed = capsys.readouterr().out
    assert exit_code == 0
    assert f"Wrote {tmp_path} (2025-03-09 .. 2025-03-10, 2 days)" in printed
    assert re.search(r"events\s+[\d,]+ rows in\s+4 files \(2,000 distinct", printed)
    assert re.search(r"metrics\s+[\d,]+ rows in\s+4 files \(300 distinct", printed)
    assert re.search(r"took [\d.]+ s", printed)
    assert len(list(tmp_path.glob("events/date=2025-03-1[0]/part-*.parquet"))) == 2


def test_clean_removes_the_files_of_an_earlier_run(tmp_path: Path) -> None:
    stale = tmp_path / "events" / "date=2020-01-01" / "part-0000.parquet"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    main(
        [
            "--days",
            "1",
            "--events",
            "100",
            "--end-date",
            "2025-03-10",
            "--out",
            str(tmp_path),
            "--clean",
        ]
    )
    assert not stale.exists()
    assert sorted(p.name for p in (tmp_path / "events").iterdir()) == ["date=2025-03-10"]


def test_a_rate_outside_zero_to_one_is_refused_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code = main(["--late-rate", "1.5", "--out", str(tmp_path)])
    assert exit_code == 2
    assert "late rate must be between 0 and 1, got 1.5" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
