{#- SQL list of the names in a list var, e.g. `in {{ names_list('conversion_events') }}`. -#}
{% macro names_list(var_name) -%}
    ({% for name in var(var_name) %}'{{ name }}'{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}
