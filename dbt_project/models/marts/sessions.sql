{#-
    One row per session (bots excluded). A session belongs to the day it started. Entry page,
    referrer and UTM come from the session's first page view (its first event when it has
    none); device, OS, browser and country from its first event.

    Incremental: rebuilds every session of each anonymous id with an event in the window.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_affected_rows('anonymous_id') }}",
        on_schema_change='fail',
    )
}}

with

events as (

    select * from {{ ref('int_events') }}
    where {{ is_affected('anonymous_id') }}

),

ranked_events as (

    select
        *,
        event_name = 'page_view' as is_page_view,
        row_number() over (
            partition by session_key
            order by event_time, received_at, message_id
        ) as event_number,
        row_number() over (
            partition by session_key, event_name = 'page_view'
            order by event_time, received_at, message_id
        ) as page_view_number,
        row_number() over (
            partition by session_key, event_name = 'page_view'
            order by event_time desc, received_at desc, message_id desc
        ) as page_view_number_from_end,
        row_number() over (
            partition by session_key, event_name in {{ names_list('conversion_events') }}
            order by event_time, received_at, message_id
        ) as conversion_number,
    from events

),

session_totals as (

    select
        session_key,
        min(event_time) as session_start,
        max(event_time) as session_end,
        count(*) as event_count,
        count(*) filter (where is_page_view) as page_view_count,
        count(*) filter (
            where not is_page_view and event_name not in {{ names_list('page_ping_events') }}
        ) as other_event_count,
        count(*) filter (where event_name in {{ names_list('conversion_events') }}) as conversion_count,
        coalesce(
            {{ fixed_point_sum(
                "case when event_name in " ~ names_list('conversion_events')
                ~ " then " ~ json_get_double('properties', '$.value') ~ " end",
                decimals=6,
            ) }},
            0
        ) as conversion_value,
    from ranked_events
    group by session_key

),

first_events as (

    select * from ranked_events
    where event_number = 1

),

entry_page_views as (

    select * from ranked_events
    where is_page_view and page_view_number = 1

),

exit_page_views as (

    select * from ranked_events
    where is_page_view and page_view_number_from_end = 1

),

first_conversions as (

    select * from ranked_events
    where event_name in {{ names_list('conversion_events') }} and conversion_number = 1

),

sessions as (

    select
        first_events.session_key,
        first_events.tenant_id,
        first_events.project_id,
        first_events.person_id,
        first_events.anonymous_id,
        first_events.session_id,
        session_totals.session_start,
        session_totals.session_end,
        cast(session_totals.session_start as date) as session_date,
        {{ seconds_between('session_totals.session_start', 'session_totals.session_end') }}
            as duration_seconds,
        session_totals.event_count,
        session_totals.page_view_count,
        entry_page_views.page_path as entry_page,
        exit_page_views.page_path as exit_page,
        coalesce(entry_page_views.page_referrer, first_events.page_referrer) as referrer,
        coalesce(entry_page_views.referrer_host, first_events.referrer_host) as referrer_host,
        coalesce(entry_page_views.utm_source, first_events.utm_source) as utm_source,
        coalesce(entry_page_views.utm_medium, first_events.utm_medium) as utm_medium,
        coalesce(entry_page_views.utm_campaign, first_events.utm_campaign) as utm_campaign,
        coalesce(entry_page_views.utm_term, first_events.utm_term) as utm_term,
        coalesce(entry_page_views.utm_content, first_events.utm_content) as utm_content,
        first_events.channel_type,
        first_events.device_type,
        first_events.os_name,
        first_events.browser_name,
        first_events.country_code,
        session_totals.other_event_count,
        session_totals.conversion_count,
        session_totals.conversion_value,
        first_conversions.event_name as first_conversion_event,
        first_conversions.event_time as first_conversion_at,
    from first_events
    inner join session_totals
        on first_events.session_key = session_totals.session_key
    left join entry_page_views
        on first_events.session_key = entry_page_views.session_key
    left join exit_page_views
        on first_events.session_key = exit_page_views.session_key
    left join first_conversions
        on first_events.session_key = first_conversions.session_key

),

final as (

    select
        session_key,
        tenant_id,
        project_id,
        person_id,
        anonymous_id,
        session_id,
        session_start,
        session_end,
        session_date,
        duration_seconds,
        event_count,
        page_view_count,
        entry_page,
        exit_page,
        referrer,
        referrer_host,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_term,
        utm_content,
        channel_type,
        device_type,
        os_name,
        browser_name,
        country_code,
        case
            when page_view_count = 0 then null
            else page_view_count = 1
                and other_event_count = 0
                and duration_seconds < {{ var('bounce_threshold_seconds') }}
        end as is_bounce,
        page_view_count >= {{ var('engaged_min_page_views') }}
            or duration_seconds >= {{ var('engaged_min_seconds') }}
            or conversion_count > 0 as is_engaged,
        conversion_count > 0 as converted,
        first_conversion_event,
        first_conversion_at,
        conversion_value,
    from sessions

)

select * from final
