"""Pages: the most viewed pages, where sessions enter and leave, time on page, engaged time,
scroll depth, and the channels a page's views come from."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import filters
from dashboard.charts import chart, empty, heading, table
from dashboard.publication import query

TOP = 20
# The measures of a page over the dates, from the daily rows of a page analytics mart: counts
# add up, rates are recomputed from the sums, averages are weighted by page views.
MEASURES = """
    sum(page_views) as page_views,
    sum(entrances) as entrances,
    sum(exits) as exits,
    sum(bounces) / nullif(sum(entrances), 0) as bounce_rate,
    sum(exits) / nullif(sum(page_views), 0) as exit_rate,
    sum(avg_time_on_page_seconds * page_views)
        / nullif(sum(page_views) filter (where avg_time_on_page_seconds is not null), 0)
        as avg_time_on_page_seconds,
    sum(avg_engaged_time_seconds * page_views)
        / nullif(sum(page_views) filter (where avg_engaged_time_seconds is not null), 0)
        as avg_engaged_time_seconds,
    sum(avg_scroll_depth * page_views)
        / nullif(sum(page_views) filter (where avg_scroll_depth is not null), 0)
        as avg_scroll_depth
"""
COLUMNS = {
    "bounce_rate": st.column_config.NumberColumn("bounce rate", format="percent"),
    "exit_rate": st.column_config.NumberColumn("exit rate", format="percent"),
    "avg_time_on_page_seconds": st.column_config.NumberColumn(
        "avg time on page (s)", format="%.1f"
    ),
    "avg_engaged_time_seconds": st.column_config.NumberColumn(
        "avg engaged time (s)", format="%.1f"
    ),
    "avg_scroll_depth": st.column_config.NumberColumn("avg scroll depth (%)", format="%.1f"),
}

selected = filters.current()
st.title("Pages")

pages = query(
    f"""
    select page_path, {MEASURES}
    from marts.page_analytics_daily
    where tenant_id = ? and project_id = ? and view_date >= ? and view_date < ?
    group by page_path
    order by page_views desc, page_path
    limit ?
    """,
    [*selected.scope_and_dates, TOP],
)

heading(
    "Top pages",
    f"The {TOP} most viewed pages over the dates, with the page views that entered and left "
    "a session on them. Bots excluded.",
    "page_analytics_daily",
)
if not empty(pages):
    entries_exits = pages.select("page_path", "page_views", "entrances", "exits").unpivot(
        index="page_path", variable_name="measure", value_name="count"
    )
    chart(
        alt.Chart(entries_exits)
        .mark_bar()
        .encode(
            y=alt.Y("page_path:N", title=None, sort=pages["page_path"].to_list()),
            x=alt.X("count:Q", title="Page views"),
            yOffset=alt.YOffset("measure:N", sort=["page_views", "entrances", "exits"]),
            color=alt.Color(
                "measure:N",
                title=None,
                sort=["page_views", "entrances", "exits"],
                legend=alt.Legend(orient="top"),
            ),
            tooltip=["page_path:N", "measure:N", alt.Tooltip("count:Q", format=",")],
        )
        .properties(height=alt.Step(8))
    )

    heading(
        "Time on page and scroll depth",
        "Average seconds on the page and average scroll depth of the top pages (daily averages "
        "weighted by page views); the bubble's size is page views. Engaged time (the seconds "
        "the page's pings report as engaged, at most the time on page) is in the tooltip and "
        "the table.",
        "page_analytics_daily",
    )
    chart(
        alt.Chart(pages)
        .mark_circle(opacity=0.7)
        .encode(
            x=alt.X("avg_time_on_page_seconds:Q", title="Avg time on page (s)"),
            y=alt.Y("avg_scroll_depth:Q", title="Avg scroll depth (%)"),
            size=alt.Size("page_views:Q", title="Page views"),
            tooltip=[
                "page_path:N",
                alt.Tooltip("avg_time_on_page_seconds:Q", format=".1f"),
                alt.Tooltip("avg_engaged_time_seconds:Q", format=".1f"),
                alt.Tooltip("avg_scroll_depth:Q", format=".1f"),
                alt.Tooltip("page_views:Q", format=","),
            ],
        )
        .properties(height=320)
    )

    heading("Pages table", "The numbers of the charts above.", "page_analytics_daily")
    table(pages, **COLUMNS)

    heading(
        "Channels of a page",
        "The page views of the page chosen by the channel of their session, with the same "
        "measures as the pages table.",
        "page_analytics_channels_daily",
    )
    page_path = st.selectbox("Page", pages["page_path"].to_list(), key="channels_page")
    channels = query(
        f"""
        select channel, {MEASURES}
        from marts.page_analytics_channels_daily
        where tenant_id = ? and project_id = ? and view_date >= ? and view_date < ?
            and page_path = ?
        group by channel
        order by page_views desc, channel
        """,
        [*selected.scope_and_dates, page_path],
    )
    if not empty(channels):
        chart(
            alt.Chart(channels)
            .mark_bar()
            .encode(
                y=alt.Y("channel:N", title=None, sort=channels["channel"].to_list()),
                x=alt.X("page_views:Q", title="Page views"),
                tooltip=[
                    "channel:N",
                    alt.Tooltip("page_views:Q", format=","),
                    alt.Tooltip("entrances:Q", format=","),
                    alt.Tooltip("bounce_rate:Q", format=".1%"),
                    alt.Tooltip("avg_time_on_page_seconds:Q", format=".1f"),
                    alt.Tooltip("avg_engaged_time_seconds:Q", format=".1f"),
                ],
            )
            .properties(height=alt.Step(24))
        )
        table(channels, channel=st.column_config.TextColumn("channel", width="medium"), **COLUMNS)
