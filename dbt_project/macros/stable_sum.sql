{#-
    Sum of a floating-point column that does not depend on the order of the rows. Floating-point
    addition is not associative, so a plain sum can differ in the last bits between two builds
    whose tables hold the same rows in another physical order (an incremental run and a full
    rebuild). Summing in value order makes the result a function of the values alone.
    For values of known precision (milliseconds, money) `fixed_point_sum` does the same more
    cheaply; this one is for values of any magnitude and precision, such as metric points.
-#}
{% macro stable_sum(value_column) -%}
    {{ return(adapter.dispatch('stable_sum')(value_column)) }}
{%- endmacro %}

{% macro duckdb__stable_sum(value_column) -%}
    sum({{ value_column }} order by {{ value_column }})
{%- endmacro %}

{#- Mean of a floating-point column, independent of row order (NULL when no non-null value). -#}
{% macro stable_avg(value_column) -%}
    ({{ stable_sum(value_column) }} / nullif(count({{ value_column }}), 0))
{%- endmacro %}
