{#-
    The funnel definitions seed, validated, as one row per step.

    A definition that cannot be computed stops the build here, with a message naming the
    funnel: a window that is not a positive number, a unit or order mode or breakdown not
    listed, fewer than 2 or more than 60 steps, an empty step name, an exclusion event that is
    also a step.
-#}
{%- set order_modes = ['ordered', 'strict', 'any_order'] %}
{%- set window_unit_minutes = {'minutes': 1, 'hours': 60, 'days': 1440, 'weeks': 10080} %}
{%- set session_breakdowns = funnel_session_breakdowns() %}

with

definitions as (

    select
        funnel_id,
        funnel_name,
        status,
        steps,
        conversion_window_days,
        conversion_window,
        nullif(lower(trim(conversion_window_unit)), '') as conversion_window_unit,
        coalesce(nullif(lower(trim(order_mode)), ''), 'ordered') as order_mode,
        nullif(trim(exclusion_events), '') as exclusion_events,
        nullif(trim(breakdown), '') as breakdown
    from {{ ref('funnel_definitions') }}

),

split_steps as (

    {{ split_into_rows('definitions', ['funnel_id'], 'steps', '>') }}

),

exclusions as (

    {{ split_into_rows('definitions', ['funnel_id'], 'exclusion_events', '|') }}

),

step_counts as (

    select
        funnel_id,
        count(*) as step_count,
        min(case when item = '' then item_number end) as first_empty_step
    from split_steps
    group by funnel_id

),

exclusions_that_are_steps as (

    select
        exclusions.funnel_id,
        min(exclusions.item) as event_name
    from exclusions
    inner join split_steps
        on exclusions.funnel_id = split_steps.funnel_id
        and exclusions.item = split_steps.item
    group by exclusions.funnel_id

),

resolved as (

    select
        definitions.funnel_id,
        definitions.funnel_name,
        definitions.status,
        definitions.order_mode,
        coalesce(
            definitions.conversion_window,
            definitions.conversion_window_days,
            {{ var('funnel_window_days') }}
        ) as conversion_window,
        case
            when definitions.conversion_window is not null
                then coalesce(definitions.conversion_window_unit, 'days')
            else 'days'
        end as conversion_window_unit,
        definitions.exclusion_events,
        definitions.breakdown,
        cast(coalesce(step_counts.step_count, 0) as integer) as step_count,
        case
            when definitions.conversion_window is not null and definitions.conversion_window_days is not null
                then 'give the window either as conversion_window_days or as conversion_window and conversion_window_unit, not both'
            when definitions.conversion_window is null and definitions.conversion_window_unit is not null
                then 'conversion_window_unit ''' || definitions.conversion_window_unit || ''' needs a conversion_window'
            when coalesce(definitions.conversion_window, definitions.conversion_window_days) <= 0
                then 'the conversion window must be a positive number, not '
                    || cast(coalesce(definitions.conversion_window, definitions.conversion_window_days) as string)
            when definitions.conversion_window_unit not in ('{{ window_unit_minutes.keys() | join("', '") }}')
                then 'conversion_window_unit ''' || definitions.conversion_window_unit
                    || ''' is not one of {{ window_unit_minutes.keys() | join(", ") }}'
            when definitions.order_mode not in ('{{ order_modes | join("', '") }}')
                then 'order_mode ''' || definitions.order_mode || ''' is not one of {{ order_modes | join(", ") }}'
            when coalesce(step_counts.step_count, 0) < 2
                then 'a funnel needs at least 2 steps (separated by >), not '
                    || cast(coalesce(step_counts.step_count, 0) as string)
            when step_counts.step_count > 60
                then 'a funnel has at most 60 steps, not ' || cast(step_counts.step_count as string)
            when step_counts.first_empty_step is not null
                then 'step ' || cast(step_counts.first_empty_step as string) || ' has no event name'
            when exclusions_that_are_steps.event_name is not null
                then 'exclusion event ''' || exclusions_that_are_steps.event_name || ''' is also a step'
            when definitions.breakdown not in ('{{ session_breakdowns | join("', '") }}')
                and (definitions.breakdown not like 'property:%' or definitions.breakdown = 'property:')
                then 'breakdown ''' || definitions.breakdown
                    || ''' is not one of {{ session_breakdowns | join(", ") }} or property:<name>'
        end as problem
    from definitions
    left join step_counts
        on definitions.funnel_id = step_counts.funnel_id
    left join exclusions_that_are_steps
        on definitions.funnel_id = exclusions_that_are_steps.funnel_id

),

validated as (

    select
        funnel_id,
        funnel_name,
        status,
        case
            when problem is null then order_mode
            else {{ raise_error("'funnel definition ''' || funnel_id || ''': ' || problem") }}
        end as order_mode,
        cast(conversion_window as integer) as conversion_window,
        conversion_window_unit,
        cast(
            conversion_window * case conversion_window_unit
                {%- for unit, minutes in window_unit_minutes.items() %}
                when '{{ unit }}' then {{ minutes }}
                {%- endfor %}
            end as bigint
        ) as conversion_window_minutes,
        exclusion_events,
        breakdown,
        step_count
    from resolved

),

final as (

    select
        validated.funnel_id,
        validated.funnel_name,
        validated.status,
        validated.order_mode,
        validated.conversion_window,
        validated.conversion_window_unit,
        validated.conversion_window_minutes,
        validated.exclusion_events,
        validated.breakdown,
        cast(split_steps.item_number as integer) as step_number,
        split_steps.item as step_event_name,
        validated.step_count
    from validated
    inner join split_steps
        on validated.funnel_id = split_steps.funnel_id

)

select
    funnel_id,
    funnel_name,
    status,
    order_mode,
    conversion_window,
    conversion_window_unit,
    conversion_window_minutes,
    exclusion_events,
    breakdown,
    step_number,
    step_event_name,
    step_count
from final
