"""The KPI tiles of `dashboard_metrics`: labels, formats, and which way is better."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dashboard.publication import query


@dataclass(frozen=True)
class Kpi:
    label: str
    unit: str
    """count, seconds, rate (0..1) or amount."""
    lower_is_better: bool = False


KPIS = {
    "dau": Kpi("Active persons", "count"),
    "wau": Kpi("Active persons", "count"),
    "mau": Kpi("Active persons", "count"),
    "sessions": Kpi("Sessions", "count"),
    "avg_session_duration_seconds": Kpi("Avg session duration", "seconds"),
    "bounce_rate": Kpi("Bounce rate", "rate", lower_is_better=True),
    "conversion_rate": Kpi("Conversion rate", "rate"),
    "revenue": Kpi("Revenue", "amount"),
    "new_users": Kpi("New users", "count"),
}


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    delta: str | None
    previous: str
    lower_is_better: bool


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "rate":
        return f"{value:.1%}"
    if unit == "seconds":
        minutes, seconds = divmod(round(value), 60)
        return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"
    if unit == "amount":
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def format_change(change_percent: float | None) -> str | None:
    return None if change_percent is None else f"{change_percent:+.1f}%"


def kpi_tiles(tenant_id: str, project_id: str) -> tuple[date | None, list[Tile]]:
    """The project's KPIs as of its latest complete day, in the order of KPIS, shortest period
    first."""
    rows = query(
        """
        select as_of_date, kpi, period_days, current_value, previous_value, change_percent
        from marts.dashboard_metrics
        where tenant_id = ? and project_id = ?
        order by period_days, kpi
        """,
        [tenant_id, project_id],
    )
    order = list(KPIS)
    tiles = sorted(
        (row for row in rows.iter_rows(named=True) if row["kpi"] in KPIS),
        key=lambda row: (order.index(row["kpi"]), row["period_days"]),
    )
    as_of = rows["as_of_date"].max() if not rows.is_empty() else None
    return as_of, [tile(row) for row in tiles]


def tile(row: dict) -> Tile:
    kpi = KPIS[row["kpi"]]
    days = row["period_days"]
    previous = format_value(row["previous_value"], kpi.unit)
    return Tile(
        label=f"{kpi.label} · {days} d",
        value=format_value(row["current_value"], kpi.unit),
        delta=format_change(row["change_percent"]),
        previous=f"previous {days} d: {previous}",
        lower_is_better=kpi.lower_is_better,
    )
