{#-
    Cohorts by the week (ISO, from Monday) and month of a person's first event. Period N of a
    cohort is the Nth week/month after the cohort's own; a person is active in it with any event.
    Periods 0..retention_periods are listed as far as the tenant/project has data (a period
    counts once its first day is on or before the day of the latest event).
-#}

{%- set cohort_types = {'weekly': 'week', 'monthly': 'month'} %}

{#
    One chain, each step reading the one before it once: an engine that inlines a CTE at every
    reference (Spark) reads the person days once, not once per reference.
#}
with

{#- A person's days with an event: the rows of user_activity_daily, one per person and day. #}
person_days as (

    select
        tenant_id,
        project_id,
        person_id,
        activity_date as event_date
    from {{ ref('user_activity_daily') }}

),

cohort_types as (

    {%- for cohort_type in cohort_types %}
    select '{{ cohort_type }}' as cohort_type
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

{#- Each period of each cohort type with an event of the person, and the day of the latest event of the tenant/project. #}
person_periods as (

    select distinct
        person_days.tenant_id,
        person_days.project_id,
        person_days.person_id,
        cohort_types.cohort_type,
        case cohort_types.cohort_type
            {%- for cohort_type in cohort_types %}
            when '{{ cohort_type }}'
                then cast({{ truncate_to_period(cohort_type, 'person_days.event_date') }} as date)
            {%- endfor %}
        end as activity_period_start,
        max(person_days.event_date) over (
            partition by person_days.tenant_id, person_days.project_id
        ) as latest_event_date
    from person_days
    cross join cohort_types

),

{#- The person's cohort is the first period with an event. #}
person_activity as (

    select
        tenant_id,
        project_id,
        person_id,
        cohort_type,
        activity_period_start,
        latest_event_date,
        min(activity_period_start) over (
            partition by tenant_id, project_id, person_id, cohort_type
        ) as cohort_start
    from person_periods

),

active_counts as (

    select
        tenant_id,
        project_id,
        cohort_type,
        cohort_start,
        case cohort_type
            {%- for cohort_type, datepart in cohort_types.items() %}
            when '{{ cohort_type }}' then cast(
                {%- if datepart == 'week' %}
                {{ dbt.datediff('cohort_start', 'activity_period_start', 'day') }} / 7
                {%- else %}
                {{ dbt.datediff('cohort_start', 'activity_period_start', datepart) }}
                {%- endif %}
                as integer
            )
            {%- endfor %}
        end as period_number,
        max(latest_event_date) as latest_event_date,
        count(distinct person_id) as active_persons
    from person_activity
    group by
        tenant_id,
        project_id,
        cohort_type,
        cohort_start,
        activity_period_start

),

{#- Every person of a cohort is active in its period 0: that count is the cohort's size. #}
cohort_activity as (

    select
        tenant_id,
        project_id,
        cohort_type,
        cohort_start,
        period_number,
        latest_event_date,
        active_persons,
        max(case when period_number = 0 then active_persons end) over (
            partition by tenant_id, project_id, cohort_type, cohort_start
        ) as cohort_size
    from active_counts

),

{#- Periods 0..retention_periods of each cohort, with or without active persons. #}
cohort_periods as (

    select
        cohort_activity.tenant_id,
        cohort_activity.project_id,
        cohort_activity.cohort_type,
        cohort_activity.cohort_start,
        period_numbers.period_number,
        max(cohort_activity.cohort_size) as cohort_size,
        coalesce(
            max(
                case
                    when cohort_activity.period_number = period_numbers.period_number
                        then cohort_activity.active_persons
                end
            ),
            0
        ) as active_persons,
        max(cohort_activity.latest_event_date) as latest_event_date
    from cohort_activity
    cross join (
        {%- for period_number in range(var('retention_periods') + 1) %}
        select {{ period_number }} as period_number
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ) as period_numbers
    group by
        cohort_activity.tenant_id,
        cohort_activity.project_id,
        cohort_activity.cohort_type,
        cohort_activity.cohort_start,
        period_numbers.period_number

),

final as (

    select
        tenant_id,
        project_id,
        cohort_type,
        cohort_start,
        period_number,
        case cohort_type
            {%- for cohort_type, datepart in cohort_types.items() %}
            when '{{ cohort_type }}' then cast(
                {{ dbt.dateadd(datepart, 'period_number', 'cohort_start') }} as date
            )
            {%- endfor %}
        end as period_start,
        cohort_size,
        active_persons,
        active_persons / cast(cohort_size as double) as retention_rate,
        latest_event_date
    from cohort_periods

)

select
    tenant_id,
    project_id,
    cohort_type,
    cohort_start,
    period_number,
    period_start,
    cohort_size,
    active_persons,
    retention_rate
from final
where period_start <= latest_event_date
