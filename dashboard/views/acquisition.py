"""Acquisition: where sessions come from - referrers, UTM parameters and channels."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import filters
from dashboard.charts import chart, empty, heading, table
from dashboard.publication import columns, query

TOP = 15
# Sources grouped into channels (organic search, paid, social...) once `sessions` has such a
# column; until then, the channel the first event came through.
CHANNEL_COLUMNS = ("acquisition_channel", "marketing_channel", "channel_type")

selected = filters.current()
st.title("Acquisition")


def sessions_by(dimension: str, label: str, top: int = TOP) -> None:
    """Sessions, bounce rate and conversion rate by a column of `sessions` (not user input)."""
    rows = query(
        f"""
        select
            coalesce({dimension}, '(none)') as {label},
            count(*) as sessions,
            avg(is_bounce::int) as bounce_rate,
            avg(converted::int) as conversion_rate
        from marts.sessions
        where tenant_id = ? and project_id = ? and session_date >= ? and session_date < ?
        group by all
        order by sessions desc, {label}
        limit ?
        """,
        [*selected.scope_and_dates, top],
    )
    if empty(rows):
        return
    chart(
        alt.Chart(rows)
        .mark_bar()
        .encode(
            y=alt.Y(f"{label}:N", title=None, sort="-x"),
            x=alt.X("sessions:Q", title="Sessions"),
            tooltip=[
                f"{label}:N",
                alt.Tooltip("sessions:Q", format=","),
                alt.Tooltip("bounce_rate:Q", format=".1%"),
                alt.Tooltip("conversion_rate:Q", format=".1%"),
            ],
        )
        .properties(height=alt.Step(18))
    )
    table(
        rows,
        bounce_rate=st.column_config.NumberColumn("bounce rate", format="percent"),
        conversion_rate=st.column_config.NumberColumn("conversion rate", format="percent"),
    )


heading(
    "Referrers",
    f"Sessions by the host of their first page view's referrer, top {TOP}, with their bounce "
    "and conversion rates; '(none)' is direct traffic.",
    "sessions",
)
sessions_by("referrer_host", "referrer")

heading(
    "UTM campaigns",
    f"Sessions by the utm_source / utm_medium / utm_campaign of their entry page, top {TOP}.",
    "sessions",
)
sessions_by(
    "nullif(concat_ws(' / ', utm_source, utm_medium, utm_campaign), '')", "source_medium_campaign"
)

channel = next((name for name in CHANNEL_COLUMNS if name in columns("sessions")), None)
if channel is not None:
    heading("Channels", f"Sessions by `{channel}`.", "sessions")
    sessions_by(channel, "channel")
