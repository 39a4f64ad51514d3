{#-
    One row per conversion event of a person (bots excluded), with its value, the person's
    conversion number and first-touch channel, and the session it happened in with that
    session's last-touch attribution.

    Incremental (strategy replace_scope, scope changed_persons_since): a run recomputes the
    conversions of each person whose days the window changed, from the first changed day on.
    An earlier conversion depends on nothing the window changed: its session started before
    it (a changed session's start day is among the changed days), its number counts the
    person's conversions before it, and the person's first session, whose channel is the
    first touch, started before it too. The numbers are counted over all of the person's
    conversions, the earlier ones included.
-#}

{{
    config(
        materialized='incremental',
        partition_by=spark_partition('conversion_date'),
        incremental_strategy='replace_scope',
        scope='changed_persons_since',
        since_column='conversion_date',
        change_keys=['tenant_id', 'message_id'],
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('int_event_sessions') }}
-- depends_on: {{ ref('int_anonymous_id_persons') }}

with

{% if is_windowed_run() %}
changed as (

    select tenant_id, project_id, person_id, changed_from
    from ({{ scope_keys('changed_persons_since') }}) as changed_persons

),
{% endif %}

{#-
    The conversion events, from the narrow rows of int_event_sessions (the names filter its
    scan) with their person; their user id and properties are staged from their raw rows
    alone, by key, as stg_events stages them.
-#}
conversion_event_persons as (

    select *
    from (
        {{ event_session_persons(
            condition='event_sessions.event_name in ' ~ names_list('conversion_events')
        ) }}
    ) as events
    {%- if is_windowed_run() %}
    where {{ keys_in('events', ['tenant_id', 'project_id', 'person_id'], 'select tenant_id, project_id, person_id from changed') }}
    {%- endif %}

),

conversion_events as (

    select
        events.tenant_id,
        events.project_id,
        events.message_id,
        events.event_name,
        events.event_time,
        events.received_at,
        events.person_id,
        events.anonymous_id,
        {{ staged_user_id('raw_events.user_id') }} as user_id,
        events.session_key,
        {{ staged_properties('raw_events.properties') }} as properties
    from conversion_event_persons as events
    inner join {{ source('raw', 'events') }} as raw_events
        on events.tenant_id = raw_events.tenant_id
        and events.message_id = raw_events.message_id

),

sessions as (

    select
        session_key,
        session_start,
        entry_page,
        referrer,
        referrer_host,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_term,
        utm_content,
        channel
    from {{ ref('sessions') }}
    {{- for_changed_persons() }}

),

users as (

    select
        tenant_id,
        project_id,
        person_id,
        first_touch_channel
    from {{ ref('users') }}
    {{- for_changed_persons() }}

),

parsed as (

    select
        tenant_id,
        project_id,
        message_id,
        event_name as conversion_event,
        event_time as converted_at,
        cast(event_time as date) as conversion_date,
        person_id,
        anonymous_id,
        user_id,
        session_key,
        {{ json_get_double('properties', '$.value') }} as conversion_value,
        upper({{ json_get_string('properties', '$.currency') }}) as currency,
        cast(row_number() over (
            partition by tenant_id, project_id, person_id
            order by event_time, received_at, message_id
        ) as bigint) as person_conversion_number
    from conversion_events

),

final as (

    select
        parsed.tenant_id,
        parsed.project_id,
        parsed.message_id,
        parsed.conversion_event,
        parsed.converted_at,
        parsed.conversion_date,
        parsed.conversion_value,
        parsed.currency,
        parsed.person_id,
        parsed.anonymous_id,
        parsed.user_id,
        parsed.person_conversion_number,
        parsed.session_key,
        sessions.session_start,
        sessions.entry_page as landing_page,
        sessions.referrer,
        sessions.referrer_host,
        sessions.utm_source,
        sessions.utm_medium,
        sessions.utm_campaign,
        sessions.utm_term,
        sessions.utm_content,
        sessions.channel,
        users.first_touch_channel
    from parsed
    left join sessions
        on parsed.session_key = sessions.session_key
    left join users
        on parsed.tenant_id = users.tenant_id
        and parsed.project_id = users.project_id
        and parsed.person_id = users.person_id
    {%- if is_windowed_run() %}
    inner join changed
        on parsed.tenant_id = changed.tenant_id
        and parsed.project_id = changed.project_id
        and parsed.person_id = changed.person_id
        and parsed.conversion_date >= changed.changed_from
    {%- endif %}

)

select
    tenant_id,
    project_id,
    message_id,
    conversion_event,
    converted_at,
    conversion_date,
    conversion_value,
    currency,
    person_id,
    anonymous_id,
    user_id,
    person_conversion_number,
    session_key,
    session_start,
    landing_page,
    referrer,
    referrer_host,
    utm_source,
    utm_medium,
    utm_campaign,
    utm_term,
    utm_content,
    channel,
    first_touch_channel
from final
