{#-
    Each preference of a person is a slowly changing value: a row per value it took, valid from
    the update that set it until the next update that changed it. An update superseded by another
    one at the same event time was never in effect and is skipped; an update that repeats the
    current value extends it.

    Incremental (strategy replace_scope, scope changed_persons): a person's history depends on
    their updates only, so a run rebuilds the history of the persons whose days the window
    changed.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='replace_scope',
        scope='changed_persons',
        change_keys=['tenant_id', 'project_id', 'person_id'],
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('int_event_sessions') }}
-- depends_on: {{ ref('int_anonymous_id_persons') }}

with

{{ changed_persons_cte() }}

preference_updates as (

    select * from {{ ref('int_preference_updates') }}
    {{- for_changed_persons() }}

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
