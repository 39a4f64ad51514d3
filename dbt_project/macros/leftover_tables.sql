{#-
    Post-hook of a Python incremental model: drop the `<model>__dbt_tmp<timestamp>` tables
    dbt-duckdb leaves behind. For a Python model its py_write_table ignores `temporary` and
    writes the run's new rows with a plain `create table` in the connection's default schema,
    and the materialization, believing the table temporary, never drops it. Every such table
    of the model goes, including those left by earlier runs.
-#}
{% macro drop_python_model_leftovers() -%}
    {%- if execute -%}
        {%- set leftovers = run_query(
            "select table_name from information_schema.tables"
            ~ " where table_catalog = current_database() and table_schema = current_schema()"
            ~ " and starts_with(table_name, '" ~ this.identifier ~ "__dbt_tmp')"
        ) -%}
        {%- for table_name in leftovers.columns[0].values() -%}
            drop table {{ adapter.quote(table_name) }};
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
