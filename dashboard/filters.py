"""The filters every page shares: tenant, project and a date range, in the sidebar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st

from dashboard.publication import query

DEFAULT_DAYS = 30
TENANT_KEY = "filter_tenant"
PROJECT_KEY = "filter_project"
DATES_KEY = "filter_dates"


@dataclass(frozen=True)
class Filters:
    tenant_id: str
    project_id: str
    start: date
    end: date
    """Inclusive."""

    @property
    def end_exclusive(self) -> date:
        """The day after `end`, for half-open filters (`>= start and < end_exclusive`)."""
        return self.end + timedelta(days=1)

    @property
    def scope(self) -> list[object]:
        """Parameters of `tenant_id = ? and project_id = ?`."""
        return [self.tenant_id, self.project_id]

    @property
    def scope_and_dates(self) -> list[object]:
        """Parameters of `tenant_id = ? and project_id = ? and <day> >= ? and <day> < ?`."""
        return [self.tenant_id, self.project_id, self.start, self.end_exclusive]


def projects() -> dict[str, list[str]]:
    """Tenant -> its projects, of every project with KPIs, deployments or metrics."""
    rows = query(
        """
        select distinct tenant_id, project_id from marts.dashboard_metrics
        union
        select distinct tenant_id, project_id from marts.deployments
        union
        select distinct tenant_id, project_id from marts.metric_aggregates
        where period_type = 'monthly'
        order by tenant_id, project_id
        """
    )
    tenants: dict[str, list[str]] = {}
    for tenant_id, project_id in rows.iter_rows():
        tenants.setdefault(tenant_id, []).append(project_id)
    return tenants


def latest_day(tenant_id: str, project_id: str) -> date:
    """The project's latest complete day (the KPIs' as-of day), else today."""
    rows = query(
        "select max(as_of_date) from marts.dashboard_metrics "
        "where tenant_id = ? and project_id = ?",
        [tenant_id, project_id],
    )
    return rows.item() or date.today()


def sidebar() -> Filters | None:
    """The filter widgets; None when the publication holds no project."""
    tenants = projects()
    if not tenants:
        return None
    tenant_id = st.sidebar.selectbox("Tenant", list(tenants), key=TENANT_KEY)
    project_id = st.sidebar.selectbox("Project", tenants[tenant_id], key=PROJECT_KEY)
    end = latest_day(tenant_id, project_id)
    dates = st.sidebar.date_input(
        "Dates",
        value=(end - timedelta(days=DEFAULT_DAYS - 1), end),
        key=DATES_KEY,
        help="Inclusive. The KPI tiles are always as of the latest complete day.",
    )
    # While a range is being picked, the widget holds its first day only.
    start, end = (dates[0], dates[-1]) if isinstance(dates, tuple) and dates else (end, end)
    return Filters(tenant_id, project_id, start, end)


def current() -> Filters:
    """The filters as the sidebar set them on this run (the app renders the sidebar first)."""
    filters = st.session_state.get("filters")
    if filters is None:
        st.stop()
    return filters
