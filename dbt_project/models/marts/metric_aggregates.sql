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

with

metrics as (

    select
        tenant_id,
        project_id,
        metric_name,
        tags,
        metric_value,
        metric_time,
        _landing_date
    from {{ ref('stg_metrics') }}

),

metric_periods as (

    {%- for period_type in period_types %}
    select
        tenant_id,
        project_id,
        metric_name,
        tags,
        '{{ period_type }}' as period_type,
        {{ truncate_to_period(period_type, 'metric_time') }} as period_start,
        metric_value,
        _landing_date
    from metrics
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

{% if is_incremental() %}
affected_groups as (

    select distinct
        tenant_id,
        project_id,
        metric_name,
        tags,
        period_type,
        period_start
    from metric_periods
    where {{ arrived_in_window('_landing_date') }}

),

points_to_aggregate as (

    select
        metric_periods.tenant_id,
        metric_periods.project_id,
        metric_periods.metric_name,
        metric_periods.tags,
        metric_periods.period_type,
        metric_periods.period_start,
        metric_periods.metric_value
    from metric_periods
    inner join affected_groups
        on metric_periods.tenant_id = affected_groups.tenant_id
        and metric_periods.project_id = affected_groups.project_id
        and metric_periods.metric_name = affected_groups.metric_name
        and metric_periods.tags = affected_groups.tags
        and metric_periods.period_type = affected_groups.period_type
        and metric_periods.period_start = affected_groups.period_start

),
{% else %}
points_to_aggregate as (

    select
        tenant_id,
        project_id,
        metric_name,
        tags,
        period_type,
        period_start,
        metric_value
    from metric_periods

),
{% endif %}

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
