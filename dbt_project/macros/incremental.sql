{#-
    The incremental window and the rows it touches.

    A run gets its partition window as vars `min_date` / `max_date`, half-open on `received_at`
    (`>= min_date and < max_date`); unset means no bound, so both unset is a full build.
    Newly arrived events can land anywhere in history (late events, a login that stitches earlier
    anonymous events), so incremental models do not append the window: they delete and rebuild
    every row of each tenant/project/anonymous_id (or person) that has an event in the window.
-#}

{#- The half-open window filter on a received_at column. -#}
{% macro received_in_window(column='received_at') -%}
    {%- set min_date = var('min_date') -%}
    {%- set max_date = var('max_date') -%}
    {%- if min_date is none and max_date is none -%}
        true
    {%- else -%}
        {%- if min_date is not none -%}{{ column }} >= cast('{{ min_date }}' as timestamp){%- endif -%}
        {%- if min_date is not none and max_date is not none %} and {% endif -%}
        {%- if max_date is not none -%}{{ column }} < cast('{{ max_date }}' as timestamp){%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- tenant_id, project_id, anonymous_id of every anonymous id with an event in the window. -#}
{% macro affected_anonymous_ids() -%}
    select distinct
        tenant_id,
        project_id,
        anonymous_id,
    from {{ source('raw', 'events') }}
    where {{ received_in_window('received_at') }}
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
    Whether this run rebuilds only what the window touches: an incremental run of an existing
    table with a window. Otherwise the model is built from all rows.
-#}
{% macro rebuilds_affected_rows_only() -%}
    {{ return(is_incremental() and (var('min_date') is not none or var('max_date') is not none)) }}
{%- endmacro %}

{#- A filter keeping the rows of the affected anonymous ids (every row when building all). -#}
{% macro is_affected_anonymous_id(relation_alias='') -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    {%- if rebuilds_affected_rows_only() -%}
        ({{ prefix }}tenant_id, {{ prefix }}project_id, {{ prefix }}anonymous_id) in (
            select tenant_id, project_id, anonymous_id from ({{ affected_anonymous_ids() }})
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- A filter keeping the rows of the affected persons (every row when building all). -#}
{% macro is_affected_person_id(relation_alias='') -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    {%- if rebuilds_affected_rows_only() -%}
        ({{ prefix }}tenant_id, {{ prefix }}project_id, {{ prefix }}person_id) in (
            select tenant_id, project_id, person_id from ({{ affected_person_ids() }})
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#-
    Pre-hook of an incremental model: delete the rows the run rebuilds. `key` is
    'anonymous_id' or 'person_id'. An incremental run without a window rebuilds every row, so it
    empties the table; nothing to do when the table is being created or fully refreshed.
-#}
{% macro delete_affected_rows(key) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
        {%- if key == 'person_id' %} {{ is_affected_person_id() }}
        {%- else %} {{ is_affected_anonymous_id() }}
        {%- endif %}
    {%- endif -%}
{%- endmacro %}
