{#-
    One row per non-bot event with its person and session.

    Person: the latest user id ever linked to the event's anonymous id, else the anonymous id.
    Session, per tenant/project/anonymous_id: the client session_id when present; otherwise a new
    session starts when the gap to the previous event exceeds session_timeout_minutes (exactly
    the timeout continues). Either kind is split every session_max_hours from its start. Events
    are ordered by event time, then received_at, then message_id.

    Incremental: rebuilds every event of each anonymous id that has an event in the window, so
    late events and new logins re-sessionize and re-stitch that id's whole history.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_affected_rows('anonymous_id') }}",
        on_schema_change='fail',
    )
}}

with

events as (

    select * from {{ ref('stg_events') }}
    where not is_bot and {{ is_affected('anonymous_id') }}

),

persons as (

    select * from {{ ref('int_anonymous_id_persons') }}

),

with_previous as (

    select
        *,
        lag(event_time) over (
            partition by tenant_id, project_id, anonymous_id, session_id
            order by event_time, received_at, message_id
        ) as previous_event_time,
    from events

),

with_gap_session as (

    select
        *,
        sum(
            case
                when previous_event_time is null then 1
                when session_id is null
                    and event_time > {{ add_minutes('previous_event_time', var('session_timeout_minutes')) }}
                    then 1
                else 0
            end
        ) over (
            partition by tenant_id, project_id, anonymous_id, session_id
            order by event_time, received_at, message_id
            rows between unbounded preceding and current row
        ) as gap_session_number,
    from with_previous

),

with_gap_session_start as (

    select
        *,
        min(event_time) over (
            partition by tenant_id, project_id, anonymous_id, session_id, gap_session_number
        ) as gap_session_start,
    from with_gap_session

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

with_session_first_event as (

    select
        *,
        first_value(message_id) over (
            partition by tenant_id, project_id, anonymous_id, session_id, gap_session_number, split_number
            order by event_time, received_at, message_id
        ) as session_first_message_id,
    from with_split

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
        {{ hash_key(['events.tenant_id', 'events.project_id', 'events.anonymous_id', 'events.session_first_message_id']) }}
            as session_key,
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
    from with_session_first_event as events
    left join persons
        on events.tenant_id = persons.tenant_id
        and events.project_id = persons.project_id
        and events.anonymous_id = persons.anonymous_id

)

select * from final
