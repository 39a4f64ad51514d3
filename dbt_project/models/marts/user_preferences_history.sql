{#-
    Each preference of a person is a slowly changing value: a row per value it took, valid from
    the update that set it until the next update that changed it. An update superseded by another
    one at the same event time was never in effect and is skipped; an update that repeats the
    current value extends it.
-#}

with

preference_updates as (

    select * from {{ ref('int_preference_updates') }}

),

with_next_update as (

    select
        tenant_id,
        project_id,
        person_id,
        session_key,
        message_id,
        event_time,
        received_at,
        preference_name,
        preference_value,
        lead(event_time) over (
            partition by tenant_id, project_id, person_id, preference_name
            order by event_time, received_at, message_id
        ) as next_update_time
    from preference_updates

),

effective_updates as (

    select
        tenant_id,
        project_id,
        person_id,
        session_key,
        message_id,
        event_time,
        received_at,
        preference_name,
        preference_value,
        lag(preference_value) over (
            partition by tenant_id, project_id, person_id, preference_name
            order by event_time, received_at, message_id
        ) as previous_value
    from with_next_update
    where next_update_time is null or next_update_time > event_time

),

changes as (

    select
        tenant_id,
        project_id,
        person_id,
        session_key,
        message_id,
        preference_name,
        preference_value,
        event_time as valid_from,
        lead(event_time) over (
            partition by tenant_id, project_id, person_id, preference_name
            order by event_time, received_at, message_id
        ) as valid_to
    from effective_updates
    where previous_value is null or previous_value <> preference_value

)

select
    tenant_id,
    project_id,
    person_id,
    preference_name,
    preference_value,
    valid_from,
    valid_to,
    valid_to is null as is_current,
    session_key,
    message_id
from changes
