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

{#-
    A fold over a list: starting from `initial`, `body` computes the next state from the state
    (named `state`) and one element (named `element`), element by element in list order; the
    last state is the result. Funnel attempts walk a person's events with it.
-#}
{% macro fold_list(list_expression, initial, state, element, body) -%}
    {{ return(adapter.dispatch('fold_list')(list_expression, initial, state, element, body)) }}
{%- endmacro %}

{% macro duckdb__fold_list(list_expression, initial, state, element, body) -%}
    list_reduce({{ list_expression }}, lambda {{ state }}, {{ element }}: {{ body }}, {{ initial }})
{%- endmacro %}

{#- A list with one more element at its end. -#}
{% macro append_to_list(list_expression, value) -%}
    {{ return(adapter.dispatch('append_to_list')(list_expression, value)) }}
{%- endmacro %}

{% macro duckdb__append_to_list(list_expression, value) -%}
    list_append({{ list_expression }}, {{ value }})
{%- endmacro %}

{#- An empty list whose elements have the type of `example`. -#}
{% macro empty_list_of(example) -%}
    {{ return(adapter.dispatch('empty_list_of')(example)) }}
{%- endmacro %}

{% macro duckdb__empty_list_of(example) -%}
    list_slice([{{ example }}], 1, 0)
{%- endmacro %}

{#- A record of named fields from `(name, expression)` pairs, read back with `record.name`. -#}
{% macro named_record(fields) -%}
    {{ return(adapter.dispatch('named_record')(fields)) }}
{%- endmacro %}

{% macro duckdb__named_record(fields) -%}
    struct_pack({% for name, expression in fields %}{{ name }} := {{ expression }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{#- Fails the statement with `message` (a text expression) when evaluated. -#}
{% macro raise_error(message) -%}
    {{ return(adapter.dispatch('raise_error')(message)) }}
{%- endmacro %}

{% macro duckdb__raise_error(message) -%}
    error({{ message }})
{%- endmacro %}

{#- The string at a top-level key of a JSON object, the key given as a text expression. -#}
{% macro json_get_string_at(json_column, key_expression) -%}
    {{ return(adapter.dispatch('json_get_string_at')(json_column, key_expression)) }}
{%- endmacro %}

{% macro duckdb__json_get_string_at(json_column, key_expression) -%}
    json_extract_string({{ json_column }}, '$."' || {{ key_expression }} || '"')
{%- endmacro %}

{#-
    One row per position of two lists of equal length (in a select list): the elements of the
    first as `first_name`, of the second as `second_name`.
-#}
{% macro explode_zipped(first_list, second_list, first_name, second_name) -%}
    {{ return(adapter.dispatch('explode_zipped')(first_list, second_list, first_name, second_name)) }}
{%- endmacro %}

{% macro duckdb__explode_zipped(first_list, second_list, first_name, second_name) -%}
    unnest({{ first_list }}) as {{ first_name }},
    unnest({{ second_list }}) as {{ second_name }}
{%- endmacro %}

{#- The number of bits set in an integer. -#}
{% macro bit_count(integer_expression) -%}
    {{ return(adapter.dispatch('bit_count')(integer_expression)) }}
{%- endmacro %}

{% macro duckdb__bit_count(integer_expression) -%}
    bit_count({{ integer_expression }})
{%- endmacro %}

{#- The columns of the step-1 event's session a funnel can be broken down by. -#}
{% macro funnel_session_breakdowns() -%}
    {{ return([
        'channel', 'channel_type', 'referrer_host', 'utm_source', 'utm_medium', 'utm_campaign',
        'device_type', 'country_code',
    ]) }}
{%- endmacro %}
