{#-
    Per person and day (of event time; bots excluded): sessions started that day, events, total
    duration of those sessions, first and last event time, events by name, and whether it is
    the person's first day.

    Incremental (strategy replace_scope, scope changed_persons): a run recomputes the days of
    each person that the window changed (`changed_person_days`) and keeps that person's other
    days as they were; is_new_user is then taken again over all of the person's days.
-#}

{{
    config(
        materialized='incremental',
        partition_by=spark_partition('activity_date'),
        incremental_strategy='replace_scope',
        scope='changed_persons',
        change_keys=['tenant_id', 'project_id', 'person_id', 'activity_date'],
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('int_event_sessions') }}
-- depends_on: {{ ref('int_anonymous_id_persons') }}

{%- set day_columns = [
    'tenant_id', 'project_id', 'person_id', 'activity_date', 'session_count', 'event_count',
    'total_session_duration_seconds', 'first_seen_at', 'last_seen_at', 'events_by_name',
] %}

with

{% if is_windowed_run() %}

changed_days as (

    select distinct
        tenant_id,
        project_id,
        person_id,
        activity_date
    from ({{ scope_keys('changed_persons') }})

),

events as (

    select * from ({{ event_persons() }}) as events
    where (tenant_id, project_id, person_id, cast(event_time as date)) in (
        select tenant_id, project_id, person_id, activity_date from changed_days
    )

),

sessions as (

    select * from {{ ref('sessions') }}
    where (tenant_id, project_id, person_id, session_date) in (
        select tenant_id, project_id, person_id, activity_date from changed_days
    )

),

{% else %}

events as (

    {{ event_persons() }}

),

sessions as (

    select * from {{ ref('sessions') }}

),

{% endif %}

daily_events as (

    select
        tenant_id,
        project_id,
        person_id,
        cast(event_time as date) as activity_date,
        count(*) as event_count,
        min(event_time) as first_seen_at,
        max(event_time) as last_seen_at,
        {{ count_by_key('event_name') }} as events_by_name
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
        {{ fixed_point_sum('duration_seconds') }} as total_session_duration_seconds
    from sessions
    group by tenant_id, project_id, person_id, session_date

),

recomputed_days as (

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
        daily_events.events_by_name
    from daily_events
    left join daily_sessions
        on daily_events.tenant_id = daily_sessions.tenant_id
        and daily_events.project_id = daily_sessions.project_id
        and daily_events.person_id = daily_sessions.person_id
        and daily_events.activity_date = daily_sessions.activity_date

),

{% if is_windowed_run() %}

{#- The other days of the persons whose rows this run replaces, as they were. -#}
kept_days as (

    select {{ day_columns | join(', ') }}
    from {{ this }} as previous
    where (tenant_id, project_id, person_id) in (
            select tenant_id, project_id, person_id from changed_days
        )
        and not exists (
            select 1 from changed_days
            where changed_days.tenant_id = previous.tenant_id
                and changed_days.project_id = previous.project_id
                and changed_days.person_id = previous.person_id
                and changed_days.activity_date = previous.activity_date
        )

),

days as (

    select {{ day_columns | join(', ') }} from recomputed_days
    union all
    select {{ day_columns | join(', ') }} from kept_days

),

{% else %}

days as (

    select * from recomputed_days

),

{% endif %}

final as (

    select
        {{ day_columns | join(',\n        ') }},
        activity_date = min(activity_date) over (
            partition by tenant_id, project_id, person_id
        ) as is_new_user
    from days

)

select * from final
