{#-
    The incremental window and the rows it touches.

    A run gets its partition window as vars `min_date` / `max_date`, half-open on `received_at`
    (`>= min_date and < max_date`); unset means no bound, so both unset is a full build. The
    Dagster assets pass it as the environment variables WAREHOUSE_MIN_DATE / WAREHOUSE_MAX_DATE
    instead (see `window_bound`).
    Newly arrived events can land anywhere in history (late events, a login that stitches earlier
    anonymous events), so incremental models do not append the window: each deletes and
    rebuilds every row of the keys the window touches, wherever in history they are:

    | key           | columns                                | touched when                           |
    |---------------|----------------------------------------|----------------------------------------|
    | anonymous_id  | tenant_id, project_id, anonymous_id    | the anonymous id has an event in it    |
    | person_id     | tenant_id, project_id, person_id       | the person is, or was, one of those ids|
    | view_date     | tenant_id, project_id, view_date       | a page view of those ids is on the day |
    | hour_start    | tenant_id, project_id, hour_start      | an event of those ids is in the hour   |
-#}

{#-
    One bound of the window (`name` is min_date or max_date): the var, else the environment
    variable WAREHOUSE_<NAME>, else none. The environment is read only when SQL is compiled for
    execution, never while parsing: dbt parses the whole project again when vars change, and
    the files that read an environment variable when it changes, so a window passed either way
    would make every run re-parse.
-#}
{% macro window_bound(name) -%}
    {%- set value = var(name) -%}
    {%- if value is none and execute -%}
        {%- set value = env_var('WAREHOUSE_' ~ (name | upper), '') or none -%}
    {%- endif -%}
    {{- return(value) -}}
{%- endmacro %}

{#- The half-open window filter on a received_at column. -#}
{% macro received_in_window(column='received_at') -%}
    {%- set min_date = window_bound('min_date') -%}
    {%- set max_date = window_bound('max_date') -%}
    {%- if min_date is none and max_date is none -%}
        true
    {%- else -%}
        {%- if min_date is not none -%}{{ column }} >= cast('{{ min_date }}' as timestamp){%- endif -%}
        {%- if min_date is not none and max_date is not none %} and {% endif -%}
        {%- if max_date is not none -%}{{ column }} < cast('{{ max_date }}' as timestamp){%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    tenant_id, project_id, anonymous_id of every anonymous id with an event in the window; with
    `bucket` and `buckets`, of those in that bucket only (macros/buckets.sql).
-#}
{% macro affected_anonymous_ids(bucket=none, buckets=1) -%}
    select distinct
        tenant_id,
        project_id,
        anonymous_id,
    from {{ source('raw', 'events') }}
    where {{ received_in_window('received_at') }}
    {%- if bucket is not none and buckets > 1 %}
        and {{ in_bucket('anonymous_id', bucket, buckets) }}
    {%- endif %}
{%- endmacro %}

{#-
    tenant_id, project_id, person_id of every person whose rows the window can change: the
    affected anonymous ids themselves and every user id ever linked to them, which covers the
    person each of them belonged to before the run and the one it belongs to now.
-#}
{% macro affected_person_ids() -%}
    select
        tenant_id,
        project_id,
        anonymous_id as person_id,
    from ({{ affected_anonymous_ids() }})
    union
    select
        links.tenant_id,
        links.project_id,
        links.user_id as person_id,
    from {{ ref('int_identity_links') }} as links
    inner join ({{ affected_anonymous_ids() }}) as affected
        on links.tenant_id = affected.tenant_id
        and links.project_id = affected.project_id
        and links.anonymous_id = affected.anonymous_id
{%- endmacro %}

{#-
    tenant_id, project_id, view_date of every day with a page view of an affected anonymous id
    (page_views is rebuilt first, and a page view keeps its day, so old and new days are both
    in it).
-#}
{% macro affected_page_view_days() -%}
    select distinct
        tenant_id,
        project_id,
        view_date,
    from {{ ref('page_views') }}
    where {{ is_affected('anonymous_id') }}
{%- endmacro %}

{#-
    tenant_id, project_id, hour_start of every hour with an event of an affected anonymous id. It
    reads the raw events rather than `stg_events`: the same rows and event times, without the
    staging view's parsing and user-agent join, and a model uses it twice or three times.
-#}
{% macro affected_event_hours() -%}
    select distinct
        tenant_id,
        project_id,
        {{ hour_start(event_time()) }} as hour_start,
    from {{ source('raw', 'events') }}
    where {{ is_affected('anonymous_id') }}
{%- endmacro %}

{% macro affected_keys(key, bucket=none, buckets=1) -%}
    {%- if bucket is not none and key != 'anonymous_id' -%}
        {{ exceptions.raise_compiler_error('only anonymous ids are bucketed, not ' ~ key) }}
    {%- endif -%}
    {%- if key == 'anonymous_id' -%}{{ affected_anonymous_ids(bucket, buckets) }}
    {%- elif key == 'person_id' -%}{{ affected_person_ids() }}
    {%- elif key == 'view_date' -%}{{ affected_page_view_days() }}
    {%- elif key == 'hour_start' -%}{{ affected_event_hours() }}
    {%- else -%}{{ exceptions.raise_compiler_error('unknown incremental key: ' ~ key) }}
    {%- endif -%}
{%- endmacro %}

{#-
    Whether this run rebuilds only what the window touches: an incremental run of an existing
    table with a window. Otherwise the model is built from all rows.
-#}
{% macro rebuilds_affected_rows_only() -%}
    {%- set bounded = window_bound('min_date') is not none or window_bound('max_date') is not none -%}
    {{ return(is_incremental() and bounded) }}
{%- endmacro %}

{#-
    A filter keeping the rows of the keys the window touches (every row when building all).
    `key` names a key of the table above; `expressions` are what to compare with its columns
    (by default the columns themselves). With `bucket` and `buckets`, only the keys of that
    bucket are compared with (anonymous ids only; see `affected_in_bucket`).
-#}
{% macro is_affected(key, expressions=none, bucket=none, buckets=1) -%}
    {%- if rebuilds_affected_rows_only() -%}
        {%- set columns = ['tenant_id', 'project_id', key] -%}
        ({{ (expressions or columns) | join(', ') }}) in (
            select {{ columns | join(', ') }} from ({{ affected_keys(key, bucket, buckets) }})
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#-
    Pre-hook of an incremental model: delete the rows of the keys the window touches, which the
    run then rebuilds. An incremental run without a window rebuilds every row, so it empties
    the table; nothing to do when the table is being created or fully refreshed.
-#}
{% macro delete_affected_rows(key) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ is_affected(key) }}
    {%- endif -%}
{%- endmacro %}
