{#-
    One row per person (bots excluded): first and last seen, sessions, events, first-touch
    referrer and UTM (of the first session), the latest identify traits, and the country and
    device of the latest session.

    Incremental: rebuilds every person an event in the window may have changed (the affected
    anonymous ids and every user ever linked to them).
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_affected_rows('person_id') }}",
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('int_identity_links') }}

with

events as (

    select * from {{ ref('int_events') }}
    where {{ is_affected('person_id') }}

),

sessions as (

    select * from {{ ref('sessions') }}
    where {{ is_affected('person_id') }}

),

event_totals as (

    select
        tenant_id,
        project_id,
        person_id,
        bool_or(user_id is not null) as is_identified,
        count(distinct anonymous_id) as anonymous_id_count,
        min(event_time) as first_seen_at,
        max(event_time) as last_seen_at,
        count(*) as event_count,
    from events
    group by tenant_id, project_id, person_id

),

session_totals as (

    select
        tenant_id,
        project_id,
        person_id,
        count(*) as session_count,
    from sessions
    group by tenant_id, project_id, person_id

),

ranked_sessions as (

    select
        *,
        row_number() over (
            partition by tenant_id, project_id, person_id
            order by session_start, session_key
        ) as session_number,
        row_number() over (
            partition by tenant_id, project_id, person_id
            order by session_start desc, session_key desc
        ) as session_number_from_end,
    from sessions

),

first_sessions as (

    select * from ranked_sessions
    where session_number = 1

),

latest_sessions as (

    select * from ranked_sessions
    where session_number_from_end = 1

),

ranked_identifies as (

    select
        tenant_id,
        project_id,
        person_id,
        {{ json_get_json('properties', '$.traits') }} as traits,
        row_number() over (
            partition by tenant_id, project_id, person_id
            order by event_time desc, received_at desc, message_id desc
        ) as recency_rank,
    from events
    where event_type = 'identify'
        and {{ json_get_json('properties', '$.traits') }} is not null

),

latest_identifies as (

    select * from ranked_identifies
    where recency_rank = 1

),

final as (

    select
        event_totals.tenant_id,
        event_totals.project_id,
        event_totals.person_id,
        case when event_totals.is_identified then event_totals.person_id end as user_id,
        event_totals.is_identified,
        event_totals.anonymous_id_count,
        event_totals.first_seen_at,
        event_totals.last_seen_at,
        coalesce(session_totals.session_count, 0) as session_count,
        event_totals.event_count,
        first_sessions.referrer as first_referrer,
        first_sessions.referrer_host as first_referrer_host,
        first_sessions.utm_source as first_utm_source,
        first_sessions.utm_medium as first_utm_medium,
        first_sessions.utm_campaign as first_utm_campaign,
        first_sessions.utm_term as first_utm_term,
        first_sessions.utm_content as first_utm_content,
        latest_identifies.traits as latest_traits,
        latest_sessions.country_code,
        latest_sessions.device_type,
        latest_sessions.os_name,
        latest_sessions.browser_name,
    from event_totals
    left join session_totals
        on event_totals.tenant_id = session_totals.tenant_id
        and event_totals.project_id = session_totals.project_id
        and event_totals.person_id = session_totals.person_id
    left join first_sessions
        on event_totals.tenant_id = first_sessions.tenant_id
        and event_totals.project_id = first_sessions.project_id
        and event_totals.person_id = first_sessions.person_id
    left join latest_sessions
        on event_totals.tenant_id = latest_sessions.tenant_id
        and event_totals.project_id = latest_sessions.project_id
        and event_totals.person_id = latest_sessions.person_id
    left join latest_identifies
        on event_totals.tenant_id = latest_identifies.tenant_id
        and event_totals.project_id = latest_identifies.project_id
        and event_totals.person_id = latest_identifies.person_id

)

select * from final
