{#-
    Deployment events are operational, not person activity, so they are read from stg_events
    (bot-flagged senders such as CI included).
-#}

{%- set statuses = ['pending', 'ready', 'failed', 'rolled_back'] %}

with

deployment_events as (

    select
        tenant_id,
        project_id,
        message_id,
        event_time,
        received_at,
        {{ json_get_string('properties', '$.deployment_id') }} as deployment_id,
        {{ json_get_string('properties', '$.version_id') }} as version_id,
        {{ json_get_string('properties', '$.provider') }} as provider,
        {{ json_get_string('properties', '$.deploy_url') }} as deploy_url,
        {{ json_get_string('properties', '$.status') }} as deployment_status,
        {{ json_get_string('properties', '$.rollback_of') }} as rollback_of
    from {{ ref('stg_events') }}
    where event_name = 'deployment'

),

identified as (

    select
        tenant_id,
        project_id,
        message_id,
        event_time,
        received_at,
        deployment_id,
        version_id,
        provider,
        deploy_url,
        deployment_status,
        rollback_of
    from deployment_events
    where deployment_id is not null

),

latest_values as (

    select
        tenant_id,
        project_id,
        deployment_id,
        event_time,
        received_at,
        message_id,
        deployment_status,
        {{ last_non_null('version_id') }} over deployment_history as version_id,
        {{ last_non_null('provider') }} over deployment_history as provider,
        {{ last_non_null('deploy_url') }} over deployment_history as deploy_url,
        {{ last_non_null('rollback_of') }} over deployment_history as rollback_of,
        {{ last_non_null('deployment_status') }} over deployment_history as latest_status,
        row_number() over (
            partition by tenant_id, project_id, deployment_id
            order by event_time desc, received_at desc, message_id desc
        ) as recency_rank
    from identified
    window deployment_history as (
        partition by tenant_id, project_id, deployment_id
        order by event_time, received_at, message_id
        rows between unbounded preceding and unbounded following
    )

),

status_times as (

    select
        tenant_id,
        project_id,
        deployment_id,
        count(*) as event_count,
        min(event_time) as first_event_at,
        max(event_time) as last_event_at,
        {%- for status in statuses %}
        min(case when deployment_status = '{{ status }}' then event_time end) as {{ status }}_at
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from identified
    group by
        tenant_id,
        project_id,
        deployment_id

),

deployments as (

    select
        latest_values.tenant_id,
        latest_values.project_id,
        latest_values.deployment_id,
        latest_values.version_id,
        latest_values.provider,
        latest_values.deploy_url,
        latest_values.latest_status,
        latest_values.rollback_of,
        status_times.event_count,
        status_times.first_event_at,
        status_times.last_event_at,
        {%- for status in statuses %}
        status_times.{{ status }}_at
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from latest_values
    inner join status_times
        on latest_values.tenant_id = status_times.tenant_id
        and latest_values.project_id = status_times.project_id
        and latest_values.deployment_id = status_times.deployment_id
    where latest_values.recency_rank = 1

),

rollbacks as (

    select
        tenant_id,
        project_id,
        rollback_of as rolled_back_deployment_id,
        deployment_id as rolled_back_by_deployment_id,
        row_number() over (
            partition by tenant_id, project_id, rollback_of
            order by first_event_at desc, deployment_id desc
        ) as recency_rank
    from deployments
    where rollback_of is not null

),

final as (

    select
        deployments.tenant_id,
        deployments.project_id,
        deployments.deployment_id,
        deployments.version_id,
        deployments.provider,
        deployments.deploy_url,
        deployments.latest_status,
        deployments.first_event_at,
        deployments.last_event_at,
        {%- for status in statuses %}
        deployments.{{ status }}_at,
        {%- endfor %}
        deployments.event_count,
        deployments.rollback_of,
        rollbacks.rolled_back_by_deployment_id,
        deployments.rollback_of is not null as is_rollback,
        coalesce(deployments.latest_status = 'rolled_back', false)
            or rollbacks.rolled_back_by_deployment_id is not null as is_rolled_back
    from deployments
    left join rollbacks
        on deployments.tenant_id = rollbacks.tenant_id
        and deployments.project_id = rollbacks.project_id
        and deployments.deployment_id = rollbacks.rolled_back_deployment_id
        and rollbacks.recency_rank = 1

)

select
    tenant_id,
    project_id,
    deployment_id,
    version_id,
    provider,
    deploy_url,
    latest_status,
    first_event_at,
    last_event_at,
    pending_at,
    ready_at,
    failed_at,
    rolled_back_at,
    event_count,
    rollback_of,
    rolled_back_by_deployment_id,
    is_rollback,
    is_rolled_back
from final
