with

conversion_events as (

    select
        tenant_id,
        project_id,
        message_id,
        event_name,
        event_time,
        received_at,
        person_id,
        anonymous_id,
        user_id,
        session_key,
        properties
    from {{ ref('int_events') }}
    where event_name in {{ names_list('conversion_events') }}

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

),

users as (

    select
        tenant_id,
        project_id,
        person_id,
        first_touch_channel
    from {{ ref('users') }}

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
