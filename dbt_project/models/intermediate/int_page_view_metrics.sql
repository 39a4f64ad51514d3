{#-
    What each page view's session says about it: one narrow row per page_view event (bots
    excluded), its keys and sessionization partition, its place in the session and its
    metrics; none of the page's columns (page_views joins them, and the person, by key).

    time_on_page_seconds: time to the next event of the session that is not a page ping/leave;
    for the last page of the session, time to the last ping/leave of that page; NULL when
    nothing follows. scroll_depth: the highest scroll_depth of the pings/leave between the page
    view and the next page view, clamped to 0..100. engaged_time_seconds: the sum of the
    `engaged_ms` those pings/leave carry when any carries it; else heartbeat counting, the
    number of distinct `engaged_heartbeat_seconds` intervals after the view holding at least
    one `heartbeat_events` event, times the interval; never more than time_on_page_seconds.

    The windows run on the narrow rows of int_event_sessions (keys, order, event name), and the
    pings' properties are joined to the pings alone. Kept apart from page_views so that no
    statement holds both a window over every event and a join of every page view's columns.

    Incremental (strategy replace_scope, scope rederived_page_view_metrics): a run re-derives
    the page views of the sessions int_event_sessions re-sessionized (those of each re-derived
    partition from its rederived_from on). A person changes nothing here.
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

classified_events as (

    select
        tenant_id,
        project_id,
        anonymous_id,
        session_id,
        message_id,
        session_key,
        event_time,
        received_at,
        event_name = 'page_view' as is_page_view,
        event_name in {{ names_list('page_ping_events') }} as is_ping,
        event_name in {{ names_list('heartbeat_events') }} as is_heartbeat
    from {{ event_sessions_to_rederive() }} as events

),

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
    In one pass over each session's events in order: the page view an event follows (the number
    of page views up to it, and the latest one's time) and what comes after it (the next
    non-ping event's time, the number of page views still to come).
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
        ) as later_page_views
    from classified_events

),

page_view_events as (

    select
        *,
        cast(page_view_group as bigint) as page_view_number
    from with_page_view_group
    where is_page_view

),

{%- set heartbeat = var('engaged_heartbeat_seconds') %}

page_pings as (

    select
        pings.session_key,
        pings.page_view_group,
        max(pings.event_time) as last_ping_time,
        max(properties.scroll_depth) as max_scroll_depth,
        count(properties.engaged_ms) as engaged_ms_count,
        {#- Negative values count as 0, and none as more than a day (a session's limit). #}
        {{ fixed_point_sum(
            'case when properties.engaged_ms < 0 then 0 when properties.engaged_ms > 86400000 then 86400000 else properties.engaged_ms end'
        ) }} as engaged_ms,
        count(distinct case
            when pings.is_heartbeat
                then floor({{ seconds_between('pings.page_view_time', 'pings.event_time') }} / {{ heartbeat }})
        end) as heartbeat_intervals
    from with_page_view_group as pings
    left join ping_properties as properties
        on pings.tenant_id = properties.tenant_id
        and pings.message_id = properties.message_id
    {#- Pings before the session's first page view belong to no page. #}
    where pings.is_ping
        and pings.page_view_group > 0
    group by pings.session_key, pings.page_view_group

),

with_time_on_page as (

    select
        page_view_events.tenant_id,
        page_view_events.project_id,
        page_view_events.anonymous_id,
        page_view_events.session_id,
        page_view_events.message_id,
        page_view_events.session_key,
        page_view_events.event_time as viewed_at,
        cast(page_view_events.event_time as date) as view_date,
        page_view_events.page_view_number,
        page_view_events.page_view_number = 1 as is_entrance,
        page_view_events.later_page_views = 0 as is_exit,
        case
            when page_view_events.next_non_ping_event_time is not null
                then {{ seconds_between('page_view_events.event_time', 'page_view_events.next_non_ping_event_time') }}
            when page_pings.last_ping_time is not null
                then {{ seconds_between('page_view_events.event_time', 'page_pings.last_ping_time') }}
        end as time_on_page_seconds,
        case
            when page_pings.max_scroll_depth > 100 then 100.0
            when page_pings.max_scroll_depth < 0 then 0.0
            else page_pings.max_scroll_depth
        end as scroll_depth,
        case
            when page_pings.engaged_ms_count > 0 then page_pings.engaged_ms / 1000.0
            else coalesce(page_pings.heartbeat_intervals, 0) * cast({{ heartbeat }} as double)
        end as counted_engaged_seconds
    from page_view_events
    left join page_pings
        on page_view_events.session_key = page_pings.session_key
        and page_view_events.page_view_group = page_pings.page_view_group

)

select
    tenant_id,
    project_id,
    anonymous_id,
    session_id,
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
    view_date
from with_time_on_page
