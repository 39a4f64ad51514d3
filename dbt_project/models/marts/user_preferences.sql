with

current_preferences as (

    select
        tenant_id,
        project_id,
        person_id,
        preference_name,
        preference_value,
        valid_from
    from {{ ref('user_preferences_history') }}
    where is_current

),

pivoted as (

    select
        tenant_id,
        project_id,
        person_id,
        {%- for preference in preference_names() %}
        max(case when preference_name = '{{ preference }}' then preference_value end) as {{ preference }},
        {%- endfor %}
        max(valid_from) as last_changed_at
    from current_preferences
    group by
        tenant_id,
        project_id,
        person_id

)

select
    tenant_id,
    project_id,
    person_id,
    {%- for preference in preference_names() %}
    {{ preference }},
    {%- endfor %}
    last_changed_at
from pivoted
