{#-
    What each page view's session says about it: one narrow row per page_view event (bots
    excluded): its keys and session, its place in the session, its metrics, and the arrival
    day it ages out with (as the raw rows: README, cleanup). None of the event's other columns:
    page_views joins them, and the person, by key. Every column is carried through a window over
    every event, so each costs memory at scale.

    time_on_page_seconds: time to the next event of the session that is not a page ping/leave;
    for the last page of the session, time to the last ping/leave of that page; NULL when
    nothing follows. scroll_depth: the highest scroll_depth of the pings/leave between the page
    view and the next page view, clamped to 0..100. engaged_time_seconds: the sum of the
    `engaged_ms` those pings/leave carry when any carries it; else heartbeat counting, the
    number of distinct `engaged_heartbeat_seconds` intervals after the view holding at least
    one `heartbeat_events` event, times the interval; never more than time_on_page_seconds.

    The windows run on the narrow rows of int_event_sessions (keys, order, event name), and only
    the pings' properties are staged and joined to them, before the window. Kept apart from
    page_views so that no statement holds both a window over every event and a join of every
    page view's columns.

    Incremental (strategy replace_scope, scope rederived_page_view_metrics): a run re-derives
    the page views of the sessions int_event_sessions re-sessionized (those of each re-derived
    partition from its rederived_from on), and replaces the rows of every event the window
    re-derived there: a page view again, one that no longer is, or one that is gone. A person
    changes nothing here.
-#}

{{
    config(
        materialized='incremental',
        partition_by=spark_partition('view_date'),
        incremental_strategy='replace_scope',
        scope='rederived_page_view_metrics',
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('int_event_sessions') }}
-- depends_on: {{ ref('stg_events') }}
-- depends_on: {{ source('raw', 'events') }}
-- depends_on: {{ source('raw', 'user_agents') }}

with

ping_properties as (

    select
        events.tenant_id,
        events.message_id,
        {{ json_get_double('events.properties', '$.scroll_depth') }} as scroll_depth,
        {{ json_get_double('events.properties', '$.engaged_ms') }} as engaged_ms
    from {{ events_to_rederive(staged=true) }} as events
    where not events.is_bot
        and events.event_name in {{ names_list('page_ping_events') }}

),

{#-
    Each event with the properties of the pings (ping_properties holds no other event), joined
    before the window: the join's table of pings is freed before the windowed rows are
    aggregated, rather than held beside them.
-#}
classified_events as (

    select
        events.tenant_id,
        events.message_id,
        events.session_key,
        events.event_time,
        events.received_at,
        events._landing_date,
        events.event_name = 'page_view' as is_page_view,
        events.event_name in {{ names_list('page_ping_events') }} as is_ping,
        events.event_name in {{ names_list('heartbeat_events') }} as is_heartbeat,
        properties.scroll_depth,
        properties.engaged_ms
    from {{ event_sessions_to_rederive() }} as events
    left join ping_properties as properties
        on events.tenant_id = properties.tenant_id
        and events.message_id = properties.message_id

),

{#-
    In one pass over each session's events in order: the page view an event follows (the number
    of page views up to it, and the latest one's time), what comes after it (the next non-ping
    event's time, the number of page views still to come) and the time of the session's
    heartbeat before it.
-#}
with_page_view_group as (

    select
        *,
        sum(case when is_page_view then 1 else 0 end) over (
            partition by session_key
            order by event_time, received_at, message_id
            rows between unbounded preceding and current row
        ) as page_view_group,
        max(case when is_page_view then event_time end) over (
            partition by session_key
            order by event_time, received_at, message_id
            rows between unbounded preceding and current row
        ) as page_view_time,
        min(case when not is_ping then event_time end) over (
            partition by session_key
            order by event_time, received_at, message_id
            rows between 1 following and unbounded following
        ) as next_non_ping_event_time,
        count(case when is_page_view then 1 end) over (
            partition by session_key
            order by event_time, received_at, message_id
            rows between 1 following and unbounded following
        ) as later_page_views,
        max(case when is_ping and is_heartbeat then event_time end) over (
            partition by session_key
            order by event_time, received_at, message_id
            rows between unbounded preceding and 1 preceding
        ) as previous_heartbeat_time
    from classified_events

),

{%- set heartbeat = var('engaged_heartbeat_seconds') %}
{#- The heartbeat interval after the page view that a time falls in, from 0. #}
{%- set event_interval =
    'floor(' ~ seconds_between('events.page_view_time', 'events.event_time')
    ~ ' / ' ~ heartbeat ~ ')' %}
{%- set previous_heartbeat_interval =
    'floor(' ~ seconds_between('events.page_view_time', 'events.previous_heartbeat_time')
    ~ ' / ' ~ heartbeat ~ ')' %}

{#-
    Each page view (a group > 0: the pings before a session's first page view belong to no
    page) with the events that follow it up to the next page view, in one aggregation over the
    windowed rows: read twice, as page views and as pings, the windowed rows would be held in
    memory whole.

    Its heartbeat intervals (numbered from 0 at the view) are counted without a distinct count,
    which DuckDB runs as a second aggregation joined back: interval 0 when a heartbeat falls in
    it, and each heartbeat in a later interval than the session's heartbeat before it. That
    heartbeat is in an earlier interval of the page, or before the page (its interval is then
    at most 0, whatever its place among the events at the view's time), so each later interval
    is counted once, by its first heartbeat.
-#}
page_view_groups as (

    select
        events.tenant_id,
        events.session_key,
        events.page_view_group,
        max(case when events.is_page_view then events.message_id end) as message_id,
        max(case when events.is_page_view then events.event_time end) as viewed_at,
        max(case when events.is_page_view then events._landing_date end) as _landing_date,
        max(case when events.is_page_view then events.next_non_ping_event_time end)
            as next_non_ping_event_time,
        max(case when events.is_page_view then events.later_page_views end) as later_page_views,
        max(case when events.is_ping then events.event_time end) as last_ping_time,
        max(events.scroll_depth) as max_scroll_depth,
        count(events.engaged_ms) as engaged_ms_count,
        {#- Negative values count as 0, and none as more than a day (a session's limit). #}
        {{ fixed_point_sum(
            'case when events.engaged_ms < 0 then 0 when events.engaged_ms > 86400000 then 86400000 else events.engaged_ms end'
        ) }} as engaged_ms,
        max(case
            when events.is_ping and events.is_heartbeat and {{ event_interval }} = 0
                then 1
            else 0
        end)
        + count(case
            when events.is_ping and events.is_heartbeat and {{ event_interval }} > 0
                and (
                    events.previous_heartbeat_time is null
                    or {{ previous_heartbeat_interval }} < {{ event_interval }}
                )
                then 1
        end) as heartbeat_intervals
    from with_page_view_group as events
    where events.page_view_group > 0
    group by events.tenant_id, events.session_key, events.page_view_group

),

with_time_on_page as (

    select
        tenant_id,
        message_id,
        session_key,
        viewed_at,
        cast(viewed_at as date) as view_date,
        _landing_date,
        cast(page_view_group as bigint) as page_view_number,
        page_view_group = 1 as is_entrance,
        later_page_views = 0 as is_exit,
        case
            when next_non_ping_event_time is not null
                then {{ seconds_between('viewed_at', 'next_non_ping_event_time') }}
            when last_ping_time is not null
                then {{ seconds_between('viewed_at', 'last_ping_time') }}
        end as time_on_page_seconds,
        case
            when max_scroll_depth > 100 then 100.0
            when max_scroll_depth < 0 then 0.0
            else max_scroll_depth
        end as scroll_depth,
        case
            when engaged_ms_count > 0 then engaged_ms / 1000.0
            else heartbeat_intervals * cast({{ heartbeat }} as double)
        end as counted_engaged_seconds
    from page_view_groups

)

select
    tenant_id,
    message_id,
    session_key,
    viewed_at,
    page_view_number,
    is_entrance,
    is_exit,
    time_on_page_seconds,
    scroll_depth,
    case
        when time_on_page_seconds < counted_engaged_seconds then time_on_page_seconds
        else counted_engaged_seconds
    end as engaged_time_seconds,
    _landing_date,
    view_date
from with_time_on_page
