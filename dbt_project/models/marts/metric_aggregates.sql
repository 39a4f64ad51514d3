{#-
    Incremental: a run with a window recomputes, from all raw points, every
    (tenant, project, metric, tags, period) group that has a point landed in the window,
    and replaces those groups (delete+insert). Groups are never merged from stored aggregates,
    so quantiles stay exact and the result equals a full build.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'project_id', 'metric_name', 'tags', 'period_type', 'period_start'],
        on_schema_change='fail',
    )
}}

{%- set period_types = ['hourly', 'daily', 'weekly', 'monthly'] %}
{%- set group_keys = ['tenant_id', 'project_id', 'metric_name', 'tags', 'period_start'] %}

with

{% if is_incremental() %}
{#-
    The groups of the points that arrived in the window, per period type; then, per period type,
    every point of those groups. Each period type reads the points on its own: one union of all
    four read twice (for the groups, then for their points) would be stored whole before being
    read, four rows per point.
-#}
arrived_groups as (

    {%- for period_type in period_types %}
    select distinct
        tenant_id,
        project_id,
        metric_name,
        tags,
        '{{ period_type }}' as period_type,
        {{ truncate_to_period(period_type, 'metric_time') }} as period_start
    from {{ ref('stg_metrics') }}
    where {{ arrived_in_window('_landing_date') }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

{% endif %}

{#- Each period type's points; in a windowed run only those of the groups that arrived. #}
points_to_aggregate as (

    {%- for period_type in period_types %}
    select
        tenant_id,
        project_id,
        metric_name,
        tags,
        '{{ period_type }}' as period_type,
        period_start,
        metric_value
    from (
        select
            tenant_id,
            project_id,
            metric_name,
            tags,
            {{ truncate_to_period(period_type, 'metric_time') }} as period_start,
            metric_value
        from {{ ref('stg_metrics') }}
    ) as point
    {%- if is_incremental() %}
    where {{ keys_in(
        'point',
        group_keys,
        "select * from arrived_groups where period_type = '" ~ period_type ~ "'",
    ) }}
    {%- endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

aggregated as (

    select
        tenant_id,
        project_id,
        metric_name,
        tags,
        period_type,
        period_start,
        count(*) as point_count,
        {{ stable_sum('metric_value') }} as value_sum,
        min(metric_value) as value_min,
        max(metric_value) as value_max,
        {{ stable_avg('metric_value') }} as value_avg,
        {#- The three quantiles in one sort of the group's values. #}
        {{ quantiles_cont('metric_value', [0.5, 0.9, 0.99]) }} as value_quantiles
    from points_to_aggregate
    group by
        tenant_id,
        project_id,
        metric_name,
        tags,
        period_type,
        period_start

)

select
    tenant_id,
    project_id,
    metric_name,
    tags,
    period_type,
    period_start,
    point_count,
    value_sum,
    value_min,
    value_max,
    value_avg,
    {{ list_item('value_quantiles', 1) }} as value_p50,
    {{ list_item('value_quantiles', 2) }} as value_p90,
    {{ list_item('value_quantiles', 3) }} as value_p99
from aggregated
