{#-
    Per session in which the person set a preference, the latest value it set of each.

    Incremental (strategy replace_scope, scope changed_persons): a run replaces the sessions of
    the persons whose days the window changed.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='replace_scope',
        scope='changed_persons',
        change_keys=['tenant_id', 'project_id', 'person_id'],
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('int_event_sessions') }}
-- depends_on: {{ ref('int_anonymous_id_persons') }}

with

{{ changed_persons_cte() }}

preference_updates as (

    select * from {{ ref('int_preference_updates') }}
    {{- for_changed_persons() }}

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
