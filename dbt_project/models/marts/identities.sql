{#-
    Every link ever seen between an anonymous id and a user id, and whether it decides the
    anonymous id's person today.
-#}

with

links as (

    select * from {{ ref('int_identity_links') }}

),

persons as (

    select * from {{ ref('int_anonymous_id_persons') }}

),

final as (

    select
        links.tenant_id,
        links.project_id,
        links.anonymous_id,
        links.user_id,
        links.first_linked_at,
        links.last_linked_at,
        links.link_source,
        links.link_event_count,
        links.user_id = persons.person_id as is_current_person
    from links
    inner join persons
        on links.tenant_id = persons.tenant_id
        and links.project_id = persons.project_id
        and links.anonymous_id = persons.anonymous_id

)

select * from final
