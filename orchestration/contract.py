"""The landing contract: what a Parquet file in `raw_landing/` must look like.

This module is the only place the contract is written down. The sample-data generator writes
files with `Dataset.arrow_schema()`, the loader validates and casts with it, the Dagster checks
compare the loaded tables against `Dataset.table_columns()`, and a test proves the dbt source
YAML declares the same columns and types.

All timestamps are UTC. Unknown extra columns in a file are ignored and reported, never fatal.

A new optional column may be added to a dataset at any time: the next load adds it to the raw
tables a warehouse already has (see `orchestration/landing/tables.py`). Changing a column's type,
removing a column or adding a required one stops the next load until the tables are changed by
hand, as its message says.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa


class ColumnType(StrEnum):
    STRING = "string"
    TIMESTAMP = "timestamp"
    INTEGER = "integer"
    DOUBLE = "double"
    DATE = "date"
    BIGINT = "bigint"

    @property
    def duckdb(self) -> str:
        return _DUCKDB_TYPES[self]

    @property
    def arrow(self) -> pa.DataType:
        return _ARROW_TYPES[self]


_DUCKDB_TYPES = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.INTEGER: "INTEGER",
    ColumnType.DOUBLE: "DOUBLE",
    ColumnType.DATE: "DATE",
    ColumnType.BIGINT: "BIGINT",
}
_ARROW_TYPES = {
    ColumnType.STRING: pa.string(),
    ColumnType.TIMESTAMP: pa.timestamp("ms", tz="UTC"),
    ColumnType.INTEGER: pa.int32(),
    ColumnType.DOUBLE: pa.float64(),
    ColumnType.DATE: pa.date32(),
    ColumnType.BIGINT: pa.int64(),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool
    description: str
    accepted_values: tuple[str, ...] | None = None
    """A non-null value outside this set rejects the row."""
    pattern: str | None = None
    """A non-null value that does not fully match this regular expression rejects the row."""
    json_object: bool = False
    """The value is the text of a JSON object; anything else rejects the row."""
    json_string_values: bool = False
    """With `json_object`: every value of the object must be a string."""


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    key: tuple[str, ...]
    """One row per key across all files and days."""
    dedup_order: tuple[str, ...]
    """Among rows with the same key the first by these columns wins, then by source file and row."""
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.required)

    def arrow_schema(self) -> pa.Schema:
        """The schema a conforming landing file has (required columns are non-nullable)."""
        return pa.schema(
            [pa.field(c.name, c.type.arrow, nullable=not c.required) for c in self.columns]
        )

    def table_columns(self) -> tuple[Column, ...]:
        """Columns of the loaded `raw.<name>` table: the contract, then the lineage columns."""
        return self.columns + LINEAGE_COLUMNS

    @property
    def table(self) -> str:
        return f"raw.{self.name}"

    @property
    def duplicates_table(self) -> str:
        return f"raw.{self.name}_duplicates"

    @property
    def rejected_table(self) -> str:
        return f"raw.{self.name}_rejected"

    @property
    def key_hashes_table(self) -> str:
        """Every kept delivery's key hash by arrival day (orchestration/landing/key_hashes.py)."""
        return f"raw.{self.name}_key_hashes"


def _str(name: str, description: str, *, required: bool = False, **kwargs) -> Column:
    return Column(name, ColumnType.STRING, required, description, **kwargs)


def _ts(name: str, description: str, *, required: bool = False) -> Column:
    return Column(name, ColumnType.TIMESTAMP, required, description)


EVENT_TYPES = ("track", "page", "identify")
CHANNEL_TYPES = ("web", "mobile", "whatsapp")
DEVICE_TYPES = ("desktop", "mobile", "tablet", "bot", "unknown")
METRIC_TYPES = ("counter", "gauge", "histogram", "timer")
DEPLOYMENT_STATUSES = ("pending", "ready", "failed", "rolled_back")

EVENTS = Dataset(
    name="events",
    description="Product and web analytics events from browsers, apps and servers.",
    key=("tenant_id", "message_id"),
    dedup_order=("received_at", "sent_at"),
    columns=(
        _str("message_id", "Client-generated id; the dedup key within a tenant.", required=True),
        _str("tenant_id", "Tenant (customer account) the event belongs to.", required=True),
        _str("project_id", "Project (site or app) of the tenant.", required=True),
        _str(
            "event_type",
            "Kind of call: track, page or identify.",
            required=True,
            accepted_values=EVENT_TYPES,
        ),
        _str(
            "event_name",
            "Name of the event, e.g. page_view, page_ping, feature_used, purchase, identify.",
            required=True,
        ),
        _ts("timestamp", "Device clock at the moment of the event (UTC).", required=True),
        _ts("sent_at", "Device clock when the batch was sent (UTC), for clock-skew correction."),
        _ts(
            "received_at",
            "Collector clock on arrival (UTC); drives partitions and incremental windows.",
            required=True,
        ),
        _str("anonymous_id", "Device or browser id.", required=True),
        _str("user_id", "Known user id once the visitor logged in."),
        _str("session_id", "Client session id; when absent the warehouse sessionizes."),
        _str(
            "channel_type",
            "Channel: web (default), mobile or whatsapp.",
            accepted_values=CHANNEL_TYPES,
        ),
        _str("page_url", "Full page URL; UTM parameters are read from its query string."),
        _str("page_path", "Path of the page URL."),
        _str("page_title", "Title of the page."),
        _str("page_referrer", "URL of the referring page."),
        _str("user_agent", "Raw user agent; device, OS and browser are derived from it."),
        _str(
            "device_type",
            "desktop, mobile, tablet, bot or unknown; derived from the user agent when absent.",
            accepted_values=DEVICE_TYPES,
        ),
        _str("os_name", "Operating system name."),
        _str("browser_name", "Browser name."),
        Column("screen_width", ColumnType.INTEGER, False, "Screen width in pixels."),
        Column("screen_height", ColumnType.INTEGER, False, "Screen height in pixels."),
        _str(
            "ip_address",
            "Client IP, anonymized on load (IPv4 last octet zeroed, IPv6 cut to /48).",
        ),
        _str("country_code", "ISO-3166 alpha-2 country code.", pattern="[A-Z]{2}"),
        _str("city", "City name."),
        _str(
            "properties",
            "Event-specific fields as the text of a JSON object.",
            json_object=True,
        ),
        _str("sdk_version", "Version of the SDK that sent the event."),
    ),
)

METRICS = Dataset(
    name="metrics",
    description="Operational metrics (counters, gauges, histograms, timers) with tags.",
    key=("tenant_id", "metric_id"),
    # Metrics carry no collector time: the first delivery wins, and landing paths sort by
    # arrival date, so source file and row order alone decide.
    dedup_order=(),
    columns=(
        _str("metric_id", "Dedup key of the data point within a tenant.", required=True),
        _str("tenant_id", "Tenant the data point belongs to.", required=True),
        _str("project_id", "Project of the tenant.", required=True),
        _str("name", "Metric name, e.g. api.request.duration.", required=True),
        _str(
            "metric_type",
            "counter, gauge, histogram or timer.",
            required=True,
            accepted_values=METRIC_TYPES,
        ),
        Column("value", ColumnType.DOUBLE, True, "Value of the data point; finite."),
        _ts("timestamp", "Time of the data point (UTC).", required=True),
        _str(
            "tags",
            "Tags as the text of a JSON object of strings; key order does not matter.",
            json_object=True,
            json_string_values=True,
        ),
        _str("unit", "Unit of the value, e.g. ms."),
    ),
)

LINEAGE_COLUMNS = (
    Column("_source_file", ColumnType.STRING, True, "Landing file, relative to raw_landing/."),
    Column("_source_row", ColumnType.BIGINT, True, "Row number in the landing file, from 0."),
    Column("_landing_date", ColumnType.DATE, True, "Arrival-date partition the file landed in."),
    Column("_loaded_at", ColumnType.TIMESTAMP, True, "When the row was loaded (UTC)."),
)

DATASETS: dict[str, Dataset] = {dataset.name: dataset for dataset in (EVENTS, METRICS)}

# Event-specific fields inside `properties`, as the spec describes them, optional ones included
# (`engaged_ms`, `rollback_of`). The loader only checks that `properties` is a JSON object; the
# generator writes these and the models extract them.
CONVERSION_EVENTS_DEFAULT = ("signup", "purchase", "appointment_booked")
EVENT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "page_view": (),
    "page_ping": ("scroll_depth", "engaged_ms"),
    "page_leave": ("scroll_depth", "engaged_ms"),
    "feature_used": ("feature", "action", "duration_ms", "success"),
    "identify": ("traits",),
    "preferences_updated": ("color_scheme", "font_family", "layout_mode", "favorite_components"),
    "deployment": (
        "deployment_id",
        "version_id",
        "provider",
        "deploy_url",
        "status",
        "rollback_of",
    ),
    **{name: ("value", "currency") for name in CONVERSION_EVENTS_DEFAULT},
}
