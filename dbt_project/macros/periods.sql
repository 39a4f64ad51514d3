{#-
    Start of the reporting period a timestamp falls in. Period types: hourly, daily,
    weekly (ISO week, starting Monday) and monthly. Returns a timestamp.
-#}
{% macro truncate_to_period(period_type, timestamp_column) -%}
    {%- set dateparts = {'hourly': 'hour', 'daily': 'day', 'weekly': 'week', 'monthly': 'month'} -%}
    {%- if period_type not in dateparts -%}
        {{ exceptions.raise_compiler_error("Unknown period type '" ~ period_type ~ "'; expected one of " ~ dateparts.keys() | list) }}
    {%- endif -%}
    {{ return(adapter.dispatch('truncate_to_period')(dateparts[period_type], timestamp_column)) }}
{%- endmacro %}

{#- DuckDB's date_trunc('week') starts ISO weeks on Monday. -#}
{% macro duckdb__truncate_to_period(datepart, timestamp_column) -%}
    date_trunc('{{ datepart }}', cast({{ timestamp_column }} as timestamp))
{%- endmacro %}
