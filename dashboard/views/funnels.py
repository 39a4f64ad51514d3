"""Funnels: how many attempts reach each step, the conversion, and the time between steps."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import filters
from dashboard.charts import chart, empty, heading, table
from dashboard.publication import columns, query
from orchestration.sql import quote_identifier

# The columns of `funnel_results` this page reads. Text columns beyond these (an order mode, a
# breakdown) split a funnel's rows further: each gets a selector, so that no sum adds up rows
# of different modes or breakdowns.
READ = {
    "tenant_id",
    "project_id",
    "funnel_id",
    "funnel_name",
    "period_type",
    "period_start",
    "step_number",
    "step_event_name",
    "attempts_reached",
    "median_seconds_from_previous_step",
}
SPLITTING_TYPES = ("VARCHAR", "BOOLEAN")

selected = filters.current()
st.title("Funnels")

funnels = query(
    """
    select funnel_id, any_value(funnel_name) as funnel_name
    from marts.funnel_results
    where tenant_id = ? and project_id = ? and period_type = 'daily'
        and period_start >= ? and period_start < ?
    group by funnel_id
    order by funnel_id
    """,
    selected.scope_and_dates,
)
if empty(funnels):
    st.stop()
names = dict(funnels.iter_rows())
funnel_id = st.selectbox("Funnel", list(names), format_func=lambda key: names[key] or key)

conditions = [
    "tenant_id = ?",
    "project_id = ?",
    "funnel_id = ?",
    "period_type = 'daily'",
    "period_start >= ?",
    "period_start < ?",
]
parameters: list[object] = [selected.tenant_id, selected.project_id, funnel_id]
parameters += [selected.start, selected.end_exclusive]
for name, data_type in columns("funnel_results").items():
    if name in READ or data_type not in SPLITTING_TYPES:
        continue
    column = quote_identifier(name)
    values = query(
        f"select distinct {column}::varchar as value from marts.funnel_results "
        f"where {' and '.join(conditions)} order by value nulls first",
        parameters,
    )["value"].to_list()
    value = st.selectbox(name.replace("_", " ").capitalize(), values)
    conditions.append(f"{column} is not distinct from ?::{data_type}")
    parameters.append(value)

steps = query(
    f"""
    with steps as (
        select
            step_number,
            any_value(step_event_name) as step_event_name,
            sum(attempts_reached) as attempts_reached,
            sum(median_seconds_from_previous_step * attempts_reached) / nullif(
                sum(attempts_reached) filter (where median_seconds_from_previous_step is not null),
                0
            ) as seconds_from_previous_step
        from marts.funnel_results
        where {" and ".join(conditions)}
        group by step_number
    )

    select
        step_number,
        step_event_name,
        attempts_reached,
        attempts_reached / nullif(lag(attempts_reached) over (order by step_number), 0)
            as step_conversion_rate,
        attempts_reached / nullif(first(attempts_reached) over (order by step_number), 0)
            as overall_conversion_rate,
        seconds_from_previous_step
    from steps
    order by step_number
    """,
    parameters,
)

heading(
    "Steps",
    "Attempts started on the dates that reached each step; the label is the conversion from "
    "step 1.",
    "funnel_results",
)
if not empty(steps):
    labelled = steps.with_columns(
        step=steps["step_number"].cast(str) + ". " + steps["step_event_name"]
    )
    bars = alt.Chart(labelled).encode(
        x=alt.X("step:N", title=None, sort=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("attempts_reached:Q", title="Attempts reaching the step"),
        tooltip=[
            "step:N",
            alt.Tooltip("attempts_reached:Q", format=","),
            alt.Tooltip("step_conversion_rate:Q", format=".1%", title="from previous step"),
            alt.Tooltip("overall_conversion_rate:Q", format=".1%", title="from step 1"),
            alt.Tooltip("seconds_from_previous_step:Q", format=".0f"),
        ],
    )
    chart(
        (
            bars.mark_bar()
            + bars.mark_text(dy=-8).encode(text=alt.Text("overall_conversion_rate:Q", format=".1%"))
        ).properties(height=320)
    )

    heading(
        "Time from the previous step",
        "Median seconds from the previous step, per day, averaged over the dates weighted by the "
        "attempts that reached the step.",
        "funnel_results",
    )
    chart(
        alt.Chart(labelled.filter(labelled["step_number"] > 1))
        .mark_bar()
        .encode(
            x=alt.X("step:N", title=None, sort=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("seconds_from_previous_step:Q", title="Seconds"),
            tooltip=["step:N", alt.Tooltip("seconds_from_previous_step:Q", format=".0f")],
        )
        .properties(height=260)
    )
    table(
        steps,
        step_conversion_rate=st.column_config.NumberColumn("from previous step", format="percent"),
        overall_conversion_rate=st.column_config.NumberColumn("from step 1", format="percent"),
        seconds_from_previous_step=st.column_config.NumberColumn(
            "seconds from previous step", format="%.0f"
        ),
    )
