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

{#
    Every event of the hour: the sessionized (non-bot) events from int_events, which carry their
    session and person, and the bot events from staging, which have neither.
#}
with

sessionized_events as (

    select
        tenant_id,
        project_id,
        {{ hour_start('event_time') }} as hour_start,
        event_name,
        false as is_bot,
        properties,
        session_key,
        person_id,
    from {{ ref('int_events') }}
    where {{ is_affected('hour_start', ['tenant_id', 'project_id', hour_start('event_time')]) }}

),

bot_events as (

    select
        tenant_id,
        project_id,
        {{ hour_start('event_time') }} as hour_start,
        event_name,
        true as is_bot,
        properties,
        cast(null as varchar) as session_key,
        cast(null as varchar) as person_id,
    from {{ ref('stg_events') }}
    where is_bot
        and {{ is_affected('hour_start', ['tenant_id', 'project_id', hour_start('event_time')]) }}

),

events_with_session as (

    select
        tenant_id,
        project_id,
        hour_start,
        event_name,
        is_bot,
        case
            when event_name = 'feature_used'
                then {{ json_get_string('properties', '$.feature') }}
        end as feature,
        session_key,
        person_id,
    from (
        select * from sessionized_events
        union all
        select * from bot_events
    )

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
