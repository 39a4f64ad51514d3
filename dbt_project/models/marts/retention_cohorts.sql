{#-
    Cohorts by the week (ISO, from Monday) and month of a person's first event. Period N of a
    cohort is the Nth week/month after the cohort's own; a person is active in it with any event.
    Periods 0..retention_periods are listed as far as the tenant/project has data (a period
    counts once its first day is on or before the day of the latest event).
-#}

{%- set cohort_types = {'weekly': 'week', 'monthly': 'month'} %}

with

events as (

    select
        tenant_id,
        project_id,
        person_id,
        event_time
    from {{ ref('int_events') }}

),

period_numbers as (

    {%- for period_number in range(var('retention_periods') + 1) %}
    select {{ period_number }} as period_number
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

latest_event_days as (

    select
        tenant_id,
        project_id,
        cast(max(event_time) as date) as latest_event_date
    from events
    group by
        tenant_id,
        project_id

),

person_periods as (

    {%- for cohort_type, datepart in cohort_types.items() %}
    select distinct
        tenant_id,
        project_id,
        person_id,
        '{{ cohort_type }}' as cohort_type,
        cast({{ truncate_to_period(cohort_type, 'event_time') }} as date) as activity_period_start
    from events
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

person_cohorts as (

    select
        tenant_id,
        project_id,
        person_id,
        cohort_type,
        min(activity_period_start) as cohort_start
    from person_periods
    group by
        tenant_id,
        project_id,
        person_id,
        cohort_type

),

person_activity as (

    select
        person_periods.tenant_id,
        person_periods.project_id,
        person_periods.cohort_type,
        person_cohorts.cohort_start,
        case person_periods.cohort_type
            {%- for cohort_type, datepart in cohort_types.items() %}
            when '{{ cohort_type }}' then cast(
                {%- if datepart == 'week' %}
                {{ dbt.datediff('person_cohorts.cohort_start', 'person_periods.activity_period_start', 'day') }} / 7
                {%- else %}
                {{ dbt.datediff('person_cohorts.cohort_start', 'person_periods.activity_period_start', datepart) }}
                {%- endif %}
                as integer
            )
            {%- endfor %}
        end as period_number,
        person_periods.person_id
    from person_periods
    inner join person_cohorts
        on person_periods.tenant_id = person_cohorts.tenant_id
        and person_periods.project_id = person_cohorts.project_id
        and person_periods.person_id = person_cohorts.person_id
        and person_periods.cohort_type = person_cohorts.cohort_type

),

cohort_sizes as (

    select
        tenant_id,
        project_id,
        cohort_type,
        cohort_start,
        count(*) as cohort_size
    from person_cohorts
    group by
        tenant_id,
        project_id,
        cohort_type,
        cohort_start

),

active_counts as (

    select
        tenant_id,
        project_id,
        cohort_type,
        cohort_start,
        period_number,
        count(distinct person_id) as active_persons
    from person_activity
    group by
        tenant_id,
        project_id,
        cohort_type,
        cohort_start,
        period_number

),

cohort_periods as (

    select
        cohort_sizes.tenant_id,
        cohort_sizes.project_id,
        cohort_sizes.cohort_type,
        cohort_sizes.cohort_start,
        cohort_sizes.cohort_size,
        period_numbers.period_number,
        case cohort_sizes.cohort_type
            {%- for cohort_type, datepart in cohort_types.items() %}
            when '{{ cohort_type }}' then cast(
                {{ dbt.dateadd(datepart, 'period_numbers.period_number', 'cohort_sizes.cohort_start') }} as date
            )
            {%- endfor %}
        end as period_start,
        latest_event_days.latest_event_date
    from cohort_sizes
    cross join period_numbers
    inner join latest_event_days
        on cohort_sizes.tenant_id = latest_event_days.tenant_id
        and cohort_sizes.project_id = latest_event_days.project_id

),

final as (

    select
        cohort_periods.tenant_id,
        cohort_periods.project_id,
        cohort_periods.cohort_type,
        cohort_periods.cohort_start,
        cohort_periods.period_number,
        cohort_periods.period_start,
        cohort_periods.cohort_size,
        coalesce(active_counts.active_persons, 0) as active_persons,
        coalesce(active_counts.active_persons, 0) / cast(cohort_periods.cohort_size as double) as retention_rate
    from cohort_periods
    left join active_counts
        on cohort_periods.tenant_id = active_counts.tenant_id
        and cohort_periods.project_id = active_counts.project_id
        and cohort_periods.cohort_type = active_counts.cohort_type
        and cohort_periods.cohort_start = active_counts.cohort_start
        and cohort_periods.period_number = active_counts.period_number
    where cohort_periods.period_start <= cohort_periods.latest_event_date

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
