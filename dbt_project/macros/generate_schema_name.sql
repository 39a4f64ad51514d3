{#- Schemas are named for their layer (staging, intermediate, marts), not prefixed with the
    target schema, so analysts query `marts.sessions`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
