{#-
    KPI tiles per tenant and project, as of the latest complete day: the day before the day of
    the latest received_at (the collector's current day is still filling). Each KPI is computed
    for a period ending on that day and for the previous period of equal length.
    DAU, WAU and MAU are active persons over 1, 7 and 30 days; the other KPIs are given over
    1 and 7 days.
-#}

{%- set window_lengths = [1, 7, 30] %}
{%- set kpis = [
    ('dau', 'active_persons', [1]),
    ('wau', 'active_persons', [7]),
    ('mau', 'active_persons', [30]),
    ('sessions', 'session_count', [1, 7]),
    ('avg_session_duration_seconds', 'avg_session_duration_seconds', [1, 7]),
    ('bounce_rate', 'bounce_rate', [1, 7]),
    ('conversion_rate', 'conversion_rate', [1, 7]),
    ('revenue', 'revenue', [1, 7]),
    ('new_users', 'new_users', [1, 7]),
] %}

with

events as (

    select
        tenant_id,
        project_id,
        person_id,
        event_time,
        received_at
    from {{ ref('int_events') }}

),

sessions as (

    select
        tenant_id,
        project_id,
        session_date,
        duration_seconds,
        is_bounce,
        converted
    from {{ ref('sessions') }}

),

conversions as (

    select
        tenant_id,
        project_id,
        conversion_date,
        conversion_value
    from {{ ref('conversions') }}

),

as_of_dates as (

    select
        tenant_id,
        project_id,
        cast({{ dbt.dateadd('day', -1, 'cast(max(received_at) as date)') }} as date) as as_of_date
    from events
    group by
        tenant_id,
        project_id

),

windows as (

    {%- for window_days in window_lengths %}
    select
        tenant_id,
        project_id,
        as_of_date,
        {{ window_days }} as period_days,
        'current' as comparison,
        cast({{ dbt.dateadd('day', 1 - window_days, 'as_of_date') }} as date) as period_start,
        as_of_date as period_end
    from as_of_dates
    union all
    select
        tenant_id,
        project_id,
        as_of_date,
        {{ window_days }} as period_days,
        'previous' as comparison,
        cast({{ dbt.dateadd('day', 1 - 2 * window_days, 'as_of_date') }} as date) as period_start,
        cast({{ dbt.dateadd('day', -window_days, 'as_of_date') }} as date) as period_end
    from as_of_dates
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

person_days as (

    select distinct
        tenant_id,
        project_id,
        person_id,
        cast(event_time as date) as activity_date
    from events

),

person_first_days as (

    select
        tenant_id,
        project_id,
        person_id,
        min(activity_date) as first_activity_date
    from person_days
    group by
        tenant_id,
        project_id,
        person_id

),

window_activity as (

    select
        windows.tenant_id,
        windows.project_id,
        windows.period_days,
        windows.comparison,
        count(distinct person_days.person_id) as active_persons
    from windows
    left join person_days
        on windows.tenant_id = person_days.tenant_id
        and windows.project_id = person_days.project_id
        and person_days.activity_date >= windows.period_start
        and person_days.activity_date <= windows.period_end
    group by
        windows.tenant_id,
        windows.project_id,
        windows.period_days,
        windows.comparison

),

window_new_users as (

    select
        windows.tenant_id,
        windows.project_id,
        windows.period_days,
        windows.comparison,
        count(person_first_days.person_id) as new_users
    from windows
    left join person_first_days
        on windows.tenant_id = person_first_days.tenant_id
        and windows.project_id = person_first_days.project_id
        and person_first_days.first_activity_date >= windows.period_start
        and person_first_days.first_activity_date <= windows.period_end
    group by
        windows.tenant_id,
        windows.project_id,
        windows.period_days,
        windows.comparison

),

window_sessions as (

    select
        windows.tenant_id,
        windows.project_id,
        windows.period_days,
        windows.comparison,
        count(sessions.session_date) as session_count,
        {{ fixed_point_avg('sessions.duration_seconds') }} as avg_session_duration_seconds,
        avg(case when sessions.is_bounce then 1.0 when not sessions.is_bounce then 0.0 end) as bounce_rate,
        avg(case when sessions.converted then 1.0 when not sessions.converted then 0.0 end) as conversion_rate
    from windows
    left join sessions
        on windows.tenant_id = sessions.tenant_id
        and windows.project_id = sessions.project_id
        and sessions.session_date >= windows.period_start
        and sessions.session_date <= windows.period_end
    group by
        windows.tenant_id,
        windows.project_id,
        windows.period_days,
        windows.comparison

),

window_revenue as (

    select
        windows.tenant_id,
        windows.project_id,
        windows.period_days,
        windows.comparison,
        coalesce({{ fixed_point_sum('conversions.conversion_value') }}, 0) as revenue
    from windows
    left join conversions
        on windows.tenant_id = conversions.tenant_id
        and windows.project_id = conversions.project_id
        and conversions.conversion_date >= windows.period_start
        and conversions.conversion_date <= windows.period_end
    group by
        windows.tenant_id,
        windows.project_id,
        windows.period_days,
        windows.comparison

),

window_values as (

    select
        windows.tenant_id,
        windows.project_id,
        windows.as_of_date,
        windows.period_days,
        windows.comparison,
        windows.period_start,
        windows.period_end,
        cast(window_activity.active_persons as double) as active_persons,
        cast(window_sessions.session_count as double) as session_count,
        window_sessions.avg_session_duration_seconds,
        window_sessions.bounce_rate,
        window_sessions.conversion_rate,
        cast(window_revenue.revenue as double) as revenue,
        cast(window_new_users.new_users as double) as new_users
    from windows
    inner join window_activity
        on windows.tenant_id = window_activity.tenant_id
        and windows.project_id = window_activity.project_id
        and windows.period_days = window_activity.period_days
        and windows.comparison = window_activity.comparison
    inner join window_sessions
        on windows.tenant_id = window_sessions.tenant_id
        and windows.project_id = window_sessions.project_id
        and windows.period_days = window_sessions.period_days
        and windows.comparison = window_sessions.comparison
    inner join window_revenue
        on windows.tenant_id = window_revenue.tenant_id
        and windows.project_id = window_revenue.project_id
        and windows.period_days = window_revenue.period_days
        and windows.comparison = window_revenue.comparison
    inner join window_new_users
        on windows.tenant_id = window_new_users.tenant_id
        and windows.project_id = window_new_users.project_id
        and windows.period_days = window_new_users.period_days
        and windows.comparison = window_new_users.comparison

),

kpi_values as (

    {%- for kpi, value_column, lengths in kpis %}
    select
        tenant_id,
        project_id,
        as_of_date,
        '{{ kpi }}' as kpi,
        period_days,
        comparison,
        period_start,
        period_end,
        {{ value_column }} as kpi_value
    from window_values
    where period_days in ({{ lengths | join(', ') }})
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

compared as (

    select
        tenant_id,
        project_id,
        as_of_date,
        kpi,
        period_days,
        max(case when comparison = 'current' then period_start end) as period_start,
        max(case when comparison = 'current' then period_end end) as period_end,
        max(case when comparison = 'current' then kpi_value end) as current_value,
        max(case when comparison = 'previous' then period_start end) as previous_period_start,
        max(case when comparison = 'previous' then period_end end) as previous_period_end,
        max(case when comparison = 'previous' then kpi_value end) as previous_value
    from kpi_values
    group by
        tenant_id,
        project_id,
        as_of_date,
        kpi,
        period_days

)

select
    tenant_id,
    project_id,
    as_of_date,
    kpi,
    period_days,
    period_start,
    period_end,
    current_value,
    previous_period_start,
    previous_period_end,
    previous_value,
    (current_value - previous_value) / nullif(previous_value, 0) * 100 as change_percent
from compared
