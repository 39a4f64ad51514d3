{#-
    Buckets of anonymous ids, for the models that sort or group every event of an id
    (int_events sessionizes, sessions and page_views aggregate and number per session).

    DuckDB keeps all the input of a window until it is sorted: on 100M events that is tens of GB
    spilled to disk. Rows of different anonymous ids never meet in these sorts, so such a model
    is written as a union of one select per bucket of ids (`bucket_of` the anonymous id), which
    DuckDB runs one after another, each in memory. Each bucket holds about `bucket_rows` rows
    (a var) of the raw events; a small table is one bucket, and the SQL is the same as without.
    The buckets change how the work is cut, never the result.

    The raw table is found in the project's graph when SQL is compiled for execution, not with
    `source()`: that would make it a dependency of the models (and of their unit tests, which
    mock only their inputs; a unit test has no graph, and works in one bucket). Staging is
    views, whose size the engine does not know.
-#}
{% macro anonymous_id_buckets() -%}
    {%- if not execute -%}{{ return(1) }}{%- endif -%}
    {%- set raw_events = graph.get('sources', {}).values()
        | selectattr('source_name', 'equalto', 'raw')
        | selectattr('name', 'equalto', 'events')
        | list -%}
    {%- if raw_events | length == 0 -%}{{ return(1) }}{%- endif -%}
    {%- set rows = table_row_estimate(raw_events[0]) -%}
    {%- if rows is none -%}{{ return(1) }}{%- endif -%}
    {%- set bucket_rows = var('bucket_rows') | int -%}
    {{ return([1, ((rows + bucket_rows - 1) // bucket_rows) | int] | max) }}
{%- endmacro %}

{#- A filter keeping the rows of bucket `bucket` of `buckets` (every row when there is one). -#}
{% macro in_bucket(column, bucket, buckets) -%}
    {%- if buckets == 1 -%}
        true
    {%- else -%}
        {{ bucket_of(column, buckets) }} = {{ bucket }}
    {%- endif -%}
{%- endmacro %}

{#-
    The rows of bucket `bucket` that this run rebuilds: `in_bucket` and `is_affected` on the
    anonymous id, with the affected ids cut to the same bucket, so that each bucket hashes only
    its own ids. Uncut, DuckDB computed the one set of ids once and re-used it in every bucket
    (a materialized subplan), and on 10M events in 6 buckets, with DuckDB's memory limit at 1GB,
    the incremental page_views ran out of memory. Cut, the plan has no such subplan. At 100M
    that alone was not enough: see `written_join_sides_for_incremental_buckets` below.
-#}
{% macro affected_in_bucket(column, bucket, buckets) -%}
    {{ is_affected(column, bucket=bucket, buckets=buckets) }}
        and {{ in_bucket(column, bucket, buckets) }}
{%- endmacro %}

{#-
    The start and end of one bucket's select in a bucketed model, which loops
    `for bucket in range(buckets)`: `union all` before every bucket but the first, and the
    select in parentheses when there are several (one bucket is the plain select).
-#}
{% macro bucket_open(first, buckets) -%}
    {%- if not first %}union all
{% endif -%}
    {%- if buckets > 1 %}({% endif -%}
{%- endmacro %}

{% macro bucket_close(buckets) -%}
    {%- if buckets > 1 %}){% endif -%}
{%- endmacro %}

{#-
    Pre- and post-hook of a bucketed model: its incremental run over several buckets keeps the
    join sides as written (DuckDB's `build_side_probe_side` optimizer off), and the next model
    plans as usual again. DuckDB estimates `hash(anonymous_id) % n = k` at a few dozen rows
    whatever the table, so it built the semi join of a bucket's page views (every column the mart
    keeps) with the affected ids on the page views' side: at 100M events, with DuckDB's memory
    limit at 10GB, the incremental page_views (6 buckets) ran out of memory, with 2 threads and
    with 1. As written, `x in (select ...)` builds on the affected ids. A model that fails skips
    its post-hook, so the rest of that dbt invocation keeps the written sides: a plan that may
    be slower, never a different result.
-#}
{% macro written_join_sides_for_incremental_buckets() -%}
    {%- if rebuilds_affected_rows_in_buckets() -%}
        set disabled_optimizers = 'build_side_probe_side'
    {%- endif -%}
{%- endmacro %}

{% macro planned_join_sides_after_incremental_buckets() -%}
    {%- if rebuilds_affected_rows_in_buckets() -%}reset disabled_optimizers{%- endif -%}
{%- endmacro %}

{#- Whether this is an incremental run with a window over more than one bucket. -#}
{% macro rebuilds_affected_rows_in_buckets() -%}
    {{ return(execute and rebuilds_affected_rows_only() and anonymous_id_buckets() > 1) }}
{%- endmacro %}
