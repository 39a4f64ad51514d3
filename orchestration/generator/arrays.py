"""Vectorized building blocks: weighted choices, random ids and string columns without row loops."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY_MS = 86_400_000
MINUTE_MS = 60_000
HOUR_MS = 3_600_000

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


@dataclass(frozen=True)
class Choice:
    """A weighted choice among integer values."""

    values: np.ndarray
    cumulative: np.ndarray

    @classmethod
    def of(cls, weights: Sequence[float], values: Sequence[int] | None = None) -> Choice:
        weights = np.asarray(weights, dtype=np.float64)
        if values is None:
            values = np.arange(len(weights))
        return cls(np.asarray(values, dtype=np.int64), np.cumsum(weights))

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        picks = np.searchsorted(self.cumulative, rng.random(n) * self.cumulative[-1], side="right")
        return self.values[np.minimum(picks, len(self.values) - 1)]


@dataclass(frozen=True)
class GroupedChoice:
    """One weighted choice per group (e.g. per project), drawn for many groups at once.

    Group g's cumulative weights are scaled into [g, g + 1), so that one `searchsorted` serves
    every group. Groups without values draw -1.
    """

    values: np.ndarray
    cumulative: np.ndarray
    last: np.ndarray
    """Index of each group's last value, -1 for empty groups."""

    @classmethod
    def of(cls, groups: Sequence[Sequence[tuple[int, float]]]) -> GroupedChoice:
        values: list[int] = []
        cumulative: list[np.ndarray] = []
        last = np.full(len(groups), -1, dtype=np.int64)
        for group, options in enumerate(groups):
            if not options:
                continue
            weights = np.array([weight for _, weight in options], dtype=np.float64)
            scaled = group + np.cumsum(weights) / weights.sum()
            scaled[-1] = group + 1
            values.extend(value for value, _ in options)
            cumulative.append(scaled)
            last[group] = len(values) - 1
        return cls(np.array(values, dtype=np.int64), np.concatenate(cumulative), last)

    def draw(self, rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
        picks = np.searchsorted(self.cumulative, group + rng.random(len(group)), side="right")
        last = self.last[group]
        return np.where(last < 0, -1, self.values[np.minimum(picks, np.maximum(last, 0))])


def split_total(total: int, weights: Sequence[float]) -> np.ndarray:
    """Integers proportional to `weights` that add up to exactly `total` (largest remainder)."""
    weights = np.asarray(weights, dtype=np.float64)
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    counts[np.argsort(counts - exact, kind="stable")[:short]] += 1
    return counts


def segment_starts(counts: np.ndarray) -> np.ndarray:
    """Offset of each segment's first item when segments of `counts` items are laid end to end."""
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For segments of `counts` items: each item's segment and its position within it."""
    segment = np.repeat(np.arange(len(counts)), counts)
    position = np.arange(len(segment)) - np.repeat(segment_starts(counts), counts)
    return segment, position


def _fixed_width_strings(chars: np.ndarray) -> pa.Array:
    rows, width = chars.shape
    offsets = np.arange(0, (rows + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(
        rows, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars))
    )


def _hex_digits(rng: np.random.Generator, rows: int, digits: int) -> np.ndarray:
    raw = rng.integers(0, 256, size=(rows, (digits + 1) // 2), dtype=np.uint8)
    nibbles = np.empty((rows, raw.shape[1] * 2), dtype=np.uint8)
    nibbles[:, 0::2] = raw >> 4
    nibbles[:, 1::2] = raw & 15
    return _HEX[nibbles[:, :digits]]


def random_uuids(rng: np.random.Generator, rows: int) -> pa.Array:
    """Random version-4 UUIDs in their canonical text form."""
    digits = _hex_digits(rng, rows, 32)
    digits[:, 12] = ord("4")
    digits[:, 16] = _HEX[8 + rng.integers(0, 4, size=rows)]
    chars = np.full((rows, 36), ord("-"), dtype=np.uint8)
    for source, target in ((0, 0), (8, 9), (12, 14), (16, 19), (20, 24)):
        width = 12 if source == 20 else (8 if source == 0 else 4)
        chars[:, target : target + width] = digits[:, source : source + width]
    return _fixed_width_strings(chars)


def random_hex_ids(rng: np.random.Generator, rows: int, prefix: str, digits: int) -> pa.Array:
    """Ids like `usr_3f9a0c12b7`: a fixed prefix and random hex digits."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    chars = np.concatenate(
        [np.broadcast_to(head, (rows, len(head))), _hex_digits(rng, rows, digits)], axis=1
    )
    return _fixed_width_strings(chars)


def hex_strings(values: np.ndarray, digits: int) -> pa.Array:
    """Non-negative integers as lowercase hex text of exactly `digits` digits."""
    shifts = np.arange(digits - 1, -1, -1, dtype=np.uint64) * np.uint64(4)
    nibbles = (values.astype(np.uint64)[:, None] >> shifts) & np.uint64(15)
    return _fixed_width_strings(_HEX[nibbles.astype(np.intp)])


def strings(values: Sequence[str | None]) -> pa.Array:
    return pa.array(values, type=pa.string())


def json_texts(values: Sequence[object]) -> pa.Array:
    """Each value as JSON text, for splicing into JSON built with `concat`."""
    return strings([json.dumps(value, ensure_ascii=False) for value in values])


def numbers(values: np.ndarray) -> pa.Array:
    """Numbers as their shortest text (`49`, `19.99`), valid JSON number syntax."""
    return pc.cast(pa.array(values), pa.string())


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise string concatenation; null when any array part is null."""
    return pc.binary_join_element_wise(*parts, "")


def take(values: pa.Array, indices: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """`values[indices]`, null where `null` is true or the index is negative."""
    missing = indices < 0
    if null is not None:
        missing = missing | null
    return values.take(pa.array(np.where(missing, 0, indices), mask=missing))


def scatter(rows: int, pieces: Sequence[tuple[np.ndarray, pa.Array]]) -> pa.Array:
    """A string column of `rows` rows, filled at each piece's row positions, null elsewhere."""
    positions = np.concatenate([np.asarray(at, dtype=np.int64) for at, _ in pieces])
    values = pa.concat_arrays([*(piece for _, piece in pieces), pa.nulls(1, pa.string())])
    source = np.full(rows, len(values) - 1, dtype=np.int64)
    source[positions] = np.arange(len(positions))
    return values.take(pa.array(source))


def timestamps(millis: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(millis, type=pa.timestamp("ms", tz="UTC"), mask=null)


def lognormal_ms(
    rng: np.random.Generator, rows: int, median_ms: float, sigma: float, low: float, high: float
) -> np.ndarray:
    return np.clip(rng.lognormal(np.log(median_ms), sigma, rows), low, high).astype(np.int64)


def geometric(rng: np.random.Generator, mean: np.ndarray | float, rows: int) -> np.ndarray:
    """Counts 0, 1, 2, ... with the given mean (per row when `mean` is an array)."""
    return rng.geometric(1.0 / (1.0 + np.asarray(mean, dtype=np.float64)), rows) - 1
