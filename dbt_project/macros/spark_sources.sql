{#-
    On Spark, the raw tables are the Parquet files the pipeline exports from the landing
    (orchestration/spark.py): RAW_PARQUET_DIR/<table>/, in folders `_landing_date=YYYY-MM-DD`
    for a table with that column. Before a run (on-run-start), each table of the source `raw`
    is declared over its folder, with the columns and types of its YAML, and its partitions
    are synced with the folders (a day exported again or removed is seen as it is now).
    Nothing happens on another engine.
-#}
{% macro register_raw_sources() -%}
    {%- if target.type != 'spark' or not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set location = env_var('RAW_PARQUET_DIR', '') -%}
    {%- if not location -%}
        {{ exceptions.raise_compiler_error(
            'RAW_PARQUET_DIR is not set: on Spark the raw tables are read from the Parquet '
            ~ 'the pipeline exports there (orchestration/spark.py)'
        ) }}
    {%- endif -%}
    {%- do run_query('create database if not exists raw') -%}
    {%- for source in graph.sources.values() if source.source_name == 'raw' -%}
        {%- set columns = source.columns.values() | list -%}
        {%- set partitioned = '_landing_date' in source.columns -%}
        {%- set definitions = [] -%}
        {%- for column in columns if column.name != '_landing_date' -%}
            {#- The contract's varchar is Spark's string. -#}
            {%- set type = 'string' if column.data_type | lower == 'varchar' else column.data_type -%}
            {%- do definitions.append('`' ~ column.name ~ '` ' ~ type) -%}
        {%- endfor -%}
        {%- if partitioned -%}
            {%- do definitions.append('`_landing_date` date') -%}
        {%- endif -%}
        {%- do run_query(
            'create table if not exists raw.' ~ source.name ~ ' (' ~ definitions | join(', ') ~ ') '
            ~ 'using parquet '
            ~ ('partitioned by (_landing_date) ' if partitioned else '')
            ~ "location '" ~ location ~ '/' ~ source.name ~ "'"
        ) -%}
        {%- if partitioned -%}
            {%- do run_query('msck repair table raw.' ~ source.name ~ ' sync partitions') -%}
        {%- else -%}
            {%- do run_query('refresh table raw.' ~ source.name) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{#-
    Tables a run writes on its way and drops at the end of each model: on Spark `<model>__dbt_new`
    and `<model>__dbt_replacement` (macros/spark_incremental.sql), on both engines
    `<model>__dbt_scope` (`scope_keys` in macros/incremental.sql). Those a stopped run left
    behind are dropped before the next run (on-run-start), so no schema keeps one (Spark's
    Parquet tables have no transactions to roll them back).
-#}
{% macro drop_leftover_tables() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set schemas = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.schema not in schemas -%}
        {%- do schemas.append(node.schema) -%}
    {%- endfor -%}
    {%- if target.type == 'spark' -%}
        {%- for schema in schemas -%}
            {%- if run_query("show databases like '" ~ schema ~ "'") | length > 0 -%}
                {%- for row in run_query("show tables in " ~ schema ~ " like '*__dbt_*'") -%}
                    {%- do run_query('drop table if exists ' ~ schema ~ '.' ~ row['tableName']) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {%- set leftovers -%}
            select table_schema, table_name from information_schema.tables
            where table_type = 'BASE TABLE'
                and table_schema in ('{{ schemas | join("', '") }}')
                and table_name like '%\_\_dbt\_%' escape '\'
        {%- endset -%}
        {%- for row in run_query(leftovers) -%}
            {%- do run_query('drop table if exists "' ~ row[0] ~ '"."' ~ row[1] ~ '"') -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
