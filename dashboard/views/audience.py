"""Audience: the devices, operating systems, browsers and countries of sessions."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from dashboard import filters
from dashboard.charts import chart, empty, heading
from dashboard.publication import query

TOP = 12
DIMENSIONS = {
    "device_type": "Devices",
    "os_name": "Operating systems",
    "browser_name": "Browsers",
    "country_code": "Countries",
}

selected = filters.current()
st.title("Audience")

# One scan of `sessions` for the four breakdowns.
breakdowns = query(
    """
    select
        case
            when grouping(device_type) = 0 then 'device_type'
            when grouping(os_name) = 0 then 'os_name'
            when grouping(browser_name) = 0 then 'browser_name'
            else 'country_code'
        end as dimension,
        coalesce(device_type, os_name, browser_name, country_code, '(unknown)') as value,
        count(*) as sessions,
        count(distinct person_id) as visitors
    from marts.sessions
    where tenant_id = ? and project_id = ? and session_date >= ? and session_date < ?
    group by grouping sets ((device_type), (os_name), (browser_name), (country_code))
    """,
    selected.scope_and_dates,
)

left, right = st.columns(2)
for index, (dimension, title) in enumerate(DIMENSIONS.items()):
    with left if index % 2 == 0 else right:
        heading(
            title,
            f"Sessions and distinct visitors by the {dimension} of the session's first event, "
            f"top {TOP} by sessions. Bots excluded.",
            "sessions",
        )
        rows = (
            breakdowns.filter(pl.col("dimension") == dimension)
            .sort(["sessions", "value"], descending=[True, False])
            .head(TOP)
        )
        if empty(rows):
            continue
        chart(
            alt.Chart(rows)
            .mark_bar()
            .encode(
                y=alt.Y("value:N", title=None, sort="-x"),
                x=alt.X("sessions:Q", title="Sessions"),
                tooltip=[
                    alt.Tooltip("value:N", title=dimension),
                    alt.Tooltip("sessions:Q", format=","),
                    alt.Tooltip("visitors:Q", format=","),
                ],
            )
            .properties(height=alt.Step(18))
        )
        st.dataframe(
            rows.select(pl.col("value").alias(dimension), "sessions", "visitors"),
            hide_index=True,
            width="stretch",
        )
