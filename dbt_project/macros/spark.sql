{#-
    Apache Spark versions of the dispatched macros (dbt-spark). Each mirrors its DuckDB version
    in dialect.sql and the other macro files, including where DuckDB's semantics are subtle:
    arg_min / arg_max skip rows whose value is NULL, sums and averages of doubles are taken in
    a fixed order, quantiles interpolate linearly. Regular expressions avoid backslashes, which
    Spark's SQL string literals would consume.
-#}

{% macro spark__json_get_string(json_column, path) -%}
    get_json_object({{ json_column }}, '{{ path }}')
{%- endmacro %}

{% macro spark__json_get_double(json_column, path) -%}
    try_cast(get_json_object({{ json_column }}, '{{ path }}') as double)
{%- endmacro %}

{% macro spark__json_get_json(json_column, path) -%}
    get_json_object({{ json_column }}, '{{ path }}')
{%- endmacro %}

{#- Spark has no JSON type: JSON stays text, and the JSON functions read text. -#}
{% macro spark__parse_json(text_column) -%}
    {{ text_column }}
{%- endmacro %}

{% macro spark__url_host(url_column) -%}
    nullif(
        regexp_replace(
            lower(regexp_extract({{ url_column }}, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/?#:]*)', 1)),
            '^www[.]',
            ''
        ),
        ''
    )
{%- endmacro %}

{% macro spark__url_path(url_column) -%}
    case
        when {{ url_column }} rlike '^[A-Za-z][A-Za-z0-9+.-]*://'
            then coalesce(
                nullif(regexp_extract({{ url_column }}, '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*([^?#]*)', 1), ''),
                '/'
            )
    end
{%- endmacro %}

{% macro spark__url_query_parameter(url_column, parameter) -%}
    nullif(
        try_url_decode(
            replace(regexp_extract({{ url_column }}, '[?&]{{ parameter }}=([^&#]*)', 1), '+', ' ')
        ),
        ''
    )
{%- endmacro %}

{% macro spark__seconds_between(start_column, end_column) -%}
    (cast(unix_millis({{ end_column }}) - unix_millis({{ start_column }}) as double) / 1000)
{%- endmacro %}

{% macro spark__add_timestamp_difference(base_column, minuend_column, subtrahend_column) -%}
    timestamp_millis(
        unix_millis({{ base_column }}) + unix_millis({{ minuend_column }}) - unix_millis({{ subtrahend_column }})
    )
{%- endmacro %}

{% macro spark__add_minutes(timestamp_column, minutes) -%}
    timestampadd(MINUTE, cast({{ minutes }} as bigint), {{ timestamp_column }})
{%- endmacro %}

{% macro spark__hour_start(timestamp_column) -%}
    date_trunc('HOUR', {{ timestamp_column }})
{%- endmacro %}

{#- Keys in sorted order, each with its number of rows; an empty map when there are none. -#}
{% macro spark__count_by_key(key_column) -%}
    map_from_arrays(
        array_sort(array_distinct(collect_list({{ key_column }}))),
        transform(
            array_sort(array_distinct(collect_list({{ key_column }}))),
            counted_key -> cast(size(filter(collect_list({{ key_column }}), k -> k = counted_key)) as bigint)
        )
    )
{%- endmacro %}

{% macro spark__hash_key(columns) -%}
    md5(concat_ws('|'{% for column in columns %}, coalesce(cast({{ column }} as string), ''){% endfor %}))
{%- endmacro %}

{#- Rows whose value is NULL are skipped, as DuckDB's arg_min / arg_max do. -#}
{% macro spark__first_by(value, order_columns) -%}
    min_by({{ value }}, case when ({{ value }}) is not null then struct({{ order_columns | join(', ') }}) end)
{%- endmacro %}

{% macro spark__last_by(value, order_columns) -%}
    max_by({{ value }}, case when ({{ value }}) is not null then struct({{ order_columns | join(', ') }}) end)
{%- endmacro %}

{% macro spark__record(columns) -%}
    named_struct({% for column in columns %}'{{ column.split('.')[-1] }}', {{ column }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{% macro spark__matches_pattern(text_column, pattern) -%}
    ({{ text_column }} rlike '^(?:{{ pattern }})$')
{%- endmacro %}

{#- funnels.sql -#}

{% macro spark__split_into_rows(relation, key_columns, column, delimiter) -%}
    select
        {%- for key_column in key_columns %}
        {{ key_column }},
        {%- endfor %}
        item_position + 1 as item_number,
        trim(item_text) as item
    from {{ relation }}
        lateral view posexplode(split({{ column }}, '[{{ delimiter }}]')) item_numbers as item_position, item_text
{%- endmacro %}

{% macro spark__ordered_list(value_column, order_column) -%}
    transform(
        array_sort(collect_list(named_struct('sort_key', struct({{ order_column }}), 'value', {{ value_column }}))),
        sorted -> sorted.value
    )
{%- endmacro %}

{% macro spark__fold_list(list_expression, initial, state, element, body) -%}
    aggregate({{ list_expression }}, {{ initial }}, ({{ state }}, {{ element }}) -> {{ body }})
{%- endmacro %}

{% macro spark__append_to_list(list_expression, value) -%}
    concat({{ list_expression }}, array({{ value }}))
{%- endmacro %}

{% macro spark__empty_list_of(example) -%}
    slice(array({{ example }}), 1, 0)
{%- endmacro %}

{% macro spark__named_record(fields) -%}
    named_struct({% for name, expression in fields %}'{{ name }}', {{ expression }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{% macro spark__raise_error(message) -%}
    raise_error({{ message }})
{%- endmacro %}

{% macro spark__json_get_string_at(json_column, key_expression) -%}
    get_json_object({{ json_column }}, concat('$[''', {{ key_expression }}, ''']'))
{%- endmacro %}

{% macro spark__explode_zipped(first_list, second_list, first_name, second_name) -%}
    inline(zip_with({{ first_list }}, {{ second_list }}, (first_element, second_element) -> named_struct(
        '{{ first_name }}', first_element, '{{ second_name }}', second_element
    )))
{%- endmacro %}

{% macro spark__bit_count(integer_expression) -%}
    bit_count({{ integer_expression }})
{%- endmacro %}

{#- last_non_null.sql, metric_tags.sql, periods.sql, quantiles.sql, stable_sum.sql -#}

{% macro spark__last_non_null(value_column) -%}
    last_value({{ value_column }}, true)
{%- endmacro %}

{% macro spark__normalize_tags(tags_column) -%}
    coalesce(
        to_json(map_from_entries(array_sort(map_entries(from_json({{ tags_column }}, 'map<string, string>'))))),
        '{}'
    )
{%- endmacro %}

{#- Spark's date_trunc('WEEK') starts ISO weeks on Monday, like DuckDB's. -#}
{% macro spark__truncate_to_period(datepart, timestamp_column) -%}
    date_trunc('{{ datepart | upper }}', cast({{ timestamp_column }} as timestamp))
{%- endmacro %}

{#- Spark's percentile is exact and interpolates linearly, as DuckDB's quantile_cont. -#}
{% macro spark__quantile_cont(value_column, fraction) -%}
    percentile({{ value_column }}, {{ fraction }})
{%- endmacro %}

{% macro spark__quantiles_cont(value_column, fractions) -%}
    percentile({{ value_column }}, array({{ fractions | join(', ') }}))
{%- endmacro %}

{% macro spark__list_item(list_expression, position) -%}
    element_at({{ list_expression }}, {{ position }})
{%- endmacro %}

{% macro spark__stable_sum(value_column) -%}
    case
        when count({{ value_column }}) > 0
            then aggregate(
                array_sort(collect_list(cast({{ value_column }} as double))),
                cast(0 as double),
                (total, summed_value) -> total + summed_value
            )
    end
{%- endmacro %}

{#-
    Seeds on Spark: dbt-spark binds a seed's values as text in session mode, which turns an
    empty cell into the string 'None'. The rows are written as literals instead, an empty cell
    as NULL.
-#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_types = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- set column = agate_table.column_names[loop.index0] -%}
                    {%- set type = column_types.get(column, adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ spark_literal(value) }} as {{ type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}

{#- A SQL literal of a seed value: NULL, a number, or quoted text with backslash escapes. -#}
{% macro spark_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is number and value is not boolean -%}
        {{ value }}
    {%- elif value is boolean -%}
        {{ 'true' if value else 'false' }}
    {%- else -%}
        '{{ value | string | replace('\\', '\\\\') | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}

{% macro spark__list_length(list_column) -%}
    size({{ list_column }})
{%- endmacro %}
