{#-
    KPI tiles per tenant and project, as of the latest complete day: the day before the day of
    the latest received_at (the collector's current day is still filling). Each KPI is computed
    for a period ending on that day and for the previous period of equal length.
    A previous period that ends before the project's first event has no previous value (NULL),
    whatever the KPI: nothing was measured then. A period since is measured: counts and revenue
    are numbers (0 when nothing happened), averages and rates NULL when nothing is averaged.
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

{#- Every non-bot event's times, from the narrow sessionization table. #}
event_times as (

    select
        tenant_id,
        project_id,
        event_time,
        received_at
    from {{ ref('int_event_sessions') }}
    where not is_superseded

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
        cast({{ dbt.dateadd('day', -1, 'cast(max(received_at) as date)') }} as date) as as_of_date,
        cast(min(event_time) as date) as first_activity_date
    from event_times
    group by
        tenant_id,
        project_id

),

{#- Each window as day offsets from the as-of day: the current period ends on it, the previous
    one just before the current one starts. #}
window_offsets as (

    {%- for window_days in window_lengths %}
    select
        {{ window_days }} as period_days,
        'current' as comparison,
        {{ 1 - window_days }} as start_offset,
        0 as end_offset
    union all
    select
        {{ window_days }} as period_days,
        'previous' as comparison,
        {{ 1 - 2 * window_days }} as start_offset,
        {{ -window_days }} as end_offset
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

windows as (

    select
        *,
        period_end >= first_activity_date as is_measured
    from (
        select
            as_of_dates.tenant_id,
            as_of_dates.project_id,
            as_of_dates.as_of_date,
            as_of_dates.first_activity_date,
            window_offsets.period_days,
            window_offsets.comparison,
            cast({{ dbt.dateadd('day', 'window_offsets.start_offset', 'as_of_dates.as_of_date') }} as date)
                as period_start,
            cast({{ dbt.dateadd('day', 'window_offsets.end_offset', 'as_of_dates.as_of_date') }} as date)
                as period_end
        from as_of_dates
        cross join window_offsets
    ) as offset_windows

),

{#- A person's days with an event (one row each in user_activity_daily), and the first of them. #}
person_days as (

    select
        tenant_id,
        project_id,
        person_id,
        activity_date,
        is_new_user
    from {{ ref('user_activity_daily') }}

),

person_first_days as (

    select
        tenant_id,
        project_id,
        person_id,
        activity_date as first_activity_date
    from person_days
    where is_new_user

),

{#- What each KPI counts, one row per fact on the day it happened: an active person-day, a
    person's first day, a session, a conversion. Every window then reads them in one join. #}
period_facts as (

    select
        tenant_id,
        project_id,
        activity_date as fact_date,
        person_id as active_person_id,
        cast(null as string) as new_person_id,
        cast(null as date) as session_date,
        cast(null as double) as session_duration_seconds,
        cast(null as boolean) as session_is_bounce,
        cast(null as boolean) as session_converted,
        cast(null as double) as conversion_value
    from person_days

    union all

    select
        tenant_id,
        project_id,
        first_activity_date as fact_date,
        null as active_person_id,
        person_id as new_person_id,
        null as session_date,
        null as session_duration_seconds,
        null as session_is_bounce,
        null as session_converted,
        null as conversion_value
    from person_first_days

    union all

    select
        tenant_id,
        project_id,
        session_date as fact_date,
        null as active_person_id,
        null as new_person_id,
        session_date,
        duration_seconds as session_duration_seconds,
        is_bounce as session_is_bounce,
        converted as session_converted,
        null as conversion_value
    from sessions

    union all

    select
        tenant_id,
        project_id,
        conversion_date as fact_date,
        null as active_person_id,
        null as new_person_id,
        null as session_date,
        null as session_duration_seconds,
        null as session_is_bounce,
        null as session_converted,
        conversion_value
    from conversions

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
        windows.is_measured,
        cast(count(distinct period_facts.active_person_id) as double) as active_persons,
        cast(count(period_facts.session_date) as double) as session_count,
        {{ fixed_point_avg('period_facts.session_duration_seconds') }} as avg_session_duration_seconds,
        avg(case when period_facts.session_is_bounce then 1e0 when not period_facts.session_is_bounce then 0e0 end) as bounce_rate,
        avg(case when period_facts.session_converted then 1e0 when not period_facts.session_converted then 0e0 end) as conversion_rate,
        cast(coalesce({{ fixed_point_sum('period_facts.conversion_value') }}, 0) as double) as revenue,
        cast(count(period_facts.new_person_id) as double) as new_users
    from windows
    left join period_facts
        on windows.tenant_id = period_facts.tenant_id
        and windows.project_id = period_facts.project_id
        and period_facts.fact_date >= windows.period_start
        and period_facts.fact_date <= windows.period_end
    group by
        windows.tenant_id,
        windows.project_id,
        windows.as_of_date,
        windows.period_days,
        windows.comparison,
        windows.period_start,
        windows.period_end,
        windows.is_measured

),

{#- Which KPI each window gives (one row per KPI and window length), read from its value
    column in one pass over window_values. #}
kpi_windows as (

    {%- for kpi, value_column, lengths in kpis %}
    {%- set outer = loop %}
    {%- for length in lengths %}
    select '{{ kpi }}' as kpi, {{ length }} as period_days
    {%- if not (outer.last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endfor %}

),

kpi_values as (

    select
        window_values.tenant_id,
        window_values.project_id,
        window_values.as_of_date,
        kpi_windows.kpi,
        window_values.period_days,
        window_values.comparison,
        window_values.period_start,
        window_values.period_end,
        window_values.is_measured,
        case kpi_windows.kpi
            {%- for kpi, value_column, lengths in kpis %}
            when '{{ kpi }}' then window_values.{{ value_column }}
            {%- endfor %}
        end as kpi_value
    from window_values
    inner join kpi_windows
        on window_values.period_days = kpi_windows.period_days

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
        max(case when comparison = 'previous' and is_measured then kpi_value end) as previous_value
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
