{#-
    Dialect-specific SQL, in one place. Models call these macros instead of inlining DuckDB
    syntax; another engine (Spark is the planned one) adds `<adapter>__` implementations.
-#}

{#- The string at a JSONPath ('$.a.b') of a JSON value, NULL when absent. -#}
{% macro json_get_string(json_column, path) -%}
    {{ return(adapter.dispatch('json_get_string')(json_column, path)) }}
{%- endmacro %}

{% macro duckdb__json_get_string(json_column, path) -%}
    json_extract_string({{ json_column }}, '{{ path }}')
{%- endmacro %}

{#- The number at a JSONPath of a JSON value, NULL when absent or not a number. -#}
{% macro json_get_double(json_column, path) -%}
    {{ return(adapter.dispatch('json_get_double')(json_column, path)) }}
{%- endmacro %}

{% macro duckdb__json_get_double(json_column, path) -%}
    try_cast(json_extract_string({{ json_column }}, '{{ path }}') as double)
{%- endmacro %}

{#- The JSON value at a JSONPath, as JSON. -#}
{% macro json_get_json(json_column, path) -%}
    {{ return(adapter.dispatch('json_get_json')(json_column, path)) }}
{%- endmacro %}

{% macro duckdb__json_get_json(json_column, path) -%}
    json_extract({{ json_column }}, '{{ path }}')
{%- endmacro %}

{#- Text of a JSON object parsed into the engine's JSON type. -#}
{% macro parse_json(text_column) -%}
    {{ return(adapter.dispatch('parse_json')(text_column)) }}
{%- endmacro %}

{% macro duckdb__parse_json(text_column) -%}
    cast({{ text_column }} as json)
{%- endmacro %}

{#- Lowercased host of a URL without a leading `www.`; NULL for anything that is not a URL. -#}
{% macro url_host(url_column) -%}
    {{ return(adapter.dispatch('url_host')(url_column)) }}
{%- endmacro %}

{% macro duckdb__url_host(url_column) -%}
    nullif(
        regexp_replace(
            lower(regexp_extract({{ url_column }}, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/?#:]*)', 1)),
            '^www\.',
            ''
        ),
        ''
    )
{%- endmacro %}

{#- Path of a URL ('/' when the URL has none); NULL for anything that is not a URL. -#}
{% macro url_path(url_column) -%}
    {{ return(adapter.dispatch('url_path')(url_column)) }}
{%- endmacro %}

{% macro duckdb__url_path(url_column) -%}
    case
        when regexp_matches({{ url_column }}, '^[A-Za-z][A-Za-z0-9+.-]*://')
            then coalesce(
                nullif(regexp_extract({{ url_column }}, '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*([^?#]*)', 1), ''),
                '/'
            )
    end
{%- endmacro %}

{#- URL-decoded value of a query parameter of a URL; NULL when absent or empty. -#}
{% macro url_query_parameter(url_column, parameter) -%}
    {{ return(adapter.dispatch('url_query_parameter')(url_column, parameter)) }}
{%- endmacro %}

{% macro duckdb__url_query_parameter(url_column, parameter) -%}
    nullif(
        url_decode(
            replace(regexp_extract({{ url_column }}, '[?&]{{ parameter }}=([^&#]*)', 1), '+', ' ')
        ),
        ''
    )
{%- endmacro %}

{#- Seconds from one timestamp to another, with millisecond precision, as a double. -#}
{% macro seconds_between(start_column, end_column) -%}
    {{ return(adapter.dispatch('seconds_between')(start_column, end_column)) }}
{%- endmacro %}

{% macro duckdb__seconds_between(start_column, end_column) -%}
    ((epoch_ms({{ end_column }}) - epoch_ms({{ start_column }})) / 1000.0)
{%- endmacro %}

{#- A timestamp shifted by the difference of two others: `base + (minuend - subtrahend)`. -#}
{% macro add_timestamp_difference(base_column, minuend_column, subtrahend_column) -%}
    {{ return(adapter.dispatch('add_timestamp_difference')(base_column, minuend_column, subtrahend_column)) }}
{%- endmacro %}

{% macro duckdb__add_timestamp_difference(base_column, minuend_column, subtrahend_column) -%}
    ({{ base_column }} + ({{ minuend_column }} - {{ subtrahend_column }}))
{%- endmacro %}

{#- A timestamp plus a number of minutes given as a literal or setting. -#}
{% macro add_minutes(timestamp_column, minutes) -%}
    {{ return(adapter.dispatch('add_minutes')(timestamp_column, minutes)) }}
{%- endmacro %}

{% macro duckdb__add_minutes(timestamp_column, minutes) -%}
    ({{ timestamp_column }} + to_minutes(cast({{ minutes }} as bigint)))
{%- endmacro %}

{#- The start of the hour of a timestamp. -#}
{% macro hour_start(timestamp_column) -%}
    {{ return(adapter.dispatch('hour_start')(timestamp_column)) }}
{%- endmacro %}

{% macro duckdb__hour_start(timestamp_column) -%}
    date_trunc('hour', {{ timestamp_column }})
{%- endmacro %}

{#- A map from each distinct non-null key to its number of rows in the group (empty map when none). -#}
{% macro count_by_key(key_column) -%}
    {{ return(adapter.dispatch('count_by_key')(key_column)) }}
{%- endmacro %}

{% macro duckdb__count_by_key(key_column) -%}
    coalesce(
        cast(histogram({{ key_column }}) filter (where {{ key_column }} is not null) as map(varchar, bigint)),
        cast(map() as map(varchar, bigint))
    )
{%- endmacro %}

{#- A stable text key from columns (NULLs allowed). -#}
{% macro hash_key(columns) -%}
    {{ return(adapter.dispatch('hash_key')(columns)) }}
{%- endmacro %}

{% macro duckdb__hash_key(columns) -%}
    md5(concat_ws('|'{% for column in columns %}, coalesce(cast({{ column }} as varchar), ''){% endfor %}))
{%- endmacro %}

{#-
    The value of the row that sorts first (`first_by`) or last (`last_by`) by the columns
    `order_columns`, in one aggregate pass instead of a window and a filter. Ties cannot occur
    when the columns end with a unique key.
-#}
{% macro first_by(value, order_columns) -%}
    {{ return(adapter.dispatch('first_by')(value, order_columns)) }}
{%- endmacro %}

{% macro duckdb__first_by(value, order_columns) -%}
    arg_min({{ value }}, row({{ order_columns | join(', ') }}))
{%- endmacro %}

{% macro last_by(value, order_columns) -%}
    {{ return(adapter.dispatch('last_by')(value, order_columns)) }}
{%- endmacro %}

{% macro duckdb__last_by(value, order_columns) -%}
    arg_max({{ value }}, row({{ order_columns | join(', ') }}))
{%- endmacro %}

{#- A record of named fields, read back with `record.field`. -#}
{% macro record(columns) -%}
    {{ return(adapter.dispatch('record')(columns)) }}
{%- endmacro %}

{% macro duckdb__record(columns) -%}
    struct_pack({{ columns | join(', ') }})
{%- endmacro %}

{#- Whether the whole text matches a regular expression (RE2 syntax, no anchors needed). -#}
{% macro matches_pattern(text_column, pattern) -%}
    {{ return(adapter.dispatch('matches_pattern')(text_column, pattern)) }}
{%- endmacro %}

{% macro duckdb__matches_pattern(text_column, pattern) -%}
    regexp_full_match({{ text_column }}, '{{ pattern }}')
{%- endmacro %}

{#- The number of elements of a list. -#}
{% macro list_length(list_column) -%}
    {{ return(adapter.dispatch('list_length')(list_column)) }}
{%- endmacro %}

{% macro duckdb__list_length(list_column) -%}
    len({{ list_column }})
{%- endmacro %}
