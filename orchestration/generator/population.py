"""The visitors: who they are, what they browse with, how active they are and who logged in."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.generator import catalog
from orchestration.generator.arrays import (
    Choice,
    concat,
    hex_strings,
    json_texts,
    numbers,
    random_hex_ids,
    random_uuids,
    strings,
    take,
)
from orchestration.generator.world import CHANNEL_CODE, DEVICE_CODE, World

WEB_DEVICES = Choice.of(
    [0.52, 0.38, 0.10],
    [DEVICE_CODE[catalog.DESKTOP], DEVICE_CODE[catalog.MOBILE_DEVICE], DEVICE_CODE[catalog.TABLET]],
)
SECOND_DEVICE_SHARE = 0.08
"""Share of web visitors who are the second device of another visitor's account."""
EXISTING_SHARE = 0.5
"""Share of visitors who were already around before the first generated day."""
EXISTING_LOGGED_IN_SHARE = 0.35
TOP_VISITOR_SESSIONS_PER_DAY = 4.0
EVENTS_PER_VISITOR = 20


def _ascii_slug(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def _zipf_offset(visitors: int, sessions_per_day: float) -> float:
    """Rank offset r0 of weights 1 / (rank + r0) that gives the top visitor a few sessions a day.

    The top visitor's share of sessions is 1 / (r0 * ln(1 + visitors / r0)).
    """
    offset = max(1.0, sessions_per_day / 20)
    for _ in range(50):
        offset = max(
            1.0, sessions_per_day / TOP_VISITOR_SESSIONS_PER_DAY / np.log1p(visitors / offset)
        )
    return offset


@dataclass
class Population:
    """Human visitors, one row each; users are rows of the user tables (`user` points there)."""

    project: np.ndarray
    channel: np.ndarray
    user_agent: np.ndarray
    """Row of `World.devices`, -1 when no user agent is sent (WhatsApp)."""
    screen: np.ndarray
    city: np.ndarray
    sdk: np.ndarray
    user: np.ndarray
    activity: np.ndarray
    """Zipf-like weight: a few visitors come back all the time, most come once or twice."""
    first_day: np.ndarray
    logged_in: np.ndarray
    """Whether the visitor has identified on this device; updated as sessions are generated."""
    anonymous_id: pa.Array
    ip_address: pa.Array
    user_id: pa.Array
    traits: pa.Array
    """Per user: the `identify` properties, `{"traits":{...}}`."""
    plan: np.ndarray
    """Per user: row of `catalog.PLANS`."""

    @classmethod
    def create(
        cls, world: World, events: int, days: int, sessions_per_day: float, rng: np.random.Generator
    ) -> Population:
        """Visitors for `events` events over `days` days.

        With `sessions_per_day` sessions a day, the most active visitor comes a few times a day.
        """
        size = max(50, events // EVENTS_PER_VISITOR)
        project = world.traffic.draw(rng, size)
        channel = world.channels.draw(rng, project)
        user = np.arange(size)
        web = np.flatnonzero(channel == CHANNEL_CODE[catalog.WEB])
        second = web[rng.random(len(web)) < SECOND_DEVICE_SHARE]
        first = np.setdiff1d(web, second)
        device = np.full(size, -1, dtype=np.int64)
        device[web] = WEB_DEVICES.draw(rng, len(web))
        for p in np.unique(project[second]):
            seconds = second[project[second] == p]
            owners = first[project[first] == p]
            if len(owners) == 0:
                continue
            owner = rng.choice(owners, size=len(seconds))
            user[seconds] = owner
            on_desktop = device[owner] == DEVICE_CODE[catalog.DESKTOP]
            device[seconds] = np.where(
                on_desktop, DEVICE_CODE[catalog.MOBILE_DEVICE], DEVICE_CODE[catalog.DESKTOP]
            )

        user_agent = np.full(size, -1, dtype=np.int64)
        user_agent[web] = world.devices.web.draw(rng, device[web])
        app = np.flatnonzero(channel == CHANNEL_CODE[catalog.MOBILE])
        user_agent[app] = world.devices.app.draw(rng, len(app))
        screen = np.where(
            user_agent >= 0,
            world.devices.screens.draw(rng, world.devices.device_code[np.maximum(user_agent, 0)]),
            -1,
        )
        sdk = np.where(
            channel == CHANNEL_CODE[catalog.WHATSAPP],
            world.whatsapp_sdk,
            world.sdks.draw(rng, project),
        )
        sdk[app] = world.app_sdks.draw(rng, user_agent[app])

        rank = rng.permutation(size)
        activity = 1.0 / (rank + _zipf_offset(size, sessions_per_day))
        existing = rng.random(size) < EXISTING_SHARE
        first_day = np.where(existing, 0, rng.integers(0, days, size))
        logged_in = existing & (rng.random(size) < EXISTING_LOGGED_IN_SHARE)

        plan = Choice.of([weight for _, _, weight in catalog.PLANS]).draw(rng, size)
        return cls(
            project=project,
            channel=channel,
            user_agent=user_agent,
            screen=screen,
            city=world.cities.draw(rng, project),
            sdk=sdk,
            user=user,
            activity=activity,
            first_day=first_day,
            logged_in=logged_in,
            anonymous_id=random_uuids(rng, size),
            ip_address=_ip_addresses(rng, size),
            user_id=random_hex_ids(rng, size, "usr_", 12),
            traits=_traits(rng, plan),
            plan=plan,
        )

    def visitors_on(self, day: int) -> Choice:
        """Who visits on `day`: by activity, new visitors most on their first day, then less."""
        age = day - self.first_day
        recency = np.where(
            age < 0, 0.0, np.where(age == 0, 3.0, 0.25 + 0.75 * np.exp(-np.maximum(age, 0) / 5))
        )
        # Visitors around from the first day were already regulars before it.
        recency = np.where(self.first_day == 0, 1.0, recency)
        return Choice.of(self.activity * recency)

    def log_in(self, visitors: np.ndarray) -> None:
        self.logged_in[visitors] = True


def _ip_addresses(rng: np.random.Generator, size: int) -> pa.Array:
    octets = rng.integers(1, 255, size=(size, 3))
    first = np.array(catalog.IPV4_FIRST_OCTETS)[
        rng.integers(0, len(catalog.IPV4_FIRST_OCTETS), size)
    ]
    ipv4 = concat(
        numbers(first),
        ".",
        numbers(octets[:, 0]),
        ".",
        numbers(octets[:, 1]),
        ".",
        numbers(octets[:, 2]),
    )
    groups = rng.integers(0, 65536, size=(size, 3))
    prefix = take(strings(catalog.IPV6_PREFIXES), rng.integers(0, len(catalog.IPV6_PREFIXES), size))
    ipv6 = concat(
        prefix,
        ":",
        hex_strings(groups[:, 0], 4),
        ":",
        hex_strings(groups[:, 1], 4),
        "::",
        hex_strings(groups[:, 2], 4),
    )
    return pc.if_else(pa.array(rng.random(size) < catalog.IPV6_SHARE), ipv6, ipv4)


def _traits(rng: np.random.Generator, plan: np.ndarray) -> pa.Array:
    size = len(plan)
    first = rng.integers(0, len(catalog.FIRST_NAMES), size)
    last = rng.integers(0, len(catalog.LAST_NAMES), size)
    full_names = json_texts([f"{f} {s}" for f in catalog.FIRST_NAMES for s in catalog.LAST_NAMES])
    first_slug = strings([_ascii_slug(name) for name in catalog.FIRST_NAMES])
    last_slug = strings([_ascii_slug(name) for name in catalog.LAST_NAMES])
    number = rng.integers(1, 100, size)
    suffix = pc.if_else(pa.array(rng.random(size) < 0.5), numbers(number), "")
    domain = take(strings(catalog.EMAIL_DOMAINS), rng.integers(0, len(catalog.EMAIL_DOMAINS), size))
    email = concat(take(first_slug, first), ".", take(last_slug, last), suffix, "@", domain)
    plans = json_texts([name for name, _, _ in catalog.PLANS])
    return concat(
        '{"traits":{"name":',
        take(full_names, first * len(catalog.LAST_NAMES) + last),
        ',"email":"',
        email,
        '","plan":',
        take(plans, plan),
        "}}",
    )
