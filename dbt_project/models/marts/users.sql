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

{%- set session_order = ['session_start', 'session_key'] %}

session_totals as (

    select
        tenant_id,
        project_id,
        person_id,
        count(*) as session_count,
        {{ first_by(record([
            'referrer', 'referrer_host', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term',
            'utm_content',
        ]), session_order) }} as first_session,
        {{ last_by(record(['country_code', 'device_type', 'os_name', 'browser_name']), session_order) }}
            as latest_session,
    from sessions
    group by tenant_id, project_id, person_id

),

latest_identifies as (

    select
        tenant_id,
        project_id,
        person_id,
        {{ last_by(json_get_json('properties', '$.traits'), ['event_time', 'received_at', 'message_id']) }}
            as traits,
    from events
    where event_type = 'identify'
        and {{ json_get_json('properties', '$.traits') }} is not null
    group by tenant_id, project_id, person_id

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
        session_totals.first_session.referrer as first_referrer,
        session_totals.first_session.referrer_host as first_referrer_host,
        session_totals.first_session.utm_source as first_utm_source,
        session_totals.first_session.utm_medium as first_utm_medium,
        session_totals.first_session.utm_campaign as first_utm_campaign,
        session_totals.first_session.utm_term as first_utm_term,
        session_totals.first_session.utm_content as first_utm_content,
        latest_identifies.traits as latest_traits,
        session_totals.latest_session.country_code,
        session_totals.latest_session.device_type,
        session_totals.latest_session.os_name,
        session_totals.latest_session.browser_name,
    from event_totals
    left join session_totals
        on event_totals.tenant_id = session_totals.tenant_id
        and event_totals.project_id = session_totals.project_id
        and event_totals.person_id = session_totals.person_id
    left join latest_identifies
        on event_totals.tenant_id = latest_identifies.tenant_id
        and event_totals.project_id = latest_identifies.project_id
        and event_totals.person_id = latest_identifies.person_id

)

select * from final
