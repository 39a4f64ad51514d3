"""Operational metric points of every project: counters, gauges, histograms and timers.

Each series is a name with one combination of tag values. Clients serialize tags in varying key
order and spacing, as real ones do, so the same series arrives as different JSON texts.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa

from orchestration.contract import METRIC_TYPES, METRICS
from orchestration.generator import catalog
from orchestration.generator.arrays import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    Choice,
    lognormal_ms,
    random_uuids,
    strings,
    take,
    timestamps,
)
from orchestration.generator.catalog import COUNTER, GAUGE, HISTOGRAM, PROJECTS
from orchestration.generator.landing import contract_table
from orchestration.generator.world import world

TAG_SPELLINGS = 3
"""Texts per series: compact in declared key order, spaced in reverse order, compact rotated."""
NO_UNIT_SHARE = 0.03
LOAD = np.array(catalog.DIURNAL_UTC) / np.mean(catalog.DIURNAL_UTC)


@dataclass(frozen=True)
class Series:
    """Every series of every project, one row each."""

    project: np.ndarray
    name: pa.Array
    metric_type: pa.Array
    type_code: np.ndarray
    """Position of the metric type in the contract's list."""
    unit: pa.Array
    bounded: np.ndarray
    """A ratio between 0 and 1."""
    tags: pa.Array
    """TAG_SPELLINGS texts per series, null for series without tags."""
    scale: np.ndarray
    spread: np.ndarray
    choice: Choice


def _tag_texts(tags: dict[str, str]) -> list[str | None]:
    if not tags:
        return [None] * TAG_SPELLINGS
    items = list(tags.items())
    rotated = items[1:] + items[:1]
    return [
        json.dumps(dict(items), separators=(",", ":")),
        json.dumps(dict(reversed(items))),
        json.dumps(dict(rotated), separators=(",", ":")),
    ]


@cache
def series() -> Series:
    rows = []
    for p in range(len(PROJECTS)):
        for spec in catalog.METRIC_SERIES:
            keys = list(spec.tags)
            for values in itertools.product(*spec.tags.values()):
                rows.append((p, spec, dict(zip(keys, values, strict=True))))
    return Series(
        project=np.array([p for p, _, _ in rows]),
        name=strings([spec.name for _, spec, _ in rows]),
        metric_type=strings([spec.metric_type for _, spec, _ in rows]),
        type_code=np.array([METRIC_TYPES.index(spec.metric_type) for _, spec, _ in rows]),
        unit=strings([spec.unit for _, spec, _ in rows]),
        bounded=np.array([spec.unit == "ratio" for _, spec, _ in rows]),
        tags=strings([text for _, _, tags in rows for text in _tag_texts(tags)]),
        scale=np.array([spec.scale for _, spec, _ in rows]),
        spread=np.array([spec.spread for _, spec, _ in rows]),
        # A series' share of points: its metric's weight split over its tag combinations,
        # and the project's traffic.
        choice=Choice.of(
            [
                spec.weight
                * PROJECTS[p].traffic
                / max(1, int(np.prod([len(v) for v in spec.tags.values()])))
                for p, spec, _ in rows
            ]
        ),
    )


def metric_points(
    day_ms: int, points: int, late_rate: float, horizon_ms: int, rng: np.random.Generator
) -> tuple[pa.Table, np.ndarray]:
    """`points` data points of the day starting at `day_ms`, and when each reaches the collector.

    Counters and gauges follow the daily load curve; timers get slower under load.
    """
    catalog_series = series()
    row = catalog_series.choice.draw(rng, points)
    at = day_ms + rng.integers(0, DAY_MS, points)
    load = LOAD[(at % DAY_MS) // HOUR_MS]
    scale, spread = catalog_series.scale[row], catalog_series.spread[row]
    kind = catalog_series.type_code[row]
    gauge = np.maximum(0, rng.normal(scale * load, spread)).round()
    ratio = np.clip(rng.normal(scale, spread), 0, 1).round(4)
    value = np.select(
        [kind == METRIC_TYPES.index(t) for t in (COUNTER, GAUGE, HISTOGRAM)],
        [
            rng.poisson(scale * load).astype(np.float64),
            np.where(catalog_series.bounded[row], ratio, gauge),
            rng.lognormal(np.log(scale), spread).round(),
        ],
        rng.lognormal(np.log(scale * (0.8 + 0.4 * load)), spread).round(3),
    )

    arrival = at + lognormal_ms(rng, points, 4_000, 1.2, 50, 15 * MINUTE_MS)
    late = rng.random(points) < late_rate
    arrival = np.where(late, arrival + rng.integers(DAY_MS, 2 * DAY_MS, points), arrival)
    # Metrics carry no arrival time, so a point due after the horizon lands on the last day.
    arrival = np.minimum(arrival, horizon_ms)

    columns = {
        "metric_id": random_uuids(rng, points),
        "tenant_id": take(world().tenant_id, catalog_series.project[row]),
        "project_id": take(world().project_id, catalog_series.project[row]),
        "name": take(catalog_series.name, row),
        "metric_type": take(catalog_series.metric_type, row),
        "value": pa.array(value),
        "timestamp": timestamps(at),
        "tags": take(
            catalog_series.tags, row * TAG_SPELLINGS + rng.integers(0, TAG_SPELLINGS, points)
        ),
        "unit": take(catalog_series.unit, row, rng.random(points) < NO_UNIT_SHARE),
    }
    return contract_table(METRICS, columns, points), arrival
