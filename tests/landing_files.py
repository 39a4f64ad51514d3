"""Small, explicit landing files: one valid event or metric, changed where a test needs it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.contract import Dataset

DAY_1 = date(2026, 3, 1)
DAY_2 = date(2026, 3, 2)
DAY_3 = date(2026, 3, 3)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def event(message_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid event; `overrides` replace any field."""
    row: dict[str, Any] = {
        "message_id": message_id,
        "tenant_id": "acme",
        "project_id": "web",
        "event_type": "page",
        "event_name": "page_view",
        "timestamp": utc("2026-03-01 10:00:00"),
        "sent_at": None,
        "received_at": utc("2026-03-01 10:00:01"),
        "anonymous_id": "anon-1",
        "page_url": "https://acme.test/pricing",
        "page_path": "/pricing",
        "properties": "{}",
        "ip_address": "203.0.113.77",
    }
    row.update(overrides)
    return row


def metric(metric_id: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "metric_id": metric_id,
        "tenant_id": "acme",
        "project_id": "api",
        "name": "api.request.duration",
        "metric_type": "timer",
        "value": 12.5,
        "timestamp": utc("2026-03-01 10:00:00"),
        "tags": '{"endpoint": "/orders", "region": "eu"}',
        "unit": "ms",
    }
    row.update(overrides)
    return row


def write_landing_file(
    raw_landing: Path,
    dataset: Dataset,
    landing_date: date,
    name: str,
    rows: list[dict[str, Any]],
    schema: pa.Schema | None = None,
) -> Path:
    """Write rows as a Parquet file of the partition (with the contract's schema by default)."""
    folder = raw_landing / dataset.name / f"date={landing_date.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    schema = schema if schema is not None else dataset.arrow_schema()
    columns = {
        field.name: pa.array([row.get(field.name) for row in rows], type=field.type)
        for field in schema
    }
    # Non-nullable fields would refuse the null values the bad-input tests need.
    table = pa.table(columns, schema=pa.schema([f.with_nullable(True) for f in schema]))
    path = folder / name
    pq.write_table(table, path, compression="zstd")
    return path
