{#-
    One row per non-bot event: every stg_events column, the stitched person and the session.

    A view: the event's columns come from the raw table through stg_events, its session from
    int_event_sessions and its person from int_anonymous_id_persons, so that a login or a
    late event changes a mapping or a few narrow rows, never a stored copy of the events. A
    query reads only the columns it names.
-#}

{{ config(materialized='view') }}

with

events as (

    {{ sessionized_events(ref('stg_events')) }}

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
        events.person_id,
        events.session_id,
        events.session_key,
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
        events._landing_date
    from events

)

select * from final
