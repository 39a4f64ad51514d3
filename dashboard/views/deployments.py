"""Deployments: what was deployed, how it ended, how long it took to be ready."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from dashboard import filters
from dashboard.charts import chart, empty, heading, table
from dashboard.publication import query

STATUSES = ["ready", "pending", "failed", "rolled_back"]
STATUS_COLOURS = ["#2e7d32", "#9e9e9e", "#c62828", "#ef6c00"]

selected = filters.current()
st.title("Deployments")

deployments = query(
    """
    select
        deployment_id,
        version_id,
        provider,
        latest_status,
        first_event_at,
        date_diff('millisecond', coalesce(pending_at, first_event_at), ready_at) / 1000
            as seconds_to_ready,
        is_rollback,
        is_rolled_back,
        deploy_url
    from marts.deployments
    where tenant_id = ? and project_id = ? and first_event_at >= ? and first_event_at < ?
    order by first_event_at desc, deployment_id
    """,
    selected.scope_and_dates,
)

heading(
    "Deployments by status",
    "Deployments first reported on the dates, per day, by their latest status.",
    "deployments",
)
if not empty(deployments):
    totals = st.columns(4)
    totals[0].metric("Deployments", f"{deployments.height:,}")
    totals[1].metric("Failed", f"{(deployments['latest_status'] == 'failed').sum():,}")
    totals[2].metric("Rollbacks", f"{deployments['is_rollback'].sum():,}")
    median = deployments["seconds_to_ready"].median()
    totals[3].metric("Median time to ready", "-" if median is None else f"{median:,.0f} s")

    per_day = deployments.with_columns(day=pl.col("first_event_at").dt.date())
    chart(
        alt.Chart(per_day)
        .mark_bar()
        .encode(
            x=alt.X("day:T", title="Day (UTC)"),
            y=alt.Y("count():Q", title="Deployments"),
            color=alt.Color(
                "latest_status:N",
                title=None,
                scale=alt.Scale(domain=STATUSES, range=STATUS_COLOURS),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=["day:T", "latest_status:N", "count():Q"],
        )
        .properties(height=280)
    )

    heading(
        "Time to ready",
        "Seconds from pending (or the first event) to ready, per deployment that became ready.",
        "deployments",
    )
    chart(
        alt.Chart(deployments.drop_nulls("seconds_to_ready"))
        .mark_circle(size=60)
        .encode(
            x=alt.X("first_event_at:T", title="First reported (UTC)"),
            y=alt.Y("seconds_to_ready:Q", title="Seconds to ready"),
            color=alt.Color("provider:N", title="Provider"),
            tooltip=["deployment_id:N", "version_id:N", "provider:N", "seconds_to_ready:Q"],
        )
        .properties(height=260)
    )
    table(deployments, deploy_url=st.column_config.LinkColumn("deploy url"))
