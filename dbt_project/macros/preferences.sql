{#- The preferences a `preferences_updated` event can carry (see the landing contract). -#}
{% macro preference_names() -%}
    {{ return(['color_scheme', 'font_family', 'layout_mode', 'favorite_components']) }}
{%- endmacro %}

{#-
    One row per preference set by a `preferences_updated` event, from a relation or CTE with
    the int_events columns listed below. Lists (favorite_components) keep their JSON text.
-#}
{% macro preference_updates(events_relation) -%}
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
    from {{ events_relation }}
    where {{ json_get_string('properties', '$.' ~ preference) }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
