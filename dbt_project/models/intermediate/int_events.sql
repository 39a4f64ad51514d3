{#-
    One row per non-bot event with its person and session.

    Person: the latest user id ever linked to the event's anonymous id, else the anonymous id.
    Session, per tenant/project/anonymous_id: the client session_id when present; otherwise a new
    session starts when the gap to the previous event exceeds session_timeout_minutes (exactly
    the timeout continues). Either kind is split every session_max_hours from its start. Events
    are ordered by event time, then received_at, then message_id.

    Incremental: rebuilds every event of each anonymous id that has an event in the window, so
    late events and new logins re-sessionize and re-stitch that id's whole history.

    Large tables are built in buckets of anonymous ids, one select each (macros/buckets.sql),
    so that every sort fits in memory.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_affected_rows('anonymous_id') }}",
        on_schema_change='fail',
    )
}}

{%- set buckets = anonymous_id_buckets() -%}

{% for bucket in range(buckets) %}
{{ bucket_open(loop.first, buckets) }}

with

events as (

    select * from {{ ref('stg_events') }}
    where not is_bot
        and {{ affected_in_bucket('anonymous_id', bucket, buckets) }}

),

{#-
    The same events, read a second time with the ordering columns only: a CTE referenced twice
    would be held in memory with every column.
-#}
event_order as (

    select
        tenant_id,
        project_id,
        anonymous_id,
        session_id,
        message_id,
        event_time,
        received_at,
    from {{ ref('stg_events') }}
    where not is_bot
        and {{ affected_in_bucket('anonymous_id', bucket, buckets) }}

),

persons as (

    select * from {{ ref('int_anonymous_id_persons') }}

),

{#-
    Sessions are numbered on the ordering columns alone and joined back to the events by their
    key: sorting narrow rows is far cheaper than sorting every column of every event.
-#}
with_previous as (

    select
        *,
        lag(event_time) over (
            partition by tenant_id, project_id, anonymous_id, session_id
            order by event_time, received_at, message_id
        ) as previous_event_time,
    from event_order

),

with_session_start_flag as (

    select
        *,
        previous_event_time is null
            or (
                session_id is null
                and event_time > {{ add_minutes('previous_event_time', var('session_timeout_minutes')) }}
            ) as starts_gap_session,
    from with_previous

),

{#-
    In event order, a gap session's number counts the session starts so far, and its start is
    the event time of the latest of them (the smallest of the session, being first in order).
-#}
with_gap_session_start as (

    select
        *,
        count(*) filter (where starts_gap_session) over session_order as gap_session_number,
        max(case when starts_gap_session then event_time end) over session_order
            as gap_session_start,
    from with_session_start_flag
    window session_order as (
        partition by tenant_id, project_id, anonymous_id, session_id
        order by event_time, received_at, message_id
        rows between unbounded preceding and current row
    )

),

with_split as (

    select
        *,
        floor(
            {{ seconds_between('gap_session_start', 'event_time') }}
            / ({{ var('session_max_hours') }} * 3600)
        ) as split_number,
    from with_gap_session_start

),

session_keys as (

    select
        tenant_id,
        message_id,
        {{ hash_key(['tenant_id', 'project_id', 'anonymous_id', 'session_first_message_id']) }}
            as session_key,
    from (
        select
            tenant_id,
            project_id,
            anonymous_id,
            message_id,
            first_value(message_id) over (
                partition by tenant_id, project_id, anonymous_id, session_id, gap_session_number, split_number
                order by event_time, received_at, message_id
            ) as session_first_message_id,
        from with_split
    )

),

final as (

    select
        events.tenant_id,
        events.project_id,
        events.message_id,
        events.event_type,
        events.event_name,
        events.event_time,
        events.device_timestamp,
        events.sent_at,
        events.received_at,
        events.anonymous_id,
        events.user_id,
        coalesce(persons.person_id, events.anonymous_id) as person_id,
        events.session_id,
        session_keys.session_key,
        events.channel_type,
        events.page_url,
        events.page_path,
        events.page_title,
        events.page_referrer,
        events.referrer_host,
        events.utm_source,
        events.utm_medium,
        events.utm_campaign,
        events.utm_term,
        events.utm_content,
        events.user_agent,
        events.device_type,
        events.os_name,
        events.browser_name,
        events.is_bot,
        events.screen_width,
        events.screen_height,
        events.ip_address,
        events.country_code,
        events.city,
        events.properties,
        events.sdk_version,
        events._landing_date,
    from events
    inner join session_keys
        on events.tenant_id = session_keys.tenant_id
        and events.message_id = session_keys.message_id
    left join persons
        on events.tenant_id = persons.tenant_id
        and events.project_id = persons.project_id
        and events.anonymous_id = persons.anonymous_id

)

select * from final

{{ bucket_close(buckets) }}
{%- endfor %}
