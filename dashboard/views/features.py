"""Features: how often each product feature is used, by how many, and how often it succeeds."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from dashboard import filters
from dashboard.charts import chart, empty, heading, table
from dashboard.publication import query

TOP = 8

selected = filters.current()
st.title("Features")

daily = query(
    """
    select feature, usage_date, usage_count, unique_users, success_count, outcome_count
    from marts.feature_usage_daily
    where tenant_id = ? and project_id = ? and usage_date >= ? and usage_date < ?
    order by usage_date, feature
    """,
    selected.scope_and_dates,
)
features = (
    daily.group_by("feature")
    .agg(
        pl.col("usage_count").sum(),
        pl.col("unique_users").sum().alias("daily_users"),
        pl.col("success_count").sum(),
        pl.col("outcome_count").sum(),
    )
    .with_columns(
        success_rate=pl.when(pl.col("outcome_count") > 0).then(
            pl.col("success_count") / pl.col("outcome_count")
        )
    )
    .sort(["usage_count", "feature"], descending=[True, False])
)

heading(
    "Usage and success rate",
    "feature_used events over the dates by feature; the colour is the share of the events "
    "that reported an outcome and succeeded. Bots excluded.",
    "feature_usage_daily",
)
if not empty(features):
    chart(
        alt.Chart(features)
        .mark_bar()
        .encode(
            y=alt.Y("feature:N", title=None, sort="-x"),
            x=alt.X("usage_count:Q", title="Uses"),
            color=alt.Color(
                "success_rate:Q",
                title="Success rate",
                scale=alt.Scale(scheme="redyellowgreen", domain=[0, 1]),
                legend=alt.Legend(format=".0%"),
            ),
            tooltip=[
                "feature:N",
                alt.Tooltip("usage_count:Q", format=","),
                alt.Tooltip("daily_users:Q", format=","),
                alt.Tooltip("success_rate:Q", format=".1%"),
            ],
        )
        .properties(height=alt.Step(20))
    )

    heading(
        "Daily usage",
        f"feature_used events per day of the {TOP} most used features.",
        "feature_usage_daily",
    )
    top = features["feature"].head(TOP).to_list()
    chart(
        alt.Chart(daily.filter(pl.col("feature").is_in(top)))
        .mark_line(point=True)
        .encode(
            x=alt.X("usage_date:T", title="Day (UTC)"),
            y=alt.Y("usage_count:Q", title="Uses"),
            color=alt.Color("feature:N", title=None, sort=top),
            tooltip=["usage_date:T", "feature:N", alt.Tooltip("usage_count:Q", format=",")],
        )
        .properties(height=300)
    )
    table(
        features,
        daily_users=st.column_config.NumberColumn(
            "daily users", help="Distinct users per day, added up over the dates"
        ),
        success_rate=st.column_config.NumberColumn("success rate", format="percent"),
    )
