{#-
    Every link between an anonymous id and a user id: an identify call, or any other event that
    carries both. Bots never link. The latest event of a link (in event order: event time,
    received_at, message_id) is kept whole, so that the latest link of an anonymous id, its
    person (int_anonymous_id_persons), is found among the links rather than the events.
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
        {#- The latest event: records compare field by field, in this order. #}
        max({{ record(['event_time', 'received_at', 'message_id']) }}) as last_link,
        case when bool_or(event_type = 'identify') then 'identify' else 'event' end as link_source,
        count(*) as link_event_count
    from identified_events
    group by tenant_id, project_id, anonymous_id, user_id

)

select
    tenant_id,
    project_id,
    anonymous_id,
    user_id,
    first_linked_at,
    last_link.event_time as last_linked_at,
    last_link.received_at as last_link_received_at,
    last_link.message_id as last_link_message_id,
    link_source,
    link_event_count
from links
