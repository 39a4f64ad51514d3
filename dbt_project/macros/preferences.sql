{#- The preferences a `preferences_updated` event can carry (see the landing contract). -#}
{% macro preference_names() -%}
    {{ return(['color_scheme', 'font_family', 'layout_mode', 'favorite_components']) }}
{%- endmacro %}
