{#-
    Funnel attempts, one row per step an attempt reached (ACTIVE funnels, persons, bots excluded).

    Per person and funnel, an attempt starts at a step-1 event that is not inside an open
    attempt; step k is the earliest step-k event at or after step k-1's time (equal timestamps
    count, other events in between are allowed) and at most the window after step 1 (inclusive).
    An attempt is open from its start until it completes, or until its window ends when it does
    not; a step-1 event at or before that moment is inside it.

    Because a step-1 event can only start an attempt after the previous attempt closed, and an
    attempt only looks at events from its start on, the attempt a step-1 event would start does
    not depend on earlier attempts. So:
    1. `candidate_steps` walks, for every distinct step-1 time, the greedy path through the steps
       (a recursive CTE over step numbers, for any number of steps).
    2. `attempt_chain` keeps the first candidate, then repeatedly the first candidate starting
       after the previous attempt closed (a recursive CTE over attempts).
-#}

with recursive

events as (

    select
        tenant_id,
        project_id,
        person_id,
        event_name,
        event_time
    from {{ ref('int_events') }}

),

funnel_steps as (

    select
        funnel_id,
        conversion_window_days,
        step_number,
        step_event_name,
        step_count
    from {{ ref('funnel_steps') }}
    where status = 'ACTIVE'

),

step_times as (

    select distinct
        events.tenant_id,
        events.project_id,
        events.person_id,
        funnel_steps.funnel_id,
        funnel_steps.step_number,
        funnel_steps.step_count,
        funnel_steps.conversion_window_days,
        events.event_time
    from events
    inner join funnel_steps
        on events.event_name = funnel_steps.step_event_name

),

{#-
    For every step-k time, the earliest step-(k+1) time at or after it: in one ordered window
    per person, funnel and step pair, where a step-(k+1) row sorts after a step-k row of the
    same time so that equal timestamps count.
-#}
step_pairs as (

    select
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        step_number as pair_step_number,
        step_number,
        step_count,
        conversion_window_days,
        event_time,
        0 as is_next_step
    from step_times
    where step_number < step_count

    union all

    select
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        step_number - 1 as pair_step_number,
        step_number,
        step_count,
        conversion_window_days,
        event_time,
        1 as is_next_step
    from step_times
    where step_number > 1

),

step_pair_links as (

    select
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        step_number,
        step_count,
        conversion_window_days,
        event_time,
        is_next_step,
        min(case when is_next_step = 1 then event_time end) over (
            partition by tenant_id, project_id, person_id, funnel_id, pair_step_number
            order by event_time, is_next_step
            rows between current row and unbounded following
        ) as next_step_time
    from step_pairs

),

step_links as (

    select
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        step_number,
        step_count,
        conversion_window_days,
        event_time,
        next_step_time
    from step_pair_links
    where is_next_step = 0

    union all

    select
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        step_number,
        step_count,
        conversion_window_days,
        event_time,
        cast(null as timestamp) as next_step_time
    from step_times
    where step_number = step_count

),

candidate_steps as (

    select
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        step_count,
        event_time as started_at,
        {{ dbt.dateadd('day', 'conversion_window_days', 'event_time') }} as window_end,
        step_number,
        event_time as reached_at,
        next_step_time
    from step_links
    where step_number = 1

    union all

    select
        candidate_steps.tenant_id,
        candidate_steps.project_id,
        candidate_steps.person_id,
        candidate_steps.funnel_id,
        candidate_steps.step_count,
        candidate_steps.started_at,
        candidate_steps.window_end,
        step_links.step_number,
        step_links.event_time as reached_at,
        step_links.next_step_time
    from candidate_steps
    inner join step_links
        on candidate_steps.tenant_id = step_links.tenant_id
        and candidate_steps.project_id = step_links.project_id
        and candidate_steps.person_id = step_links.person_id
        and candidate_steps.funnel_id = step_links.funnel_id
        and step_links.step_number = candidate_steps.step_number + 1
        and step_links.event_time = candidate_steps.next_step_time
    where candidate_steps.next_step_time <= candidate_steps.window_end

),

candidates as (

    select
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        started_at,
        coalesce(
            max(case when step_number = step_count then reached_at end),
            max(window_end)
        ) as closed_at
    from candidate_steps
    group by
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        started_at

),

{#-
    For every candidate, the first candidate starting strictly after it closed: one ordered
    window per person and funnel over start times and close times, where a close sorts after
    starts of the same time so that those are not "after" it.
-#}
candidate_boundaries as (

    select
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        started_at,
        started_at as boundary_time,
        0 as is_close
    from candidates

    union all

    select
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        started_at,
        closed_at as boundary_time,
        1 as is_close
    from candidates

),

candidate_successors as (

    select
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        started_at,
        next_attempt_start
    from (
        select
            tenant_id,
            project_id,
            person_id,
            funnel_id,
            started_at,
            is_close,
            min(case when is_close = 0 then boundary_time end) over (
                partition by tenant_id, project_id, person_id, funnel_id
                order by boundary_time, is_close
                rows between current row and unbounded following
            ) as next_attempt_start
        from candidate_boundaries
    ) as boundaries
    where is_close = 1

),

first_candidates as (

    select
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        min(started_at) as started_at
    from candidates
    group by
        tenant_id,
        project_id,
        person_id,
        funnel_id

),

attempt_chain as (

    select
        candidate_successors.tenant_id,
        candidate_successors.project_id,
        candidate_successors.person_id,
        candidate_successors.funnel_id,
        1 as attempt_number,
        candidate_successors.started_at,
        candidate_successors.next_attempt_start
    from candidate_successors
    inner join first_candidates
        on candidate_successors.tenant_id = first_candidates.tenant_id
        and candidate_successors.project_id = first_candidates.project_id
        and candidate_successors.person_id = first_candidates.person_id
        and candidate_successors.funnel_id = first_candidates.funnel_id
        and candidate_successors.started_at = first_candidates.started_at

    union all

    select
        candidate_successors.tenant_id,
        candidate_successors.project_id,
        candidate_successors.person_id,
        candidate_successors.funnel_id,
        attempt_chain.attempt_number + 1 as attempt_number,
        candidate_successors.started_at,
        candidate_successors.next_attempt_start
    from attempt_chain
    inner join candidate_successors
        on attempt_chain.tenant_id = candidate_successors.tenant_id
        and attempt_chain.project_id = candidate_successors.project_id
        and attempt_chain.person_id = candidate_successors.person_id
        and attempt_chain.funnel_id = candidate_successors.funnel_id
        and attempt_chain.next_attempt_start = candidate_successors.started_at

),

attempt_steps as (

    select
        attempt_chain.tenant_id,
        attempt_chain.project_id,
        attempt_chain.funnel_id,
        attempt_chain.person_id,
        attempt_chain.attempt_number,
        attempt_chain.started_at,
        candidate_steps.window_end,
        candidate_steps.step_count,
        candidate_steps.step_number,
        candidate_steps.reached_at,
        lag(candidate_steps.reached_at) over (
            partition by
                attempt_chain.tenant_id,
                attempt_chain.project_id,
                attempt_chain.funnel_id,
                attempt_chain.person_id,
                attempt_chain.attempt_number
            order by candidate_steps.step_number
        ) as previous_step_reached_at
    from attempt_chain
    inner join candidate_steps
        on attempt_chain.tenant_id = candidate_steps.tenant_id
        and attempt_chain.project_id = candidate_steps.project_id
        and attempt_chain.person_id = candidate_steps.person_id
        and attempt_chain.funnel_id = candidate_steps.funnel_id
        and attempt_chain.started_at = candidate_steps.started_at

),

final as (

    select
        attempt_steps.tenant_id,
        attempt_steps.project_id,
        attempt_steps.funnel_id,
        attempt_steps.person_id,
        attempt_steps.attempt_number,
        attempt_steps.started_at,
        attempt_steps.window_end,
        attempt_steps.step_count,
        attempt_steps.step_number,
        funnel_steps.step_event_name,
        attempt_steps.reached_at,
        {{ seconds_between('attempt_steps.previous_step_reached_at', 'attempt_steps.reached_at') }}
            as seconds_from_previous_step
    from attempt_steps
    inner join funnel_steps
        on attempt_steps.funnel_id = funnel_steps.funnel_id
        and attempt_steps.step_number = funnel_steps.step_number

)

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
    seconds_from_previous_step
from final
