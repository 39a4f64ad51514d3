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

{#-
    The exact continuous quantiles (as `quantile_cont`) of a column for each of `fractions`, in
    one pass over the group's values: a list, in the order of `fractions`; take an item with
    `list_item`.
-#}
{% macro quantiles_cont(value_column, fractions) -%}
    {{ return(adapter.dispatch('quantiles_cont')(value_column, fractions)) }}
{%- endmacro %}

{% macro duckdb__quantiles_cont(value_column, fractions) -%}
    quantile_cont({{ value_column }}, [{{ fractions | join(', ') }}])
{%- endmacro %}

{#- The item at `position` (from 1) of a list. -#}
{% macro list_item(list_expression, position) -%}
    {{ return(adapter.dispatch('list_item')(list_expression, position)) }}
{%- endmacro %}

{% macro duckdb__list_item(list_expression, position) -%}
    ({{ list_expression }})[{{ position }}]
{%- endmacro %}
