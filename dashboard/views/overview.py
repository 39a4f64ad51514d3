"""Overview: the KPI tiles against the previous period, and the daily trend."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import filters
from dashboard.charts import chart, empty, heading
from dashboard.kpis import kpi_tiles
from dashboard.publication import query

TILES_PER_ROW = 4

selected = filters.current()
st.title("Overview")

heading(
    "KPIs",
    "Each KPI over the period ending on the project's latest complete day, and the change from "
    "the period of equal length before it. Bots excluded; the date filter does not apply.",
    "dashboard_metrics",
)
as_of, tiles = kpi_tiles(selected.tenant_id, selected.project_id)
if as_of is None:
    st.info("No KPIs for this tenant and project.")
else:
    st.caption(f"As of {as_of:%Y-%m-%d}.")
    for first in range(0, len(tiles), TILES_PER_ROW):
        columns = st.columns(TILES_PER_ROW)
        for column, tile in zip(columns, tiles[first : first + TILES_PER_ROW], strict=False):
            column.metric(
                tile.label,
                tile.value,
                tile.delta,
                delta_color="inverse" if tile.lower_is_better else "normal",
                delta_description=tile.previous,
                border=True,
            )

heading(
    "Daily trend",
    "Visitors (distinct persons active that day) and sessions (started that day), from the "
    "daily activity of persons; page views, from the daily page analytics. Bots excluded.",
    "user_activity_daily",
    "page_analytics_daily",
)
trend = query(
    """
    with activity as (
        select activity_date as day, count(*) as visitors, sum(session_count) as sessions
        from marts.user_activity_daily
        where tenant_id = ? and project_id = ? and activity_date >= ? and activity_date < ?
        group by activity_date
    ),

    views as (
        select view_date as day, sum(page_views) as page_views
        from marts.page_analytics_daily
        where tenant_id = ? and project_id = ? and view_date >= ? and view_date < ?
        group by view_date
    )

    select
        coalesce(activity.day, views.day) as day,
        coalesce(activity.visitors, 0) as visitors,
        coalesce(activity.sessions, 0) as sessions,
        coalesce(views.page_views, 0) as page_views
    from activity
    full join views on activity.day = views.day
    order by day
    """,
    selected.scope_and_dates * 2,
)
if not empty(trend):
    long = trend.unpivot(index="day", variable_name="measure", value_name="count")
    chart(
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title="Day (UTC)"),
            y=alt.Y("count:Q", title=None),
            color=alt.Color(
                "measure:N",
                title=None,
                sort=["visitors", "sessions", "page_views"],
                legend=alt.Legend(orient="top"),
            ),
            tooltip=["day:T", "measure:N", alt.Tooltip("count:Q", format=",")],
        )
        .properties(height=320)
    )
