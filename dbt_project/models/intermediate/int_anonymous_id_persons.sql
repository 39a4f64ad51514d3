{#-
    The person of every anonymous id that was ever linked to a user: the user id of its latest
    identified event (in event order). Retroactive: it applies to the anonymous id's whole
    history. Anonymous ids missing here are their own person.
-#}

with

identified_events as (

    select * from {{ ref('stg_events') }}
    where user_id is not null and not is_bot

),

ranked as (

    select
        tenant_id,
        project_id,
        anonymous_id,
        user_id,
        row_number() over (
            partition by tenant_id, project_id, anonymous_id
            order by event_time desc, received_at desc, message_id desc
        ) as recency_rank,
    from identified_events

),

persons as (

    select
        tenant_id,
        project_id,
        anonymous_id,
        user_id as person_id,
    from ranked
    where recency_rank = 1

)

select * from persons
