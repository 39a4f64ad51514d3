"""What real landing data gets wrong: redelivered messages and rows that break the contract.

Broken rows still fit the file schema (the contract's required columns are non-nullable in the
file, so a null required field cannot be written); they break its value rules instead: unknown
accepted values, malformed JSON, non-finite numbers, event times from the far future.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.generator.arrays import DAY_MS, HOUR_MS, MINUTE_MS, timestamps

Row = dict[str, object]
Breaker = Callable[[Row, np.random.Generator], None]


def _pick(options: tuple, rng: np.random.Generator) -> object:
    return options[int(rng.integers(0, len(options)))]


def _unknown_event_type(row: Row, rng: np.random.Generator) -> None:
    row["event_type"] = _pick(("screen", "alias", "group", "Track"), rng)


def _malformed_properties(row: Row, rng: np.random.Generator) -> None:
    row["properties"] = _pick(
        (
            '{"feature":"export_csv","success":tru',
            '{"scroll_depth":50,}',
            "{'value': 12.5, 'currency': 'USD'}",
            '["not", "an", "object"]',
            "null",
        ),
        rng,
    )


def _event_time_in_the_future(row: Row, rng: np.random.Generator) -> None:
    """A device clock years off with an honest `sent_at`: skew correction cannot save it."""
    received = row["received_at"]
    row["timestamp"] = received + timedelta(hours=float(rng.uniform(25, 24 * 400)))
    row["sent_at"] = received - timedelta(milliseconds=int(rng.integers(20, 900)))


def _unknown_channel_type(row: Row, rng: np.random.Generator) -> None:
    row["channel_type"] = _pick(("sms", "email", "Web"), rng)


def _unknown_device_type(row: Row, rng: np.random.Generator) -> None:
    row["device_type"] = _pick(("phone", "smartphone", "Desktop"), rng)


def _malformed_country_code(row: Row, rng: np.random.Generator) -> None:
    row["country_code"] = _pick(("usa", "U.K.", "de", "DEU"), rng)


def _unknown_metric_type(row: Row, rng: np.random.Generator) -> None:
    row["metric_type"] = _pick(("summary", "meter", "distribution", "Counter"), rng)


def _non_finite_value(row: Row, rng: np.random.Generator) -> None:
    row["value"] = _pick((math.nan, math.inf, -math.inf), rng)


def _malformed_tags(row: Row, rng: np.random.Generator) -> None:
    row["tags"] = _pick(
        ('{"region":"eu","shard":3}', '{"region":"eu"', '["eu","us"]', '{"region":null}'), rng
    )


EVENT_BREAKERS: tuple[Breaker, ...] = (
    _unknown_event_type,
    _malformed_properties,
    _event_time_in_the_future,
    _unknown_channel_type,
    _unknown_device_type,
    _malformed_country_code,
)
METRIC_BREAKERS: tuple[Breaker, ...] = (_unknown_metric_type, _non_finite_value, _malformed_tags)


def break_rows(
    table: pa.Table, breakers: tuple[Breaker, ...], rate: float, rng: np.random.Generator
) -> tuple[pa.Table, np.ndarray]:
    """Break a `rate` share of the rows in place, one rule each; returns which rows broke."""
    broken = rng.random(table.num_rows) < rate
    picked = np.flatnonzero(broken)
    if len(picked) == 0:
        return table, broken
    rows = table.take(pa.array(picked)).to_pylist()
    before = [dict(row) for row in rows]
    for row, rule in zip(rows, rng.integers(0, len(breakers), len(rows)), strict=True):
        breakers[rule](row, rng)
    mask = pa.array(broken)
    for index, field in enumerate(table.schema):
        values = [row[field.name] for row in rows]
        if values != [row[field.name] for row in before]:
            replaced = pc.replace_with_mask(table.column(index), mask, pa.array(values, field.type))
            table = table.set_column(index, field, replaced)
    return table, broken


def redeliver(
    table: pa.Table,
    arrival_ms: np.ndarray,
    rate: float,
    rng: np.random.Generator,
    horizon_ms: int,
    eligible: np.ndarray,
    arrival_column: str | None,
) -> tuple[pa.Table, np.ndarray]:
    """Append a second delivery of a `rate` share of the rows: same content, arriving later.

    Most retries come seconds to minutes later, some hours later, a few days later (landing in
    another file and another date folder). Nothing arrives after `horizon_ms`.
    """
    picked = np.flatnonzero(eligible & (rng.random(table.num_rows) < rate))
    kind = rng.random(len(picked))
    soon = rng.integers(1_000, 2 * MINUTE_MS, len(picked))
    delay = np.select(
        [kind < 0.6, kind < 0.85],
        [soon, rng.integers(2 * MINUTE_MS, 6 * HOUR_MS, len(picked))],
        rng.integers(DAY_MS, 3 * DAY_MS, len(picked)),
    )
    again = arrival_ms[picked] + delay
    again = np.where(again > horizon_ms, arrival_ms[picked] + soon, again)
    fits = again <= horizon_ms
    picked, again = picked[fits], again[fits]
    copies = table.take(pa.array(picked))
    if arrival_column is not None:
        copies = copies.set_column(
            copies.schema.get_field_index(arrival_column),
            copies.schema.field(arrival_column),
            timestamps(again),
        )
    return pa.concat_tables([table, copies]), np.concatenate([arrival_ms, again])
