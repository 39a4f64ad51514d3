"""Sessions of people and crawlers, built for many sessions at once into event columns.

A human session is a list of steps: browsing pages, then a journey's funnel template cut where
the visitor dropped off, then pages and actions after it. Page steps expand into a page view,
page pings while the visitor reads and sometimes a page leave. Steps then get times, and events
get their delivery times with the session's messiness (device clock skew, offline lateness).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.contract import CHANNEL_TYPES, EVENTS
from orchestration.generator import catalog
from orchestration.generator.arrays import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    Choice,
    concat,
    expand,
    geometric,
    hex_strings,
    json_texts,
    lognormal_ms,
    numbers,
    random_uuids,
    scatter,
    segment_starts,
    strings,
    take,
    timestamps,
)
from orchestration.generator.catalog import Event, Journey, Role
from orchestration.generator.landing import contract_table
from orchestration.generator.population import Population
from orchestration.generator.world import CHANNEL_CODE, World

WEB = CHANNEL_CODE[catalog.WEB]
MOBILE = CHANNEL_CODE[catalog.MOBILE]
WHATSAPP = CHANNEL_CODE[catalog.WHATSAPP]

EVENTS_PER_SESSION = 9.0
CRAWLER_EVENTS_PER_SESSION = 8.0
"""Both a little below the mean, so that a day's last chunk of sessions overshoots a bit and is
cut at the day's budget, rather than the day trailing off in ever smaller chunks."""
BROWSE_EXTRA_PAGES = 2.5
_LEAD = {Journey.SIGNUP: 0.6, Journey.CHECKOUT: 0.8, Journey.BOOKING: 0.6, Journey.LOGIN: 1.0}
LEAD_PAGES = np.array([_LEAD.get(journey, 0.0) for journey in Journey])
"""Per journey, the mean pages browsed before its first step."""
TRAIL_STEPS_IN_APP = 6.0
TRAIL_STEPS = 0.5
BROWSE_ACTION_SHARE = 0.12
APP_PAGE_SHARE = 0.40
APP_PREFERENCES_SHARE = 0.06
PINGS_PER_PAGE = 1.2
PING_INTERVAL_MS = 10_000
PAGE_LEAVE_SHARE = 0.45
LONG_BREAK_SHARE = 0.03
"""Share of page views after a break of more than 30 minutes: the client starts a new session."""
DEVICE_FIELDS_SHARE = 0.55
"""Share of sessions whose SDK sends device type, OS and browser (the others leave it to the UA)."""
DEFAULT_CHANNEL_SHARE = 0.1
"""Share of web sessions that leave channel_type empty (web is the default)."""
NO_GEO_SHARE = 0.01
NO_CITY_SHARE = 0.05
CRAWLER_DEVICE_TYPE_SHARE = 0.5
LATE_MARGIN_MS = 15_000
"""More than any flush delay plus network latency, so late events never land past the horizon."""

HOURS = Choice.of(catalog.DIURNAL_UTC)
BOOLEANS = strings(["false", "true"])
CHANNELS = strings(list(CHANNEL_TYPES))
COLOR_SCHEMES = json_texts(catalog.COLOR_SCHEMES)
FONT_FAMILIES = json_texts(catalog.FONT_FAMILIES)
LAYOUT_MODES = json_texts(catalog.LAYOUT_MODES)
FAVORITES = json_texts(
    [
        list(catalog.FAVORITE_COMPONENTS[start : start + length])
        for length in range(4)
        for start in range(len(catalog.FAVORITE_COMPONENTS) - length + 1)
    ]
)
SIGNUP_METHODS = json_texts(catalog.SIGNUP_METHODS)
PLAN_NAMES = json_texts([name for name, _, _ in catalog.PLANS])
PLAN_PRICES = np.array([price for _, price, _ in catalog.PLANS])


@dataclass(frozen=True)
class Delivery:
    """How events travel from device to collector."""

    skew_rate: float
    """Share of sessions whose device clock is off by minutes to hours."""
    late_rate: float
    """Share of sessions sent from an offline device 1 to 5 days later."""
    no_session_id_rate: float
    horizon_ms: int
    """Nothing arrives after this instant (the end of the last generated day)."""


@dataclass(frozen=True)
class EventBatch:
    table: pa.Table
    identified: np.ndarray
    """Visitors who sent an identify event in this batch."""


def _session_times(
    rng: np.random.Generator, day_ms: int, sessions: int, session: np.ndarray, gap: np.ndarray
) -> np.ndarray:
    """True event times: each session starts at a time of day by the diurnal curve."""
    start = day_ms + HOURS.draw(rng, sessions) * HOUR_MS + rng.integers(0, HOUR_MS, sessions)
    elapsed = np.cumsum(gap)
    first = segment_starts(np.bincount(session, minlength=sessions))
    return start[session] + elapsed - elapsed[first][session]


@dataclass(frozen=True)
class _Times:
    timestamp: np.ndarray
    sent_at: np.ndarray
    received_at: np.ndarray
    no_sent_at: np.ndarray


def _deliver(
    rng: np.random.Generator,
    delivery: Delivery,
    true_ms: np.ndarray,
    session: np.ndarray,
    device_clock: np.ndarray,
) -> _Times:
    """Device and collector times of each event from its true time.

    `timestamp` and `sent_at` come from the device clock, skewed alike for the whole session;
    `received_at` is the collector's true clock. Sessions without a device clock (server-side
    sends) have no `sent_at`, no skew and never arrive late.
    """
    sessions = len(device_clock)
    # Sessions are contiguous and in time order, so a session's last event is its latest.
    last = np.zeros(sessions, dtype=np.int64)
    ends = np.r_[session[1:] != session[:-1], True]
    last[session[ends]] = true_ms[ends]
    skewed = device_clock & (rng.random(sessions) < delivery.skew_rate)
    magnitude = np.exp(rng.uniform(np.log(2 * MINUTE_MS), np.log(6 * HOUR_MS), sessions))
    skew = np.where(skewed, np.where(rng.random(sessions) < 0.5, -1, 1) * magnitude, 0)
    room = delivery.horizon_ms - last - LATE_MARGIN_MS
    late = device_clock & (room >= DAY_MS) & (rng.random(sessions) < delivery.late_rate)
    delay = np.where(late, rng.uniform(DAY_MS, np.maximum(np.minimum(5 * DAY_MS, room), DAY_MS)), 0)
    skew, delay = skew.astype(np.int64), delay.astype(np.int64)

    events = len(true_ms)
    sent = true_ms + rng.integers(50, 8_000, events) + delay[session]
    received = sent + lognormal_ms(rng, events, 120, 0.7, 10, 5_000)
    return _Times(
        timestamp=true_ms + skew[session],
        sent_at=sent + skew[session],
        received_at=received,
        no_sent_at=~device_clock[session],
    )


def _time_columns(times: _Times, rows: np.ndarray) -> dict[str, pa.Array]:
    return {
        "timestamp": timestamps(times.timestamp[rows]),
        "sent_at": timestamps(times.sent_at[rows], times.no_sent_at[rows]),
        "received_at": timestamps(times.received_at[rows]),
    }


def human_events(
    world: World,
    population: Population,
    visitors: Choice,
    day_ms: int,
    sessions: int,
    limit: int,
    rng: np.random.Generator,
    delivery: Delivery,
) -> EventBatch:
    """Up to `limit` events of `sessions` sessions starting on the day that begins at `day_ms`.

    Events come session by session, in time order within a session; `limit` cuts the last
    sessions short.
    """
    n = sessions
    visitor = visitors.draw(rng, n)
    project = population.project[visitor]
    channel = population.channel[visitor]
    known = population.logged_in[visitor]
    whatsapp = channel == WHATSAPP
    journeys = world.journeys

    journey = journeys.choice.draw(rng, project * 2 + known)
    journey[whatsapp] = Journey.BOOKING
    played = journeys.played.draw(rng, journey)
    completed = played == journeys.complete[journey]
    lead = np.where(
        journey == Journey.BROWSE,
        1 + geometric(rng, BROWSE_EXTRA_PAGES, n),
        geometric(rng, LEAD_PAGES[journey], n),
    )
    in_app = world.has_app[project] & (
        (journey == Journey.APP)
        | (journey == Journey.LOGIN)
        | ((journey == Journey.SIGNUP) & completed)
    )
    trail = geometric(rng, np.where(in_app, TRAIL_STEPS_IN_APP, TRAIL_STEPS), n)
    # WhatsApp conversations are the booking steps alone, without pages around them.
    lead[whatsapp] = 0
    trail[whatsapp] = 0

    # Steps: browsing, the played part of the journey template, then what follows it.
    step_session, position = expand(lead + played + trail)
    s = step_session
    steps = len(s)
    draw = rng.random(steps)
    in_funnel = (position >= lead[s]) & (position < lead[s] + played[s])
    in_trail = position >= lead[s] + played[s]
    template_position = np.where(in_funnel, position - lead[s], 0)
    event = np.where(draw < BROWSE_ACTION_SHARE, Event.FEATURE_USED, Event.PAGE_VIEW)
    event[position == 0] = Event.PAGE_VIEW
    app_step = in_trail & in_app[s]
    app_event = np.select(
        [
            draw < APP_PAGE_SHARE,
            (draw > 1 - APP_PREFERENCES_SHARE) & world.has_preferences[project[s]],
        ],
        [Event.PAGE_VIEW, Event.PREFERENCES_UPDATED],
        Event.FEATURE_USED,
    )
    event = np.where(app_step, app_event, event)
    event = np.where(in_funnel, journeys.template_event[journey[s], template_position], event)
    role = np.where(in_funnel, journeys.template_role[journey[s], template_position], -1)
    # Visitors already logged in on this device do not identify again.
    keep = ~((event == Event.IDENTIFY) & known[s])
    s, event, role, app_step = s[keep], event[keep], role[keep], app_step[keep]
    steps = len(s)

    is_page = event == Event.PAGE_VIEW
    page = np.where(
        app_step,
        world.pages.app.draw(rng, project[s]),
        world.pages.content.draw(rng, project[s]),
    )
    page = np.where(role >= 0, world.pages.by_role[project[s], np.maximum(role, 0)], page)
    product_step = role == Role.PRODUCT
    page[product_step] = world.pages.products.draw(rng, project[s[product_step]])
    page = np.where(is_page, page, -1)
    # Every session starts with a page step, so the running maximum stays within the session.
    current = np.maximum.accumulate(np.where(is_page, np.arange(steps), -1))
    step_start = segment_starts(np.bincount(s, minlength=n))
    last_step = np.r_[s[1:] != s[:-1], True]
    next_is_page = np.r_[is_page[1:], True] | last_step

    web_page = is_page & (channel[s] == WEB)
    pings = np.where(web_page, np.minimum(geometric(rng, PINGS_PER_PAGE, steps), 40), 0)
    leave = web_page & next_is_page & (rng.random(steps) < PAGE_LEAVE_SHARE)
    deepest_scroll = rng.integers(5, 101, steps)
    emitted = np.where(is_page, np.where(whatsapp[s], 0, 1 + pings + leave), 1)

    ev_step, ev_position = expand(emitted)
    ev_session = s[ev_step]
    code = event[ev_step]
    on_page = is_page[ev_step]
    code = np.where(
        on_page,
        np.select(
            [ev_position == 0, ev_position <= pings[ev_step]],
            [Event.PAGE_VIEW, Event.PAGE_PING],
            Event.PAGE_LEAVE,
        ),
        code,
    )
    events = len(code)
    first = np.r_[True, ev_session[1:] != ev_session[:-1]]
    long_break = (code == Event.PAGE_VIEW) & ~first & (rng.random(events) < LONG_BREAK_SHARE)
    gap = np.select(
        [
            long_break,
            code == Event.PAGE_VIEW,
            code == Event.PAGE_PING,
            code == Event.PAGE_LEAVE,
        ],
        [
            rng.integers(31 * MINUTE_MS, 240 * MINUTE_MS, events),
            lognormal_ms(rng, events, 20_000, 1.1, 1_000, 20 * MINUTE_MS),
            rng.integers(PING_INTERVAL_MS - 1_000, PING_INTERVAL_MS + 1_001, events),
            rng.integers(500, 30_000, events),
        ],
        lognormal_ms(rng, events, 6_000, 1.0, 200, 10 * MINUTE_MS),
    )
    gap[first] = 0
    true_ms = _session_times(rng, day_ms, n, ev_session, gap)
    times = _deliver(rng, delivery, true_ms, ev_session, ~whatsapp)
    client_session = np.cumsum(first | long_break) - 1

    # Per session: where the visitor came from and what the SDK sends.
    source = world.sources.draw(rng, n)
    no_session_id = rng.random(n) < delivery.no_session_id_rate
    device_fields = rng.random(n) < DEVICE_FIELDS_SHARE
    default_channel = (channel == WEB) & (rng.random(n) < DEFAULT_CHANNEL_SHARE)
    geo = rng.random(n)
    # Once identified, the device remembers the user: later events of the visitor carry the id.
    identified_since = np.full(len(population.project), np.iinfo(np.int64).max)
    is_identify = code == Event.IDENTIFY
    np.minimum.at(identified_since, visitor[ev_session[is_identify]], true_ms[is_identify])
    identified = known[ev_session] | (true_ms >= identified_since[visitor[ev_session]])

    # Pages: the entry page carries the campaign; later pages are referred by the previous one.
    page_steps = np.flatnonzero(is_page)
    page_session = s[page_steps]
    entry = page_steps == step_start[page_session]
    campaign = pc.if_else(pa.array(entry), take(world.utm_query, source[page_session]), "")
    url = concat(take(world.pages.url, page[page_steps]), campaign)
    previous_url = url.take(pa.array(np.maximum(np.arange(len(page_steps)) - 1, 0)))
    source_referrer = take(
        world.referrer, project[page_session] * len(world.sources.values) + source[page_session]
    )
    referrer = pc.if_else(pa.array(entry), source_referrer, previous_url)
    page_row = np.cumsum(is_page) - 1

    rows = np.flatnonzero(times.received_at <= delivery.horizon_ms)[:limit]
    ev_session, ev_step, code = ev_session[rows], ev_step[rows], code[rows]
    ev_position, client_session = ev_position[rows], client_session[rows]
    r = len(rows)
    v = visitor[ev_session]
    ch = channel[ev_session]
    ua = population.user_agent[v]
    screen = population.screen[v]
    city = population.city[v]
    current_page = current[ev_step]
    no_page = whatsapp[ev_session]
    no_device = ~device_fields[ev_session] | (ua < 0)
    user = population.user[v]
    sdk_names = world.sdk_version.to_pylist()
    engaged_sdk = ~np.isin(sdk_names, catalog.SDKS_WITHOUT_ENGAGED_MS)
    devices = world.devices
    session_ids = random_uuids(rng, int(client_session[-1]) + 1 if r else 0)
    columns = {
        "message_id": random_uuids(rng, r),
        "tenant_id": take(world.tenant_id, project[ev_session]),
        "project_id": take(world.project_id, project[ev_session]),
        "event_type": take(world.event_type, code),
        "event_name": take(world.event_name, code),
        **_time_columns(times, rows),
        "anonymous_id": take(population.anonymous_id, v),
        "user_id": take(population.user_id, user, ~identified[rows]),
        "session_id": take(session_ids, client_session, no_session_id[ev_session]),
        "channel_type": take(CHANNELS, ch, default_channel[ev_session]),
        "page_url": take(url, page_row[current_page], no_page),
        "page_path": take(world.pages.path, page[current_page], no_page),
        "page_title": take(world.pages.title, page[current_page], no_page),
        "page_referrer": take(referrer, page_row[current_page], no_page | (ch == MOBILE)),
        "user_agent": take(devices.user_agent, ua),
        "device_type": take(devices.device_type, ua, no_device),
        "os_name": take(devices.os_name, ua, no_device),
        "browser_name": take(devices.browser_name, ua, no_device),
        "screen_width": pa.array(devices.screen_width[screen], mask=screen < 0),
        "screen_height": pa.array(devices.screen_height[screen], mask=screen < 0),
        "ip_address": take(population.ip_address, v, no_page),
        "country_code": take(world.country_code, city, geo[ev_session] < NO_GEO_SHARE),
        "city": take(world.city, city, geo[ev_session] < NO_GEO_SHARE + NO_CITY_SHARE),
        "properties": _properties(
            world,
            population,
            rng,
            code=code,
            project=project[ev_session],
            user=user,
            page=page[current_page],
            ping=ev_position,
            pings=pings[ev_step],
            since_previous=gap[rows],
            sends_engaged=engaged_sdk[population.sdk[v]],
            deepest_scroll=deepest_scroll[ev_step],
            checkout_product=page[np.minimum(step_start + lead, steps - 1)][ev_session],
        ),
        "sdk_version": take(world.sdk_version, population.sdk[v]),
    }
    return EventBatch(
        table=contract_table(EVENTS, columns, r),
        identified=v[code == Event.IDENTIFY],
    )


def _properties(
    world: World,
    population: Population,
    rng: np.random.Generator,
    *,
    code: np.ndarray,
    project: np.ndarray,
    user: np.ndarray,
    page: np.ndarray,
    ping: np.ndarray,
    pings: np.ndarray,
    since_previous: np.ndarray,
    sends_engaged: np.ndarray,
    deepest_scroll: np.ndarray,
    checkout_product: np.ndarray,
) -> pa.Array:
    """The `properties` JSON of each event (null for page views and steps without any).

    Pings of a page scroll further each time up to the page's deepest scroll, which its page
    leave reports. Each ping and leave carries the engaged time since the previous ping (or since
    the page view), never more than the time that passed since then (`since_previous`), so that
    their sum is the page view's engaged time; devices whose SDK does not measure it
    (`sends_engaged` false) send the scroll depth alone.
    """
    pieces: list[tuple[np.ndarray, pa.Array]] = []

    def rows_of(*events: Event) -> np.ndarray:
        return np.flatnonzero(np.isin(code, events))

    def currency(rows: np.ndarray) -> pa.Array:
        return take(world.currency, world.currencies.draw(rng, project[rows]))

    at = rows_of(Event.PAGE_PING, Event.PAGE_LEAVE)
    is_ping = code[at] == Event.PAGE_PING
    share = np.where(is_ping, ping[at] / np.maximum(pings[at], 1), 1.0)
    # A ping reports its ~10 s interval less some idle time; a leave, part of the time since.
    elapsed = since_previous[at]
    engaged = np.where(
        is_ping,
        np.minimum(elapsed, PING_INTERVAL_MS) - rng.integers(0, 2_500, len(at)),
        (elapsed * rng.uniform(0.3, 1.0, len(at))).astype(np.int64),
    )
    engaged = np.clip(engaged, 0, elapsed)
    engaged_json = pc.if_else(
        pa.array(sends_engaged[at]), concat(',"engaged_ms":', numbers(engaged)), ""
    )
    pieces.append(
        (
            at,
            concat(
                '{"scroll_depth":',
                numbers(np.round(deepest_scroll[at] * share).astype(np.int64)),
                engaged_json,
                "}",
            ),
        )
    )

    at = rows_of(Event.FEATURE_USED)
    feature = world.features.draw(rng, project[at])
    duration = rng.lognormal(np.log(world.feature_median_ms[feature]), 0.8).astype(np.int64)
    success = rng.random(len(at)) < world.feature_success[feature]
    pieces.append(
        (
            at,
            concat(
                "{",
                take(world.feature_json, feature),
                ',"duration_ms":',
                numbers(duration),
                ',"success":',
                take(BOOLEANS, success.astype(np.int64)),
                "}",
            ),
        )
    )

    at = rows_of(Event.PREFERENCES_UPDATED)
    pieces.append(
        (
            at,
            concat(
                '{"color_scheme":',
                take(COLOR_SCHEMES, rng.integers(0, len(COLOR_SCHEMES), len(at))),
                ',"font_family":',
                take(FONT_FAMILIES, rng.integers(0, len(FONT_FAMILIES), len(at))),
                ',"layout_mode":',
                take(LAYOUT_MODES, rng.integers(0, len(LAYOUT_MODES), len(at))),
                ',"favorite_components":',
                take(FAVORITES, rng.integers(0, len(FAVORITES), len(at))),
                "}",
            ),
        )
    )

    at = rows_of(Event.IDENTIFY)
    pieces.append((at, take(population.traits, user[at])))

    at = rows_of(Event.PRODUCT_VIEWED)
    pieces.append((at, concat("{", take(world.products.json, world.pages.product[page[at]]), "}")))

    # One product per checkout attempt: added to the cart, then bought in some quantity.
    at = rows_of(Event.ADD_TO_CART, Event.PURCHASE)
    product = world.pages.product[checkout_product[at]]
    quantity = 1 + np.minimum(geometric(rng, 0.4, len(at)), 4)
    cart = at[code[at] == Event.ADD_TO_CART]
    pieces.append(
        (
            cart,
            concat(
                "{",
                take(world.products.json, product[code[at] == Event.ADD_TO_CART]),
                ',"quantity":',
                numbers(quantity[code[at] == Event.ADD_TO_CART]),
                "}",
            ),
        )
    )
    bought = code[at] == Event.PURCHASE
    pieces.append(
        (
            at[bought],
            concat(
                '{"value":',
                numbers(np.round(world.products.price[product[bought]] * quantity[bought], 2)),
                ',"currency":',
                currency(at[bought]),
                ',"items":',
                numbers(quantity[bought]),
                "}",
            ),
        )
    )

    at = rows_of(Event.SIGNUP_STARTED)
    method = take(SIGNUP_METHODS, rng.integers(0, len(SIGNUP_METHODS), len(at)))
    pieces.append((at, concat('{"method":', method, "}")))

    at = rows_of(Event.SIGNUP)
    plan = population.plan[user[at]]
    pieces.append(
        (
            at,
            concat(
                '{"value":',
                numbers(PLAN_PRICES[plan]),
                ',"currency":',
                currency(at),
                ',"plan":',
                take(PLAN_NAMES, plan),
                "}",
            ),
        )
    )

    at = rows_of(Event.BOOKING_PAGE_VIEWED, Event.APPOINTMENT_BOOKED)
    service = world.services.draw(rng, project[at])
    viewed = code[at] == Event.BOOKING_PAGE_VIEWED
    pieces.append((at[viewed], concat("{", take(world.service_json, service[viewed]), "}")))
    pieces.append(
        (
            at[~viewed],
            concat(
                '{"value":',
                numbers(world.service_price[service[~viewed]]),
                ',"currency":',
                currency(at[~viewed]),
                ",",
                take(world.service_json, service[~viewed]),
                "}",
            ),
        )
    )
    return scatter(len(code), pieces)


def crawler_events(
    world: World,
    day_ms: int,
    sessions: int,
    limit: int,
    rng: np.random.Generator,
    delivery: Delivery,
) -> EventBatch:
    """Crawlers fetching pages one after another, each visit with a fresh anonymous id."""
    n = sessions
    crawler = world.crawlers.draw(rng, n)
    project = world.crawled.draw(rng, n)
    session, position = expand(1 + geometric(rng, 7.0, n))
    gap = np.where(position == 0, 0, rng.integers(300, 15_000, len(session)))
    true_ms = _session_times(rng, day_ms, n, session, gap)
    times = _deliver(rng, delivery, true_ms, session, np.zeros(n, dtype=bool))

    rows = np.flatnonzero(times.received_at <= delivery.horizon_ms)[:limit]
    session = session[rows]
    r = len(rows)
    page = world.pages.crawlable.draw(rng, project[session])
    prefix = world.crawler_prefixes.draw(rng, crawler)
    host = rng.integers(1, 255, n)
    ip = pc.if_else(
        pa.array(world.crawler_prefix_is_v6[prefix]),
        hex_strings(host, 4),
        numbers(host),
    )
    tell_device = rng.random(n) < CRAWLER_DEVICE_TYPE_SHARE
    columns = {
        "message_id": random_uuids(rng, r),
        "tenant_id": take(world.tenant_id, project[session]),
        "project_id": take(world.project_id, project[session]),
        "event_type": take(world.event_type, np.full(r, Event.PAGE_VIEW)),
        "event_name": take(world.event_name, np.full(r, Event.PAGE_VIEW)),
        **_time_columns(times, rows),
        "anonymous_id": take(random_uuids(rng, n), session),
        "session_id": take(
            random_uuids(rng, n), session, rng.random(n)[session] < delivery.no_session_id_rate
        ),
        "channel_type": take(CHANNELS, np.full(r, WEB)),
        "page_url": take(world.pages.url, page),
        "page_path": take(world.pages.path, page),
        "page_title": take(world.pages.title, page),
        "user_agent": take(world.crawler_ua, crawler[session]),
        "device_type": take(strings([catalog.BOT]), np.zeros(r, np.int64), ~tell_device[session]),
        "ip_address": take(concat(take(world.crawler_prefix, prefix), ip), session),
        "country_code": take(world.crawler_country, crawler[session]),
        "sdk_version": take(world.sdk_version, world.sdks.draw(rng, project[session])),
    }
    return EventBatch(table=contract_table(EVENTS, columns, r), identified=np.array([], int))
