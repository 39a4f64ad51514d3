{#-
    The session of every non-bot event, and the sessionization state: one narrow row per event
    (keys, ordering columns, session key and start), no event attributes.

    Session, per tenant/project/anonymous_id and client session id (a sessionization
    partition): the client session_id when present; otherwise a new session starts when the gap
    to the previous event exceeds session_timeout_minutes (exactly the timeout continues). Either
    kind is split every session_max_hours from its start (the gap session's start). Events are
    ordered by event time, then received_at, then message_id.

    Incremental (strategy replace_scope, scope rederived_events): the events of the window's
    arrival days touch their partitions (with the places the window's messages held before, for
    re-delivered days and duplicates that now win elsewhere). Each touched partition is
    re-sessionized from the start of its gap session that holds the first touched event
    (`rederived_from`, from the stored `gap_session_start`, or that event itself when it comes
    first): no event before it can join a later session, so only the events from there on are
    read and replaced. Rows the run replaced with a different place or session stay, as
    superseded rows, so that every mart of the same window knows what changed where.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='replace_scope',
        scope='rederived_events',
        on_schema_change='fail',
    )
}}

{%- set event_order = 'event_time, received_at, message_id' %}
{%- set partition_columns = 'tenant_id, project_id, anonymous_id, session_partition' %}

with

events as (

    select
        tenant_id,
        project_id,
        anonymous_id,
        session_id,
        {{ session_partition('session_id') }} as session_partition,
        message_id,
        event_time,
        received_at,
        _landing_date
    from {{ ref('stg_events') }}
    where not is_bot

),

{% if is_windowed_run() %}

previous as (

    select * from {{ this }}
    where not is_superseded

),

arrived as (

    select * from events
    where {{ arrived_in_window('_landing_date') }}

),

previously_arrived as (

    select * from previous
    where {{ arrived_in_window('_landing_date') }}

),

{#-
    Every place the window changes: its events as they are now; what its arrival days held
    before, and where those events are now (a re-delivered day may drop an event, or lose a
    duplicate to another day); and where the window's events were before (a duplicate that now
    wins from this day).
-#}
touched as (

    select tenant_id, project_id, anonymous_id, session_partition, event_time
    from arrived
    union all
    select tenant_id, project_id, anonymous_id, session_partition, event_time
    from previously_arrived
    union all
    select
        events.tenant_id,
        events.project_id,
        events.anonymous_id,
        events.session_partition,
        events.event_time
    from events
    inner join previously_arrived
        on events.tenant_id = previously_arrived.tenant_id
        and events.message_id = previously_arrived.message_id
    union all
    select
        previous.tenant_id,
        previous.project_id,
        previous.anonymous_id,
        previous.session_partition,
        previous.event_time
    from previous
    inner join arrived
        on previous.tenant_id = arrived.tenant_id
        and previous.message_id = arrived.message_id

),

first_touches as (

    select
        {{ partition_columns }},
        min(event_time) as first_touched_at
    from touched
    group by {{ partition_columns }}

),

{#-
    The latest gap session start at or before the first touched event: the start of the
    session it joins or follows.
-#}
rederived as (

    select
        first_touches.tenant_id,
        first_touches.project_id,
        first_touches.anonymous_id,
        first_touches.session_partition,
        coalesce(
            max(previous.gap_session_start),
            first_touches.first_touched_at
        ) as rederived_from
    from first_touches
    left join previous
        on first_touches.tenant_id = previous.tenant_id
        and first_touches.project_id = previous.project_id
        and first_touches.anonymous_id = previous.anonymous_id
        and first_touches.session_partition = previous.session_partition
        and previous.gap_session_start <= first_touches.first_touched_at
    group by
        first_touches.tenant_id,
        first_touches.project_id,
        first_touches.anonymous_id,
        first_touches.session_partition,
        first_touches.first_touched_at

),

events_to_sessionize as (

    select
        events.*,
        rederived.rederived_from
    from events
    inner join rederived
        on events.tenant_id = rederived.tenant_id
        and events.project_id = rederived.project_id
        and events.anonymous_id = rederived.anonymous_id
        and events.session_partition = rederived.session_partition
        and events.event_time >= rederived.rederived_from

),

{% else %}

events_to_sessionize as (

    select
        *,
        cast(null as timestamp) as rederived_from
    from events

),

{% endif %}

with_previous as (

    select
        *,
        lag(event_time) over (
            partition by {{ partition_columns }}
            order by {{ event_order }}
        ) as previous_event_time
    from events_to_sessionize

),

with_session_start_flag as (

    select
        *,
        previous_event_time is null
            or (
                session_id is null
                and event_time > {{ add_minutes('previous_event_time', var('session_timeout_minutes')) }}
            ) as starts_gap_session
    from with_previous

),

{#-
    In event order, a gap session's number counts the session starts so far, and its start is
    the event time of the latest of them.
-#}
with_gap_session_start as (

    select
        *,
        count(case when starts_gap_session then 1 end) over session_order as gap_session_number,
        max(case when starts_gap_session then event_time end) over session_order
            as gap_session_start
    from with_session_start_flag
    window session_order as (
        partition by {{ partition_columns }}
        order by {{ event_order }}
        rows between unbounded preceding and current row
    )

),

with_split as (

    select
        *,
        floor(
            {{ seconds_between('gap_session_start', 'event_time') }}
            / ({{ var('session_max_hours') }} * 3600)
        ) as split_number
    from with_gap_session_start

),

sessionized as (

    select
        tenant_id,
        project_id,
        anonymous_id,
        session_id,
        session_partition,
        message_id,
        event_time,
        received_at,
        _landing_date,
        {{ hash_key(['tenant_id', 'project_id', 'anonymous_id', 'session_first_message_id']) }}
            as session_key,
        session_start,
        gap_session_start,
        rederived_from
    from (
        select
            *,
            first_value(message_id) over session_piece as session_first_message_id,
            first_value(event_time) over session_piece as session_start
        from with_split
        window session_piece as (
            partition by {{ partition_columns }}, gap_session_number, split_number
            order by {{ event_order }}
        )
    )

),

{% if is_windowed_run() %}

{#-
    Changed: an event new here, or in another place or session than before (or already
    changed by an earlier run of this window, whose marts may not have seen it).
-#}
final as (

    select
        sessionized.*,
        {{ window_label() }} as rederived_for,
        previous.message_id is null
            or previous.session_partition != sessionized.session_partition
            or previous.anonymous_id != sessionized.anonymous_id
            or previous.project_id != sessionized.project_id
            or previous.event_time != sessionized.event_time
            or previous.session_key != sessionized.session_key
            or previous.session_start != sessionized.session_start
            or (previous.rederived_for = {{ window_label() }} and previous.is_changed)
            as is_changed,
        false as is_superseded
    from sessionized
    left join previous
        on sessionized.tenant_id = previous.tenant_id
        and sessionized.message_id = previous.message_id

),

{#- The rows this run replaces that did not come back as they were. -#}
superseded as (

    select
        previous.tenant_id,
        previous.project_id,
        previous.anonymous_id,
        previous.session_id,
        previous.session_partition,
        previous.message_id,
        previous.event_time,
        previous.received_at,
        previous._landing_date,
        previous.session_key,
        previous.session_start,
        previous.gap_session_start,
        rederived.rederived_from,
        {{ window_label() }} as rederived_for,
        false as is_changed,
        true as is_superseded
    from previous
    inner join rederived
        on previous.tenant_id = rederived.tenant_id
        and previous.project_id = rederived.project_id
        and previous.anonymous_id = rederived.anonymous_id
        and previous.session_partition = rederived.session_partition
        and previous.event_time >= rederived.rederived_from
    left join final
        on previous.tenant_id = final.tenant_id
        and previous.message_id = final.message_id
        and previous.project_id = final.project_id
        and previous.anonymous_id = final.anonymous_id
        and previous.session_partition = final.session_partition
        and previous.event_time = final.event_time
        and previous.session_key = final.session_key
        and previous.session_start = final.session_start
    where final.message_id is null

)

select * from final
union all
select * from superseded

{% else %}

final as (

    select
        *,
        {{ window_label() }} as rederived_for,
        true as is_changed,
        false as is_superseded
    from sessionized

)

select * from final

{% endif %}
