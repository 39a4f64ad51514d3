{#-
    The last non-null value of a column over a window frame (`last_value ... ignore nulls`),
    followed by `over (...)` or `over window_name` at the call site.
-#}
{% macro last_non_null(value_column) -%}
    {{ return(adapter.dispatch('last_non_null')(value_column)) }}
{%- endmacro %}

{% macro duckdb__last_non_null(value_column) -%}
    last_value({{ value_column }} ignore nulls)
{%- endmacro %}
