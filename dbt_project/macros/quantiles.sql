{#-
    Exact continuous quantile (linear interpolation between the two nearest points, like
    PostgreSQL's percentile_cont) of a column over the rows of a group. `fraction` is in 0..1.
-#}
{% macro quantile_cont(value_column, fraction) -%}
    {{ return(adapter.dispatch('quantile_cont')(value_column, fraction)) }}
{%- endmacro %}

{% macro duckdb__quantile_cont(value_column, fraction) -%}
    quantile_cont({{ value_column }}, {{ fraction }})
{%- endmacro %}
