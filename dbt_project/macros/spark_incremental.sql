{#-
    Incremental models on Spark's plain Parquet tables, which have no DELETE: the strategies
    `replace_scope` and `delete+insert` become "write the kept rows and the new rows, then
    overwrite the table with them". dbt-spark accepts only its own strategies, so its two
    macros that validate and dispatch a strategy are extended here (the root project's macros
    take precedence over the adapter's of the same name; the adapter's stay reachable as
    `dbt_spark.<name>`).
-#}

{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if raw_strategy in ['replace_scope', 'delete+insert'] -%}
        {%- do return(raw_strategy) -%}
    {%- endif -%}
    {%- do return(dbt_spark.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) -%}
{%- endmacro %}

{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) -%}
    {%- if strategy == 'replace_scope' -%}
        {%- set scope = config.get('scope') if has_window() else 'all' -%}
        {{ spark_replace_rows(source, target, scope) }}
    {%- elif strategy == 'delete+insert' -%}
        {{ spark_replace_rows(source, target, 'unique_key', unique_key) }}
    {%- else -%}
        {{ dbt_spark.dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) }}
    {%- endif -%}
{%- endmacro %}

{#-
    Replaces the rows of `target` in `scope` (see `replaced_scope`; 'unique_key': the rows
    whose `unique_key` the new rows have) with the new rows of `source` (the model's temporary
    view). The new rows are written to a table first (the view may read the target), then the
    target's kept rows and the new ones to a second table, which overwrites the target. Returns
    the statement dbt runs last: dropping the second table.
-#}
{% macro spark_replace_rows(source, target, scope, unique_key=none) -%}
    {%- set new_rows = target.incorporate(path={'identifier': target.identifier ~ '__dbt_new'}) -%}
    {%- set replacement = target.incorporate(path={'identifier': target.identifier ~ '__dbt_replacement'}) -%}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='quoted') | join(', ') -%}
    {%- if scope == 'unique_key' -%}
        {%- set keys = [unique_key] if unique_key is string else unique_key -%}
        {%- set kept -%}
            ({{ keys | join(', ') }}) not in (select {{ keys | join(', ') }} from {{ new_rows }})
        {%- endset -%}
    {%- else -%}
        {%- set kept -%}
            not ({{ replaced_scope(scope, new_rows) }})
        {%- endset -%}
    {%- endif -%}
    {%- do run_query('drop table if exists ' ~ new_rows) -%}
    {%- do run_query('drop table if exists ' ~ replacement) -%}
    {%- do run_query('create table ' ~ new_rows ~ ' using parquet as select ' ~ columns ~ ' from ' ~ source) -%}
    {%- call statement('replacement_rows') -%}
        create table {{ replacement }} using parquet as
        select {{ columns }} from {{ target }} as target
        where {{ kept }}
        union all
        select {{ columns }} from {{ new_rows }}
    {%- endcall -%}
    {%- do run_query('insert overwrite table ' ~ target ~ ' select ' ~ columns ~ ' from ' ~ replacement) -%}
    {%- do run_query('drop table if exists ' ~ new_rows) -%}
    drop table if exists {{ replacement }}
{%- endmacro %}
