{#-
    Every link between an anonymous id and a user id: an identify call, or any other event that
    carries both. Bots never link.
-#}

with

identified_events as (

    select * from {{ ref('stg_events') }}
    where user_id is not null and not is_bot

),

links as (

    select
        tenant_id,
        project_id,
        anonymous_id,
        user_id,
        min(event_time) as first_linked_at,
        max(event_time) as last_linked_at,
        case when bool_or(event_type = 'identify') then 'identify' else 'event' end as link_source,
        count(*) as link_event_count
    from identified_events
    group by tenant_id, project_id, anonymous_id, user_id

)

select * from links
