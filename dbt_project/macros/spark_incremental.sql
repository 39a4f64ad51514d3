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

{#- `keys_in` (incremental.sql) as an `exists`: see there. -#}
{% macro spark__keys_in(alias, keys, rows) -%}
    exists (
        select 1 from ({{ rows }}) as keyed
        where {% for key in keys %}keyed.{{ key }} = {{ alias }}.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
    )
{%- endmacro %}

{#-
    The column a model's table is partitioned by on Spark (none elsewhere): a model's config
    `partition_by=spark_partition('session_date')`. An incremental run then rewrites only the
    partitions that hold a replaced or a new row (see `spark_replace_rows`).
-#}
{% macro spark_partition(column) -%}
    {{- return(column if target.type == 'spark' else none) -}}
{%- endmacro %}

{#-
    Replaces the rows of `target` in `scope` (see `replaced_scope`; 'unique_key': the rows
    whose `unique_key` the new rows have) with the new rows of `source` (the model's temporary
    view). The new rows are written to a table first (the view may read the target), then the
    kept rows and the new ones to a second table, which overwrites the target (a table can not
    be overwritten from itself).

    A table partitioned on Spark (config `partition_by`, one column) rewrites only its touched
    partitions: those of the replaced rows and of the new rows. Only their kept rows are
    copied, the second table overwrites just the partitions it holds (dynamic partition
    overwrite), and a touched partition left without rows is dropped. Other tables are
    rewritten whole.

    Returns the statement dbt runs last: dropping the second table.
-#}
{% macro spark_replace_rows(source, target, scope, unique_key=none) -%}
    {%- set new_rows = target.incorporate(path={'identifier': target.identifier ~ '__dbt_new'}) -%}
    {%- set replacement = target.incorporate(path={'identifier': target.identifier ~ '__dbt_replacement'}) -%}
    {#- The target's order: a partition column comes last, as a partition overwrite needs it. -#}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='quoted') | join(', ') -%}
    {%- if scope == 'unique_key' -%}
        {%- set keys = [unique_key] if unique_key is string else unique_key -%}
        {%- set replaced -%}
            exists (
                select 1 from {{ new_rows }} as new_row
                where {% for key in keys %}new_row.{{ key }} = target.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
            )
        {%- endset -%}
    {%- else -%}
        {%- set replaced = replaced_scope(scope) -%}
    {%- endif -%}
    {%- set partition_by = config.get('partition_by') -%}
    {%- set partition_column = partition_by if partition_by is string or partition_by is none else partition_by[0] -%}
    {%- if partition_by is not string and partition_by is not none and partition_by | length != 1 -%}
        {{ exceptions.raise_compiler_error('spark_replace_rows partitions by one column, not ' ~ partition_by) }}
    {%- endif -%}
    {#- Neither table exists: on-run-start dropped what a stopped run left (drop_leftover_tables). -#}
    {%- do run_query('create table ' ~ new_rows ~ ' using parquet as select ' ~ columns ~ ' from ' ~ source) -%}
    {%- if partition_column is none -%}
        {%- call statement('replacement_rows') -%}
            create table {{ replacement }} using parquet as
            select {{ columns }} from {{ target }} as target
            where not ({{ replaced }})
            union all
            select {{ columns }} from {{ new_rows }}
        {%- endcall -%}
        {%- do run_query('insert overwrite table ' ~ target ~ ' select ' ~ columns ~ ' from ' ~ replacement) -%}
    {%- else -%}
        {%- set touched_query -%}
            select distinct cast({{ partition_column }} as string) as touched
            from {{ target }} as target
            where {{ replaced }}
            union
            select distinct cast({{ partition_column }} as string) as touched
            from {{ new_rows }}
        {%- endset -%}
        {%- set touched = run_query(touched_query).columns[0].values() | list -%}
        {%- if touched -%}
            {%- set in_touched -%}
                cast({{ partition_column }} as string) in ({% for value in touched %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor %})
            {%- endset -%}
            {%- call statement('replacement_rows') -%}
                create table {{ replacement }} using parquet as
                select {{ columns }} from {{ target }} as target
                where {{ in_touched }} and not ({{ replaced }})
                union all
                select {{ columns }} from {{ new_rows }}
            {%- endcall -%}
            {%- do run_query('set spark.sql.sources.partitionOverwriteMode = dynamic') -%}
            {%- do run_query('insert overwrite table ' ~ target ~ ' partition (' ~ partition_column ~ ') select ' ~ columns ~ ' from ' ~ replacement) -%}
            {%- set filled_query -%}
                select distinct cast({{ partition_column }} as string) from {{ replacement }}
            {%- endset -%}
            {%- set filled = run_query(filled_query).columns[0].values() | list -%}
            {%- set emptied = touched | reject('in', filled) | list -%}
            {%- if emptied -%}
                {%- set dropped = [] -%}
                {%- for value in emptied -%}
                    {%- do dropped.append('partition (' ~ partition_column ~ " = '" ~ value ~ "')") -%}
                {%- endfor -%}
                {%- do run_query('alter table ' ~ target ~ ' drop if exists ' ~ dropped | join(', ')) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- do run_query('drop table if exists ' ~ new_rows) -%}
    drop table if exists {{ replacement }}
{%- endmacro %}
