"""Metrics: the percentiles of a metric over time."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import filters
from dashboard.charts import chart, empty, heading, table
from dashboard.publication import query

PERIOD_TYPES = ["daily", "hourly", "weekly", "monthly"]
PERCENTILES = {"value_p50": "p50", "value_p90": "p90", "value_p99": "p99"}

selected = filters.current()
st.title("Metrics")

series = query(
    """
    select metric_name, tags, sum(point_count) as points
    from marts.metric_aggregates
    where tenant_id = ? and project_id = ? and period_type = 'daily'
        and period_start >= ? and period_start < ?
    group by metric_name, tags
    order by metric_name, points desc, tags
    """,
    selected.scope_and_dates,
)
if empty(series):
    st.stop()
left, middle, right = st.columns(3)
metric_name = left.selectbox("Metric", series["metric_name"].unique(maintain_order=True).to_list())
tags = middle.selectbox(
    "Tags", series.filter(series["metric_name"] == metric_name)["tags"].to_list()
)
period_type = right.selectbox("Period", PERIOD_TYPES)

points = query(
    """
    select period_start, point_count, value_avg, value_p50, value_p90, value_p99, value_max
    from marts.metric_aggregates
    where tenant_id = ? and project_id = ? and period_type = ? and metric_name = ? and tags = ?
        and period_start >= ? and period_start < ?
    order by period_start
    """,
    [*selected.scope, period_type, metric_name, tags, selected.start, selected.end_exclusive],
)

heading(
    "Percentiles over time",
    f"p50, p90 and p99 of {metric_name} per {period_type.removesuffix('ly')} period (exact "
    "percentiles over the period's points), for the tags chosen.",
    "metric_aggregates",
)
if not empty(points):
    long = points.select("period_start", *PERCENTILES).rename(PERCENTILES)
    long = long.unpivot(index="period_start", variable_name="percentile", value_name="value")
    chart(
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("period_start:T", title="Period start (UTC)"),
            y=alt.Y("value:Q", title=metric_name),
            color=alt.Color(
                "percentile:N",
                title=None,
                sort=list(PERCENTILES.values()),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=["period_start:T", "percentile:N", alt.Tooltip("value:Q", format=",.2f")],
        )
        .properties(height=340)
    )
    table(points)
