{#-
    Canonical text of a JSON object of string tags: keys sorted, no whitespace, so that
    '{"b":"2","a":"1"}' and '{"a":"1","b":"2"}' compare equal. Missing tags become '{}'.
-#}
{% macro normalize_tags(tags_column) -%}
    {{ return(adapter.dispatch('normalize_tags')(tags_column)) }}
{%- endmacro %}

{% macro duckdb__normalize_tags(tags_column) -%}
    coalesce(
        cast(
            to_json(
                map_from_entries(
                    list_sort(map_entries(cast(cast({{ tags_column }} as json) as map(varchar, varchar))))
                )
            ) as varchar
        ),
        '{}'
    )
{%- endmacro %}
