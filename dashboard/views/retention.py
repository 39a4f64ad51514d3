"""Retention: the share of each cohort still active N weeks or months later."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import filters
from dashboard.charts import chart, empty, heading, table
from dashboard.publication import query

selected = filters.current()
st.title("Retention")

cohort_type = st.radio("Cohorts", ["weekly", "monthly"], horizontal=True)
unit = "Week" if cohort_type == "weekly" else "Month"
cohorts = query(
    """
    select cohort_start, cohort_size, period_number, active_persons, retention_rate
    from marts.retention_cohorts
    where tenant_id = ? and project_id = ? and cohort_start >= ? and cohort_start < ?
        and cohort_type = ?
    order by cohort_start, period_number
    """,
    [*selected.scope_and_dates, cohort_type],
)

heading(
    "Cohorts",
    f"Persons grouped by the {unit.lower()} of their first event (cohorts starting on the "
    f"dates); each cell is the share of the cohort active in the {unit.lower()} N after. "
    "Bots excluded.",
    "retention_cohorts",
)
if not empty(cohorts):
    labelled = cohorts.with_columns(cohort=cohorts["cohort_start"].dt.strftime("%Y-%m-%d"))
    base = alt.Chart(labelled).encode(
        x=alt.X("period_number:O", title=f"{unit} after the cohort's own"),
        y=alt.Y("cohort:O", title="Cohort"),
    )
    chart(
        base.mark_rect().encode(
            color=alt.Color(
                "retention_rate:Q",
                title="Retained",
                scale=alt.Scale(scheme="blues", domain=[0, 1]),
                legend=alt.Legend(format=".0%"),
            ),
            tooltip=[
                "cohort:O",
                "period_number:O",
                alt.Tooltip("cohort_size:Q", format=","),
                alt.Tooltip("active_persons:Q", format=","),
                alt.Tooltip("retention_rate:Q", format=".1%"),
            ],
        )
        + base.mark_text(fontSize=11).encode(
            text=alt.Text("retention_rate:Q", format=".0%"),
            color=alt.condition(
                alt.datum.retention_rate > 0.5, alt.value("white"), alt.value("black")
            ),
        )
    )
    table(
        cohorts,
        retention_rate=st.column_config.NumberColumn("retention rate", format="percent"),
    )
