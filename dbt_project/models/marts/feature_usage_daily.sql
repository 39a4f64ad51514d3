with

feature_events as (

    select
        tenant_id,
        project_id,
        person_id,
        event_time,
        properties
    from ({{ events_with_persons(ref('stg_events')) }}) as events
    where event_name = 'feature_used'

),

parsed as (

    select
        tenant_id,
        project_id,
        coalesce({{ json_get_string('properties', '$.feature') }}, '(not set)') as feature,
        cast(event_time as date) as usage_date,
        person_id,
        case
            when {{ json_get_double('properties', '$.duration_ms') }} >= 0
                then {{ json_get_double('properties', '$.duration_ms') }}
        end as duration_ms,
        case lower({{ json_get_string('properties', '$.success') }})
            when 'true' then 1
            when 'false' then 0
        end as success_flag
    from feature_events

),

aggregated as (

    select
        tenant_id,
        project_id,
        feature,
        usage_date,
        count(*) as usage_count,
        count(distinct person_id) as unique_users,
        count(case when success_flag = 1 then 1 end) as success_count,
        count(success_flag) as outcome_count,
        {{ fixed_point_avg('duration_ms') }} as avg_duration_ms,
        avg(cast(success_flag as double)) as success_rate
    from parsed
    group by
        tenant_id,
        project_id,
        feature,
        usage_date

)

select
    tenant_id,
    project_id,
    feature,
    usage_date,
    usage_count,
    unique_users,
    success_count,
    outcome_count,
    avg_duration_ms,
    success_rate
from aggregated
