{#-
    Per person and day (of event time; bots excluded): sessions started that day, events, total
    duration of those sessions, first and last event time, events by name, and whether it is
    the person's first day.

    Incremental: rebuilds every day of each person an event in the window may have changed.
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

daily_events as (

    select
        tenant_id,
        project_id,
        person_id,
        cast(event_time as date) as activity_date,
        count(*) as event_count,
        min(event_time) as first_seen_at,
        max(event_time) as last_seen_at,
        {{ count_by_key('event_name') }} as events_by_name,
    from events
    group by tenant_id, project_id, person_id, cast(event_time as date)

),

daily_sessions as (

    select
        tenant_id,
        project_id,
        person_id,
        session_date as activity_date,
        count(*) as session_count,
        {{ fixed_point_sum('duration_seconds') }} as total_session_duration_seconds,
    from sessions
    group by tenant_id, project_id, person_id, session_date

),

final as (

    select
        daily_events.tenant_id,
        daily_events.project_id,
        daily_events.person_id,
        daily_events.activity_date,
        coalesce(daily_sessions.session_count, 0) as session_count,
        daily_events.event_count,
        coalesce(daily_sessions.total_session_duration_seconds, 0) as total_session_duration_seconds,
        daily_events.first_seen_at,
        daily_events.last_seen_at,
        daily_events.events_by_name,
        daily_events.activity_date = min(daily_events.activity_date) over (
            partition by daily_events.tenant_id, daily_events.project_id, daily_events.person_id
        ) as is_new_user,
    from daily_events
    left join daily_sessions
        on daily_events.tenant_id = daily_sessions.tenant_id
        and daily_events.project_id = daily_sessions.project_id
        and daily_events.person_id = daily_sessions.person_id
        and daily_events.activity_date = daily_sessions.activity_date

)

select * from final
