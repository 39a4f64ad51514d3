{#-
    Per tenant, project and hour (of event time): every event counted, bots included. Unique
    sessions and visitors (persons) count the non-bot events, which are the ones sessionized.

    Incremental: rebuilds every hour with an event of an anonymous id that has an event in the
    window (its sessions and person may have changed).
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_affected_rows('hour_start') }}",
        on_schema_change='fail',
    )
}}

with

events as (

    select * from {{ ref('stg_events') }}
    where {{ is_affected('hour_start', ['tenant_id', 'project_id', hour_start('event_time')]) }}

),

sessionized_events as (

    select * from {{ ref('int_events') }}
    where {{ is_affected('hour_start', ['tenant_id', 'project_id', hour_start('event_time')]) }}

),

events_with_session as (

    select
        events.tenant_id,
        events.project_id,
        {{ hour_start('events.event_time') }} as hour_start,
        events.event_name,
        events.is_bot,
        case
            when events.event_name = 'feature_used'
                then {{ json_get_string('events.properties', '$.feature') }}
        end as feature,
        sessionized_events.session_key,
        sessionized_events.person_id,
    from events
    left join sessionized_events
        on events.tenant_id = sessionized_events.tenant_id
        and events.message_id = sessionized_events.message_id

),

final as (

    select
        tenant_id,
        project_id,
        hour_start,
        count(*) as total_events,
        count(distinct session_key) as unique_sessions,
        count(distinct person_id) as unique_visitors,
        {{ count_by_key('event_name') }} as events_by_name,
        {{ count_by_key('feature') }} as feature_usage,
        count(*) filter (where is_bot) as bot_events,
    from events_with_session
    group by tenant_id, project_id, hour_start

)

select * from final
