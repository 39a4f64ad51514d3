{#-
    One row per item of a delimited text column: the key columns, `item_number` (from 1) and
    the trimmed `item`. Used to turn a funnel's 'a > b > c' into ordered steps.
-#}
{% macro split_into_rows(relation, key_columns, column, delimiter) -%}
    {{ return(adapter.dispatch('split_into_rows')(relation, key_columns, column, delimiter)) }}
{%- endmacro %}

{% macro duckdb__split_into_rows(relation, key_columns, column, delimiter) -%}
    select
        {%- for key_column in key_columns %}
        {{ key_column }},
        {%- endfor %}
        item_number,
        trim(split_part({{ column }}, '{{ delimiter }}', cast(item_number as integer))) as item
    from {{ relation }},
        range(1, len(string_split({{ column }}, '{{ delimiter }}')) + 1) as item_numbers (item_number)
{%- endmacro %}

{#- The values of a column within a group as a list, ordered by another column. -#}
{% macro ordered_list(value_column, order_column) -%}
    {{ return(adapter.dispatch('ordered_list')(value_column, order_column)) }}
{%- endmacro %}

{% macro duckdb__ordered_list(value_column, order_column) -%}
    list({{ value_column }} order by {{ order_column }})
{%- endmacro %}
