{#-
    Sums and averages of fractional values in fixed point (`decimals` places), so that the
    result does not depend on the order rows are added in: an incremental run then produces
    exactly what a full refresh produces, to the last bit.
-#}

{% macro fixed_point_sum(column, decimals=3) -%}
    (sum(cast(round(({{ column }}) * 1e{{ decimals }}) as bigint)) / 1e{{ decimals }})
{%- endmacro %}

{#- The average of the non-null values; NULL when there are none. -#}
{% macro fixed_point_avg(column, decimals=3) -%}
    (sum(cast(round(({{ column }}) * 1e{{ decimals }}) as bigint)) / nullif(count({{ column }}), 0) / 1e{{ decimals }})
{%- endmacro %}
