{#-
    Funnel results per period of attempt start, for all attempts (breakdown_value '(all)') and,
    for a funnel with a breakdown, per breakdown value ('(none)' when it is missing).
-#}
{%- set period_types = ['daily', 'weekly'] %}
{%- set groupings = {
    'all': "'(all)'",
    'breakdown': "coalesce(attempt_steps.breakdown_value, '(none)')",
} %}

with

attempt_steps as (

    select
        tenant_id,
        project_id,
        funnel_id,
        person_id,
        attempt_number,
        started_at,
        step_number,
        seconds_from_previous_step,
        breakdown_value
    from {{ ref('funnel_attempt_steps') }}

),

funnel_steps as (

    select
        funnel_id,
        funnel_name,
        breakdown,
        step_number,
        step_event_name
    from {{ ref('funnel_steps') }}

),

funnels as (

    select distinct
        funnel_id,
        breakdown
    from funnel_steps

),

attempt_step_periods as (

    {%- for period_type in period_types %}
    {%- for grouping, breakdown_value in groupings.items() %}
    select
        attempt_steps.tenant_id,
        attempt_steps.project_id,
        attempt_steps.funnel_id,
        '{{ period_type }}' as period_type,
        cast({{ truncate_to_period(period_type, 'attempt_steps.started_at') }} as date) as period_start,
        {{ breakdown_value }} as breakdown_value,
        attempt_steps.step_number,
        attempt_steps.seconds_from_previous_step
    from attempt_steps
    {%- if grouping == 'breakdown' %}
    inner join funnels
        on attempt_steps.funnel_id = funnels.funnel_id
    where funnels.breakdown is not null
    {%- endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

step_totals as (

    select
        tenant_id,
        project_id,
        funnel_id,
        period_type,
        period_start,
        breakdown_value,
        step_number,
        count(*) as attempts_reached,
        {{ quantile_cont('seconds_from_previous_step', 0.5) }} as median_seconds_from_previous_step
    from attempt_step_periods
    group by
        tenant_id,
        project_id,
        funnel_id,
        period_type,
        period_start,
        breakdown_value,
        step_number

),

periods as (

    select distinct
        tenant_id,
        project_id,
        funnel_id,
        period_type,
        period_start,
        breakdown_value
    from step_totals

),

all_steps as (

    select
        periods.tenant_id,
        periods.project_id,
        periods.funnel_id,
        funnel_steps.funnel_name,
        periods.period_type,
        periods.period_start,
        funnel_steps.breakdown,
        periods.breakdown_value,
        funnel_steps.step_number,
        funnel_steps.step_event_name,
        coalesce(step_totals.attempts_reached, 0) as attempts_reached,
        step_totals.median_seconds_from_previous_step
    from periods
    inner join funnel_steps
        on periods.funnel_id = funnel_steps.funnel_id
    left join step_totals
        on periods.tenant_id = step_totals.tenant_id
        and periods.project_id = step_totals.project_id
        and periods.funnel_id = step_totals.funnel_id
        and periods.period_type = step_totals.period_type
        and periods.period_start = step_totals.period_start
        and periods.breakdown_value = step_totals.breakdown_value
        and funnel_steps.step_number = step_totals.step_number

),

with_rates as (

    select
        tenant_id,
        project_id,
        funnel_id,
        funnel_name,
        period_type,
        period_start,
        breakdown,
        breakdown_value,
        step_number,
        step_event_name,
        attempts_reached,
        first_value(attempts_reached) over funnel_period as attempts_started,
        {#- lag takes no window frame on Spark, so not the named window. #}
        lag(attempts_reached) over (
            partition by tenant_id, project_id, funnel_id, period_type, period_start, breakdown_value
            order by step_number
        ) as previous_step_attempts_reached,
        median_seconds_from_previous_step
    from all_steps
    window funnel_period as (
        partition by tenant_id, project_id, funnel_id, period_type, period_start, breakdown_value
        order by step_number
        rows between unbounded preceding and current row
    )

)

select
    tenant_id,
    project_id,
    funnel_id,
    funnel_name,
    period_type,
    period_start,
    breakdown,
    breakdown_value,
    step_number,
    step_event_name,
    attempts_started,
    attempts_reached,
    case
        when step_number = 1 then 1.0
        else attempts_reached / nullif(cast(previous_step_attempts_reached as double), 0)
    end as step_conversion_rate,
    attempts_reached / nullif(cast(attempts_started as double), 0) as overall_conversion_rate,
    median_seconds_from_previous_step
from with_rates
