{#-
    One row per person (bots excluded): first and last seen, sessions, events, first-touch
    referrer, UTM and channel (of the first session), the latest identify traits, and the country and
    device of the latest session.

    Built from the person's days (user_activity_daily), sessions and identify events, not from
    every event. Incremental (strategy replace_scope, scope changed_persons): a run recomputes
    the persons whose days the window changed.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='replace_scope',
        scope='changed_persons',
        change_keys=['tenant_id', 'project_id', 'person_id'],
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('int_event_sessions') }}

with

{{ changed_persons_cte() }}

days as (

    select * from {{ ref('user_activity_daily') }}
    {{- for_changed_persons() }}

),

sessions as (

    select * from {{ ref('sessions') }}
    {{- for_changed_persons() }}

),

identify_events as (

    select * from ({{ events_with_persons(ref('stg_events')) }}) as events
    {{- for_changed_persons() }}

),

identified_persons as (

    select distinct
        tenant_id,
        project_id,
        person_id
    from {{ ref('int_anonymous_id_persons') }}

),

{#-
    A person is identified when an anonymous id is linked to it: an event carrying a user id
    makes its anonymous id that user's, so only such persons have events with a user id.
-#}
event_totals as (

    select
        days.tenant_id,
        days.project_id,
        days.person_id,
        min(days.first_seen_at) as first_seen_at,
        max(days.last_seen_at) as last_seen_at,
        cast(sum(days.event_count) as bigint) as event_count
    from days
    group by days.tenant_id, days.project_id, days.person_id

),

{%- set session_order = ['session_start', 'session_key'] %}

session_totals as (

    select
        tenant_id,
        project_id,
        person_id,
        count(*) as session_count,
        count(distinct anonymous_id) as anonymous_id_count,
        {{ first_by(record([
            'referrer', 'referrer_host', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term',
            'utm_content', 'channel',
        ]), session_order) }} as first_session,
        {{ last_by(record(['country_code', 'device_type', 'os_name', 'browser_name']), session_order) }}
            as latest_session
    from sessions
    group by tenant_id, project_id, person_id

),

latest_identifies as (

    select
        tenant_id,
        project_id,
        person_id,
        {{ last_by(json_get_json('properties', '$.traits'), ['event_time', 'received_at', 'message_id']) }}
            as traits
    from identify_events
    where event_type = 'identify'
        and {{ json_get_json('properties', '$.traits') }} is not null
    group by tenant_id, project_id, person_id

),

final as (

    select
        event_totals.tenant_id,
        event_totals.project_id,
        event_totals.person_id,
        case when identified_persons.person_id is not null then event_totals.person_id end as user_id,
        identified_persons.person_id is not null as is_identified,
        coalesce(session_totals.anonymous_id_count, 0) as anonymous_id_count,
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
        session_totals.first_session.channel as first_touch_channel,
        latest_identifies.traits as latest_traits,
        session_totals.latest_session.country_code,
        session_totals.latest_session.device_type,
        session_totals.latest_session.os_name,
        session_totals.latest_session.browser_name
    from event_totals
    left join session_totals
        on event_totals.tenant_id = session_totals.tenant_id
        and event_totals.project_id = session_totals.project_id
        and event_totals.person_id = session_totals.person_id
    left join latest_identifies
        on event_totals.tenant_id = latest_identifies.tenant_id
        and event_totals.project_id = latest_identifies.project_id
        and event_totals.person_id = latest_identifies.person_id
    left join identified_persons
        on event_totals.tenant_id = identified_persons.tenant_id
        and event_totals.project_id = identified_persons.project_id
        and event_totals.person_id = identified_persons.person_id

)

select * from final
