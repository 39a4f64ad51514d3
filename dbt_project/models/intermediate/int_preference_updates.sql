{#-
    One row per preference set by a `preferences_updated` event (bots excluded), with the
    event's person, session and ordering columns: what every preference mart is built from.
    Lists (favorite_components) keep their JSON text.

    A view: each preference mart reads the few preference events once, as it did when each
    held this select itself, and no copy of them is stored.
-#}

{{ config(materialized='view') }}

with

preference_events as (

    select
        tenant_id,
        project_id,
        person_id,
        session_key,
        message_id,
        event_time,
        received_at,
        properties
    from {{ ref('int_events') }}
    where event_name = 'preferences_updated'

),

preference_updates as (

    {%- for preference in preference_names() %}
    select
        tenant_id,
        project_id,
        person_id,
        session_key,
        message_id,
        event_time,
        received_at,
        '{{ preference }}' as preference_name,
        {{ json_get_string('properties', '$.' ~ preference) }} as preference_value
    from preference_events
    where {{ json_get_string('properties', '$.' ~ preference) }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

)

select
    tenant_id,
    project_id,
    person_id,
    session_key,
    message_id,
    event_time,
    received_at,
    preference_name,
    preference_value
from preference_updates
