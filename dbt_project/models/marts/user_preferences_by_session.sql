with

preference_updates as (

    select * from {{ ref('int_preference_updates') }}

),

ranked_updates as (

    select
        tenant_id,
        project_id,
        person_id,
        session_key,
        event_time,
        preference_name,
        preference_value,
        row_number() over (
            partition by session_key, preference_name
            order by event_time desc, received_at desc, message_id desc
        ) as recency_rank
    from preference_updates

),

pivoted as (

    select
        tenant_id,
        project_id,
        person_id,
        session_key,
        {%- for preference in preference_names() %}
        max(case when preference_name = '{{ preference }}' then preference_value end) as {{ preference }},
        {%- endfor %}
        max(event_time) as last_updated_at
    from ranked_updates
    where recency_rank = 1
    group by
        tenant_id,
        project_id,
        person_id,
        session_key

)

select
    tenant_id,
    project_id,
    person_id,
    session_key,
    {%- for preference in preference_names() %}
    {{ preference }},
    {%- endfor %}
    last_updated_at
from pivoted
