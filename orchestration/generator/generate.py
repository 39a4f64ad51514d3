"""Generating a landing day by day, in chunks, without holding more than a few files' rows.

Each day's events are split between deployment webhooks, crawlers and people, and generated in
chunks of sessions. Rows are handed to a writer per dataset that buffers them by arrival date.
Nothing generated for a later day arrives before it, so once a day is generated its date folder
is complete and written out.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.contract import EVENTS, METRICS
from orchestration.generator import catalog
from orchestration.generator.arrays import DAY_MS, split_total
from orchestration.generator.config import GeneratorConfig
from orchestration.generator.deployments import Deployments
from orchestration.generator.landing import LandingWriter
from orchestration.generator.messiness import EVENT_BREAKERS, METRIC_BREAKERS, break_rows, redeliver
from orchestration.generator.metrics import metric_points
from orchestration.generator.population import Population
from orchestration.generator.sessions import (
    CRAWLER_EVENTS_PER_SESSION,
    EVENTS_PER_SESSION,
    Delivery,
    EventBatch,
    crawler_events,
    human_events,
)
from orchestration.generator.world import world

CHUNK_ROWS = 200_000
DAILY_GROWTH = 0.01


class Stream(IntEnum):
    """Independent random streams, so that one part's sizes never shift another's draws."""

    POPULATION = 0
    PEOPLE = 1
    CRAWLERS = 2
    DEPLOYMENTS = 3
    METRICS = 4
    MESSINESS = 5


@dataclass
class DatasetSummary:
    files: int = 0
    rows: int = 0
    distinct: int = 0
    redelivered: int = 0
    invalid: int = 0


@dataclass(frozen=True)
class GenerationSummary:
    out: Path
    first_date: str
    last_date: str
    days: int
    events: DatasetSummary
    metrics: DatasetSummary
    seconds: float

    def describe(self) -> str:
        days = f"{self.days} day{'s' if self.days != 1 else ''}"
        lines = [f"Wrote {self.out} ({self.first_date} .. {self.last_date}, {days})"]
        for name, summary in (("events", self.events), ("metrics", self.metrics)):
            lines.append(
                f"  {name:<8} {summary.rows:>12,} rows in {summary.files:>5,} files "
                f"({summary.distinct:,} distinct, {summary.redelivered:,} redelivered, "
                f"{summary.invalid:,} invalid)"
            )
        lines.append(f"  took {self.seconds:.1f} s")
        return "\n".join(lines)


def _day_weights(config: GeneratorConfig, weekly: tuple[float, ...]) -> np.ndarray:
    start = config.start_date.weekday()
    return np.array([weekly[(start + d) % 7] * (1 + DAILY_GROWTH) ** d for d in range(config.days)])


def _arrival_ms(table: pa.Table) -> np.ndarray:
    return pc.cast(table.column("received_at"), pa.int64()).to_numpy()


class _Generation:
    def __init__(self, config: GeneratorConfig, progress: Callable[[int], None]) -> None:
        self.config = config
        self.progress = progress
        self.world = world()
        self.delivery = Delivery(
            skew_rate=config.skew_rate,
            late_rate=config.late_rate,
            no_session_id_rate=config.no_session_id_rate,
            horizon_ms=config.horizon_ms,
        )
        self.population = Population.create(
            self.world,
            config.events,
            config.days,
            config.events / config.days / EVENTS_PER_SESSION,
            self.rng(Stream.POPULATION),
        )
        self.deployments = Deployments()
        self.events = LandingWriter(config.out, EVENTS, config.files_per_day, "received_at")
        self.metrics = LandingWriter(config.out, METRICS, config.files_per_day, "timestamp")
        self.summaries = {EVENTS.name: DatasetSummary(), METRICS.name: DatasetSummary()}

    def rng(self, stream: Stream, *key: int) -> np.random.Generator:
        return np.random.default_rng([self.config.seed, stream, *key])

    def run(self) -> None:
        config = self.config
        expected = 1 + config.duplicate_rate
        events = split_total(config.events, _day_weights(config, catalog.WEEKDAY_TRAFFIC))
        metrics = split_total(
            config.metric_points, _day_weights(config, catalog.WEEKDAY_METRIC_POINTS)
        )
        # Rows arrive for later dates (late sessions, redeliveries) before those are generated.
        for day in range(config.days):
            epoch_day = config.first_epoch_day + day
            self.events.expect(epoch_day, math.ceil(events[day] * expected))
            self.metrics.expect(epoch_day, math.ceil(metrics[day] * expected))
        for day in range(config.days):
            epoch_day = config.first_epoch_day + day
            self.generate_events(day, epoch_day * DAY_MS, int(events[day]))
            self.generate_metrics(day, epoch_day * DAY_MS, int(metrics[day]))
            self.events.close(epoch_day)
            self.metrics.close(epoch_day)
        for writer in (self.events, self.metrics):
            self.summaries[writer.dataset.name].files = writer.files
            self.summaries[writer.dataset.name].rows = writer.rows

    def generate_events(self, day: int, day_ms: int, budget: int) -> None:
        """`budget` distinct events: a few deployments, crawlers' share, the rest people.

        Batches go straight to `land_events`, never into a variable, so that one batch is freed
        before the next is generated.
        """
        world, delivery = self.world, self.delivery
        deployments = self.land_events(
            self.deployments.events(
                world, day_ms, budget, self.rng(Stream.DEPLOYMENTS, day), delivery
            ),
            day,
            chunk=0,
        )
        crawled = min(budget - deployments, round(budget * self.config.bot_rate))
        people = budget - deployments - crawled

        chunk = 1
        while crawled > 0:
            sessions = math.ceil(min(crawled, CHUNK_ROWS) / CRAWLER_EVENTS_PER_SESSION)
            rng = self.rng(Stream.CRAWLERS, day, chunk)
            crawled -= self.land_events(
                crawler_events(world, day_ms, sessions, crawled, rng, delivery), day, chunk
            )
            chunk += 1

        visitors = self.population.visitors_on(day)
        while people > 0:
            sessions = math.ceil(min(people, CHUNK_ROWS) / EVENTS_PER_SESSION)
            rng = self.rng(Stream.PEOPLE, day, chunk)
            people -= self.land_events(
                human_events(
                    world, self.population, visitors, day_ms, sessions, people, rng, delivery
                ),
                day,
                chunk,
            )
            chunk += 1

    def land_events(self, batch: EventBatch, day: int, chunk: int) -> int:
        """Mess up a batch, hand it to the writer and note who logged in; returns its size."""
        config, summary = self.config, self.summaries[EVENTS.name]
        self.population.log_in(batch.identified)
        rng = self.rng(Stream.MESSINESS, day, chunk)
        table, broken = break_rows(batch.table, EVENT_BREAKERS, config.invalid_rate, rng)
        distinct = table.num_rows
        table, arrival = redeliver(
            table,
            _arrival_ms(table),
            config.duplicate_rate,
            rng,
            config.horizon_ms,
            eligible=~broken,
            arrival_column="received_at",
        )
        self.events.add(table, arrival // DAY_MS)
        self._count(summary, distinct, table.num_rows, int(broken.sum()))
        return distinct

    def generate_metrics(self, day: int, day_ms: int, points: int) -> None:
        config, summary = self.config, self.summaries[METRICS.name]
        for chunk, size in enumerate(split_total(points, [1] * math.ceil(points / CHUNK_ROWS))):
            rng = self.rng(Stream.METRICS, day, chunk)
            table, arrival = metric_points(
                day_ms, int(size), config.late_rate, config.horizon_ms, rng
            )
            table, broken = break_rows(table, METRIC_BREAKERS, config.invalid_rate, rng)
            table, arrival = redeliver(
                table,
                arrival,
                config.duplicate_rate,
                rng,
                config.horizon_ms,
                eligible=~broken,
                arrival_column=None,
            )
            self.metrics.add(table, arrival // DAY_MS)
            self._count(summary, int(size), table.num_rows, int(broken.sum()))

    def _count(self, summary: DatasetSummary, distinct: int, rows: int, invalid: int) -> None:
        summary.distinct += distinct
        summary.redelivered += rows - distinct
        summary.invalid += invalid
        self.progress(distinct)


def generate(
    config: GeneratorConfig, progress: Callable[[int], None] = lambda rows: None
) -> GenerationSummary:
    """Write the landing `config` describes; `progress` hears of every chunk's distinct rows."""
    started = time.perf_counter()
    if config.clean:
        for dataset in (EVENTS, METRICS):
            shutil.rmtree(config.out / dataset.name, ignore_errors=True)
    generation = _Generation(config, progress)
    generation.run()
    return GenerationSummary(
        out=config.out,
        first_date=config.start_date.isoformat(),
        last_date=config.end_date.isoformat(),
        days=config.days,
        events=generation.summaries[EVENTS.name],
        metrics=generation.summaries[METRICS.name],
        seconds=time.perf_counter() - started,
    )
