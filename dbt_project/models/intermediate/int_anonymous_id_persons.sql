{#-
    The person of every anonymous id that was ever linked to a user: the user id of its latest
    identified event (in event order). Retroactive: it applies to the anonymous id's whole
    history. Anonymous ids missing here are their own person.

    Incremental (strategy replace_scope, scope all): a small table recomputed whole, compared
    with what it held, so that a login marks the anonymous ids whose person it changed
    (`changed_for` the window, with the `previous_person_id`); the person-level marts of the
    window re-derive exactly those persons, and no event is rewritten.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='replace_scope',
        scope='all',
        on_schema_change='fail',
    )
}}

with

{#
    The latest link's user: the latest identified event of an anonymous id is the latest event
    of one of its links.
#}
persons as (

    select
        tenant_id,
        project_id,
        anonymous_id,
        {{ last_by('user_id', ['last_linked_at', 'last_link_received_at', 'last_link_message_id']) }} as person_id
    from {{ ref('int_identity_links') }}
    group by tenant_id, project_id, anonymous_id

),

{% if is_windowed_run() %}

final as (

    select
        persons.tenant_id,
        persons.project_id,
        persons.anonymous_id,
        persons.person_id,
        case
            when previous.person_id = persons.person_id then previous.previous_person_id
            else coalesce(previous.person_id, persons.anonymous_id)
        end as previous_person_id,
        case
            when previous.person_id = persons.person_id then previous.changed_for
            else {{ window_label() }}
        end as changed_for
    from persons
    left join {{ this }} as previous
        on persons.tenant_id = previous.tenant_id
        and persons.project_id = previous.project_id
        and persons.anonymous_id = previous.anonymous_id

)

{% else %}

final as (

    select
        tenant_id,
        project_id,
        anonymous_id,
        person_id,
        cast(null as string) as previous_person_id,
        {{ whole_build_label() }} as changed_for
    from persons

)

{% endif %}

select * from final
