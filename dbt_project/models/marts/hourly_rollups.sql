{#-
    Per tenant, project and hour (of event time): every event counted, bots included. Unique
    sessions and visitors (persons) count the non-bot events, which are the ones sessionized.

    Incremental (strategy replace_scope, scope changed_hours): a run recomputes every hour with
    an event whose place or session the window changed, of an anonymous id whose person
    changed, or of a bot event that arrived (`changed_hours`).
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='replace_scope',
        scope='changed_hours',
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('int_event_sessions') }}
-- depends_on: {{ ref('int_anonymous_id_persons') }}

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
        person_id
    from {{ ref('int_events') }}
    {%- if is_windowed_run() %}
    where {{ in_changed_hours() }}
    {%- endif %}

),

bot_events as (

    select
        tenant_id,
        project_id,
        {{ hour_start('event_time') }} as hour_start,
        event_name,
        true as is_bot,
        properties,
        cast(null as string) as session_key,
        cast(null as string) as person_id
    from {{ ref('stg_events') }}
    where is_bot
    {%- if is_windowed_run() %}
        and {{ in_changed_hours() }}
    {%- endif %}

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
        person_id
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
        count(*) filter (where is_bot) as bot_events
    from events_with_session
    group by tenant_id, project_id, hour_start

)

select * from final
