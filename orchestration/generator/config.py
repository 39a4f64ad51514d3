"""What to generate: sizes, dates and how messy the data is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from orchestration.generator.arrays import DAY_MS
from orchestration.generator.landing import EPOCH


def yesterday_utc() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


@dataclass(frozen=True)
class GeneratorConfig:
    """Sizes, dates and messiness of one generated landing.

    The same configuration always produces the same files, byte for byte.
    """

    out: Path
    days: int = 7
    events: int = 150_000
    """Distinct events; redelivered copies come on top."""
    metrics: int | None = None
    """Distinct metric points; by default a fifth of the events."""
    seed: int = 42
    end_date: date = field(default_factory=yesterday_utc)
    """The last day events happen on; nothing arrives after it."""
    files_per_day: int = 4
    duplicate_rate: float = 0.01
    """Share of messages delivered a second time (same id and content, later received_at)."""
    late_rate: float = 0.01
    """Share of sessions sent 1 to 5 days late by an offline device."""
    skew_rate: float = 0.05
    """Share of sessions from a device whose clock is off by minutes to hours."""
    no_session_id_rate: float = 0.20
    """Share of sessions sent without a client session id."""
    bot_rate: float = 0.02
    """Share of events from crawlers."""
    invalid_rate: float = 0.0005
    """Share of rows that break the contract's value rules."""
    clean: bool = False
    """Remove the dataset folders before writing."""

    def __post_init__(self) -> None:
        problems = []
        if self.days < 1:
            problems.append(f"days must be at least 1, got {self.days}")
        if self.events < 0:
            problems.append(f"events must not be negative, got {self.events}")
        if self.metrics is not None and self.metrics < 0:
            problems.append(f"metrics must not be negative, got {self.metrics}")
        if self.files_per_day < 1:
            problems.append(f"files per day must be at least 1, got {self.files_per_day}")
        if self.seed < 0:
            problems.append(f"seed must not be negative, got {self.seed}")
        for name in (
            "duplicate_rate",
            "late_rate",
            "skew_rate",
            "no_session_id_rate",
            "bot_rate",
            "invalid_rate",
        ):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                problems.append(f"{name.replace('_', ' ')} must be between 0 and 1, got {value}")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def metric_points(self) -> int:
        return self.events // 5 if self.metrics is None else self.metrics

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)

    @property
    def first_epoch_day(self) -> int:
        return (self.start_date - EPOCH).days

    @property
    def horizon_ms(self) -> int:
        """The last millisecond of the end date."""
        return ((self.end_date - EPOCH).days + 1) * DAY_MS - 1
