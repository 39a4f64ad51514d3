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

preference_names as (

    {%- for preference in preference_names() %}
    select '{{ preference }}' as preference_name
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

{#- Each event once with each preference name (one read of the events, also where an engine inlines a CTE at every reference), then its value of it. #}
preference_updates as (

    select
        preference_events.tenant_id,
        preference_events.project_id,
        preference_events.person_id,
        preference_events.session_key,
        preference_events.message_id,
        preference_events.event_time,
        preference_events.received_at,
        preference_names.preference_name,
        case preference_names.preference_name
            {%- for preference in preference_names() %}
            when '{{ preference }}'
                then {{ json_get_string('preference_events.properties', '$.' ~ preference) }}
            {%- endfor %}
        end as preference_value
    from preference_events
    cross join preference_names

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
where preference_value is not null
