"""Acquisition: where sessions come from - channels, the credit each channel gets for the
conversions under each attribution model, referrers and UTM parameters."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from dashboard import filters
from dashboard.charts import chart, empty, heading, table
from dashboard.publication import query

TOP = 15
# The models of `conversion_attribution`, in the order its documentation gives them.
MODELS = {
    "first_touch": "First touch",
    "last_touch": "Last touch",
    "last_non_direct": "Last non-direct",
    "linear": "Linear",
    "position_based": "Position-based",
}
DEFAULT_MODEL = "last_non_direct"
# Pixels per bar of a bar per channel (or referrer, campaign): room for every label.
BAR_STEP = 24
FUNNEL = {
    "sessions": "sessions",
    "engaged_sessions": "engaged sessions",
    "converting_sessions": "converting sessions",
}

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
        .properties(height=alt.Step(BAR_STEP))
    )
    table(
        rows,
        bounce_rate=st.column_config.NumberColumn("bounce rate", format="percent"),
        conversion_rate=st.column_config.NumberColumn("conversion rate", format="percent"),
    )


# Counts add up over the days of `channels_daily`. Distinct visitors over the dates do not: they
# come from `sessions`, and so, in the same query, do the bounce rate and engaged time over the
# sessions with page views.
channels = query(
    """
    with days as (
        select
            channel,
            sum(sessions) as sessions,
            sum(engaged_sessions) as engaged_sessions,
            sum(bounces) as bounces,
            sum(conversions) as conversions,
            sum(converting_sessions) as converting_sessions,
            sum(revenue) as revenue
        from marts.channels_daily
        where tenant_id = ? and project_id = ? and session_date >= ? and session_date < ?
        group by channel
    ),

    persons_and_page_views as (
        select
            channel,
            count(distinct person_id) as visitors,
            count(is_bounce) as sessions_with_page_views,
            avg(engaged_time_seconds) as avg_engaged_time_seconds
        from marts.sessions
        where tenant_id = ? and project_id = ? and session_date >= ? and session_date < ?
        group by channel
    )

    select
        days.channel,
        days.sessions,
        persons_and_page_views.visitors,
        days.engaged_sessions,
        days.engaged_sessions / days.sessions as engagement_rate,
        days.bounces / nullif(persons_and_page_views.sessions_with_page_views, 0) as bounce_rate,
        persons_and_page_views.avg_engaged_time_seconds,
        days.conversions,
        days.converting_sessions,
        days.converting_sessions / days.sessions as conversion_rate,
        days.revenue
    from days
    left join persons_and_page_views on days.channel = persons_and_page_views.channel
    order by days.sessions desc, days.channel
    """,
    selected.scope_and_dates * 2,
)

heading(
    "Channels",
    "Sessions by their channel (the default channel grouping of the entry page's UTM source "
    "and medium and the referrer), of which engaged and converting. Counts are summed over the "
    "days and rates recomputed from the sums: engagement and conversion rate per session, bounce "
    "rate and engaged time over the sessions with page views. Visitors are distinct persons over "
    "all the dates, not a sum of daily visitors. Conversions are events; revenue adds up "
    "currencies as sent. Bots excluded.",
    "channels_daily",
    "sessions",
)
if not empty(channels):
    order = channels["channel"].to_list()
    chart(
        alt.Chart(
            channels.unpivot(
                on=list(FUNNEL), index="channel", variable_name="measure", value_name="count"
            ).with_columns(pl.col("measure").replace_strict(FUNNEL))
        )
        .mark_bar()
        .encode(
            y=alt.Y("channel:N", title=None, sort=order),
            x=alt.X("count:Q", title="Sessions", stack=None),
            color=alt.Color(
                "measure:N",
                title=None,
                sort=list(FUNNEL.values()),
                scale=alt.Scale(scheme="blues"),
                legend=alt.Legend(orient="top"),
            ),
            # The smaller counts are drawn over the larger: engaged and converting sessions are
            # parts of the sessions.
            order=alt.Order("count:Q", sort="descending"),
            tooltip=["channel:N", "measure:N", alt.Tooltip("count:Q", format=",")],
        )
        .properties(height=alt.Step(BAR_STEP))
    )
    # Converting sessions, the numerator of the conversion rate, are in the chart: the table
    # then fits the page.
    table(
        channels.drop("converting_sessions"),
        channel=st.column_config.TextColumn("channel", pinned=True, width="medium"),
        engaged_sessions=st.column_config.NumberColumn("engaged", help="Engaged sessions"),
        engagement_rate=st.column_config.NumberColumn("engagement rate", format="percent"),
        bounce_rate=st.column_config.NumberColumn(
            "bounce rate", format="percent", help="Of the sessions with page views"
        ),
        avg_engaged_time_seconds=st.column_config.NumberColumn(
            "engaged time (s)",
            format="%.1f",
            help="Average engaged time of the sessions with page views",
        ),
        conversion_rate=st.column_config.NumberColumn(
            "conversion rate", format="percent", help="Converting sessions / sessions"
        ),
        revenue=st.column_config.NumberColumn("revenue", format="accounting"),
    )

    heading(
        "Sessions by channel over time",
        "Sessions started each day, stacked by channel, the largest channel at the bottom.",
        "channels_daily",
    )
    daily = query(
        """
        select session_date, channel, sum(sessions) as sessions
        from marts.channels_daily
        where tenant_id = ? and project_id = ? and session_date >= ? and session_date < ?
        group by session_date, channel
        order by session_date, channel
        """,
        selected.scope_and_dates,
    ).with_columns(channel_rank=pl.col("channel").replace_strict(order, range(len(order))))
    chart(
        alt.Chart(daily)
        .mark_bar()
        .encode(
            x=alt.X(
                "utcyearmonthdate(session_date):O",
                title="Day (UTC)",
                axis=alt.Axis(format="%b %d", labelAngle=0),
            ),
            y=alt.Y("sessions:Q", title="Sessions"),
            color=alt.Color(
                "channel:N", title=None, sort=order, scale=alt.Scale(scheme="tableau20")
            ),
            order=alt.Order("channel_rank:Q"),
            tooltip=[
                alt.Tooltip("utcyearmonthdate(session_date):T", title="day", format="%Y-%m-%d"),
                "channel:N",
                alt.Tooltip("sessions:Q", format=","),
            ],
        )
        .properties(height=320)
    )

attribution = query(
    """
    select
        channel,
        attribution_model,
        sum(credit) as conversions,
        coalesce(sum(attributed_value), 0) as attributed_value
    from marts.conversion_attribution
    where tenant_id = ? and project_id = ? and conversion_date >= ? and conversion_date < ?
    group by channel, attribution_model
    """,
    selected.scope_and_dates,
)

heading(
    "Attribution",
    "The conversions of the dates (by the day they happened), credited to the channels of the "
    "converting person's sessions in the lookback window by the model chosen: the attributed "
    "conversions (a conversion's credit adds up to 1 over its sessions), their share, and the "
    "attributed value (credit x conversion value, currencies as sent).",
    "conversion_attribution",
)
model = st.selectbox(
    "Attribution model",
    list(MODELS),
    index=list(MODELS).index(DEFAULT_MODEL),
    format_func=MODELS.__getitem__,
    key="attribution_model",
    help="First touch: the earliest session. Last touch: the session the conversion happened "
    "in. Last non-direct: the latest session not from Direct, else the converting one. Linear: "
    "equal shares. Position-based: 40% to the first and 40% to the last session, 20% shared by "
    "the others.",
)
if not empty(attribution):
    credited = (
        attribution.filter(pl.col("attribution_model") == model)
        .drop("attribution_model")
        .with_columns(share=pl.col("conversions") / pl.col("conversions").sum())
        .sort(["conversions", "channel"], descending=[True, False])
        .select("channel", "conversions", "share", "attributed_value")
    )
    chart(
        alt.Chart(credited)
        .mark_bar()
        .encode(
            y=alt.Y("channel:N", title=None, sort=credited["channel"].to_list()),
            x=alt.X("conversions:Q", title=f"Attributed conversions ({MODELS[model].lower()})"),
            tooltip=[
                "channel:N",
                alt.Tooltip("conversions:Q", format=",.2f"),
                alt.Tooltip("share:Q", format=".1%"),
                alt.Tooltip("attributed_value:Q", format=",.2f"),
            ],
        )
        .properties(height=alt.Step(BAR_STEP))
    )
    table(
        credited,
        conversions=st.column_config.NumberColumn("attributed conversions", format="%.2f"),
        share=st.column_config.NumberColumn("share", format="percent"),
        attributed_value=st.column_config.NumberColumn("attributed value", format="accounting"),
    )

    heading(
        "Attribution models compared",
        "The attributed conversions of each channel under the five models side by side, the "
        "channels in the order of the model chosen. Under last touch a channel gets the "
        "conversions that happened in its sessions: those of the channels table, dated by the "
        "conversion instead of the session's start.",
        "conversion_attribution",
    )
    # One column per model, 0 where a model credits the channel nothing.
    by_model = attribution.pivot("attribution_model", index="channel", values="conversions")
    by_model = (
        by_model.with_columns(
            pl.lit(None, pl.Float64).alias(name) for name in MODELS if name not in by_model.columns
        )
        .select("channel", *MODELS)
        .fill_null(0.0)
        .sort([model, "channel"], descending=[True, False])
    )
    labelled = attribution.with_columns(model=pl.col("attribution_model").replace_strict(MODELS))
    chart(
        alt.Chart(labelled)
        .mark_bar()
        .encode(
            y=alt.Y("channel:N", title=None, sort=by_model["channel"].to_list()),
            yOffset=alt.YOffset("model:N", sort=list(MODELS.values())),
            x=alt.X("conversions:Q", title="Attributed conversions"),
            color=alt.Color(
                "model:N",
                title=None,
                sort=list(MODELS.values()),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                "channel:N",
                "model:N",
                alt.Tooltip("conversions:Q", format=",.2f"),
                alt.Tooltip("attributed_value:Q", format=",.2f"),
            ],
        )
        .properties(height=alt.Step(5))
    )
    table(
        by_model,
        **{
            name: st.column_config.NumberColumn(label.lower(), format="%.2f")
            for name, label in MODELS.items()
        },
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
