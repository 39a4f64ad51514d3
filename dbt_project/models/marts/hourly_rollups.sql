{#-
    Per tenant, project and hour (of event time): every event counted, bots included. Unique
    sessions and visitors (persons) count the non-bot events, which are the ones sessionized.

    The event counts come from staging, the sessions and visitors from the narrow session and
    person mappings (int_event_sessions, int_anonymous_id_persons): no event is joined to its
    session or person.

    Incremental (strategy replace_scope, scope changed_hours): a run recomputes every hour with
    an event whose place or session the window changed, or with a bot event that arrived; in
    an hour that only holds an event of an anonymous id whose person changed, only the sessions
    and visitors are counted again, the event counts are kept (`changed_hours`).
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='replace_scope',
        scope='changed_hours',
        change_keys=['tenant_id', 'project_id', 'hour_start'],
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('stg_events') }}
-- depends_on: {{ source('raw', 'events') }}
-- depends_on: {{ source('raw', 'user_agents') }}

{%- set changed_raw_events -%}
    (
        select * from {{ source('raw', 'events') }} as rows_of
        where {{ in_changed_hours(
            event_time('rows_of.timestamp', 'rows_of.sent_at', 'rows_of.received_at'),
            events_changed=true,
            alias='rows_of',
        ) }}
    )
{%- endset %}

with

{#- Every event of the hour, bots included: in a windowed run, staged from its raw row. #}
events as (

    select
        tenant_id,
        project_id,
        {{ hour_start('event_time') }} as hour_start,
        event_name,
        is_bot,
        case
            when event_name = 'feature_used'
                then {{ json_get_string('properties', '$.feature') }}
        end as feature
    {%- if is_windowed_run() %}
    from ({{ staged_events(changed_raw_events) }}) as staged
    {%- else %}
    from {{ ref('stg_events') }}
    {%- endif %}

),

event_counts as (

    select
        tenant_id,
        project_id,
        hour_start,
        count(*) as total_events,
        {{ count_by_key('event_name') }} as events_by_name,
        {{ count_by_key('feature') }} as feature_usage,
        count(*) filter (where is_bot) as bot_events
    from events
    group by tenant_id, project_id, hour_start
    {%- if is_windowed_run() %}
    union all
    select
        tenant_id,
        project_id,
        hour_start,
        total_events,
        events_by_name,
        feature_usage,
        bot_events
    from {{ this }} as previous
    where {{ in_changed_hours('hour_start', events_changed=false, alias='previous') }}
    {%- endif %}

),

visitor_counts as (

    select
        event_sessions.tenant_id,
        event_sessions.project_id,
        {{ hour_start('event_sessions.event_time') }} as hour_start,
        count(distinct event_sessions.session_key) as unique_sessions,
        count(distinct coalesce(persons.person_id, event_sessions.anonymous_id)) as unique_visitors
    from {{ ref('int_event_sessions') }} as event_sessions
    left join {{ ref('int_anonymous_id_persons') }} as persons
        on event_sessions.tenant_id = persons.tenant_id
        and event_sessions.project_id = persons.project_id
        and event_sessions.anonymous_id = persons.anonymous_id
    where not event_sessions.is_superseded
    {%- if is_windowed_run() %}
        and {{ in_changed_hours('event_sessions.event_time', alias='event_sessions') }}
    {%- endif %}
    group by
        event_sessions.tenant_id,
        event_sessions.project_id,
        {{ hour_start('event_sessions.event_time') }}

),

final as (

    select
        event_counts.tenant_id,
        event_counts.project_id,
        event_counts.hour_start,
        event_counts.total_events,
        coalesce(visitor_counts.unique_sessions, 0) as unique_sessions,
        coalesce(visitor_counts.unique_visitors, 0) as unique_visitors,
        event_counts.events_by_name,
        event_counts.feature_usage,
        event_counts.bot_events
    from event_counts
    left join visitor_counts
        on event_counts.tenant_id = visitor_counts.tenant_id
        and event_counts.project_id = visitor_counts.project_id
        and event_counts.hour_start = visitor_counts.hour_start

)

select * from final
