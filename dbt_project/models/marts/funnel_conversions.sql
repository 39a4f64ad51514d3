with

attempt_steps as (

    select
        tenant_id,
        project_id,
        funnel_id,
        person_id,
        attempt_number,
        started_at,
        window_end,
        step_count,
        step_number,
        step_event_name,
        reached_at,
        breakdown_value
    from {{ ref('funnel_attempt_steps') }}

),

funnels as (

    select distinct
        funnel_id,
        funnel_name
    from {{ ref('funnel_steps') }}

),

attempts as (

    select
        tenant_id,
        project_id,
        funnel_id,
        person_id,
        attempt_number,
        started_at,
        window_end,
        step_count,
        breakdown_value,
        max(step_number) as furthest_step,
        max(case when step_number = step_count then reached_at end) as completed_at,
        {{ ordered_list('reached_at', 'step_number') }} as step_reached_at
    from attempt_steps
    group by
        tenant_id,
        project_id,
        funnel_id,
        person_id,
        attempt_number,
        started_at,
        window_end,
        step_count,
        breakdown_value

),

final as (

    select
        attempts.tenant_id,
        attempts.project_id,
        attempts.funnel_id,
        funnels.funnel_name,
        attempts.person_id,
        attempts.attempt_number,
        attempts.started_at,
        attempts.window_end,
        attempts.completed_at,
        attempts.completed_at is not null as completed,
        attempts.furthest_step,
        furthest_steps.step_event_name as furthest_step_event_name,
        attempts.step_count,
        attempts.step_reached_at,
        attempts.breakdown_value
    from attempts
    inner join funnels
        on attempts.funnel_id = funnels.funnel_id
    inner join attempt_steps as furthest_steps
        on attempts.tenant_id = furthest_steps.tenant_id
        and attempts.project_id = furthest_steps.project_id
        and attempts.funnel_id = furthest_steps.funnel_id
        and attempts.person_id = furthest_steps.person_id
        and attempts.attempt_number = furthest_steps.attempt_number
        and attempts.furthest_step = furthest_steps.step_number

)

select
    tenant_id,
    project_id,
    funnel_id,
    funnel_name,
    person_id,
    attempt_number,
    started_at,
    window_end,
    completed_at,
    completed,
    furthest_step,
    furthest_step_event_name,
    step_count,
    step_reached_at,
    breakdown_value
from final
