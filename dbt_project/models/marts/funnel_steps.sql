with

funnel_definitions as (

    select
        funnel_id,
        funnel_name,
        status,
        steps,
        coalesce(conversion_window_days, {{ var('funnel_window_days') }}) as conversion_window_days
    from {{ ref('funnel_definitions') }}

),

split_steps as (

    {{ split_into_rows('funnel_definitions', ['funnel_id'], 'steps', '>') }}

),

final as (

    select
        funnel_definitions.funnel_id,
        funnel_definitions.funnel_name,
        funnel_definitions.status,
        funnel_definitions.conversion_window_days,
        cast(split_steps.item_number as integer) as step_number,
        split_steps.item as step_event_name,
        cast(count(*) over (partition by funnel_definitions.funnel_id) as integer) as step_count
    from funnel_definitions
    inner join split_steps
        on funnel_definitions.funnel_id = split_steps.funnel_id

)

select
    funnel_id,
    funnel_name,
    status,
    conversion_window_days,
    step_number,
    step_event_name,
    step_count
from final
