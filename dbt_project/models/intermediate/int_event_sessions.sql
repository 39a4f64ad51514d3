{#-
    The session of every non-bot event, and the sessionization state: one narrow row per event
    (keys, event name, ordering columns, session key and start), no other event attribute. The
    marts that order or count a session's events (page_views, sessions) read these rows and
    join staged columns back only to the events they need them of.

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
        partition_by=spark_partition('_landing_date'),
        incremental_strategy='replace_scope',
        scope='rederived_events',
        on_schema_change='fail',
    )
}}

{%- set event_order = 'event_time, received_at, message_id' %}
{%- set partition_columns = 'tenant_id, project_id, anonymous_id, session_partition' %}
{%- set replaced_columns = [
    'tenant_id', 'project_id', 'anonymous_id', 'session_id', 'session_partition', 'message_id',
    'event_name', 'event_time', 'received_at', '_landing_date', 'session_key', 'session_start',
    'gap_session_start',
] %}
{%- set output_columns = replaced_columns + ['rederived_from'] %}

{%- set event_columns -%}
        tenant_id,
        project_id,
        anonymous_id,
        session_id,
        {{ session_partition('session_id') }} as session_partition,
        message_id,
        event_name,
        event_time,
        received_at,
        _landing_date
{%- endset %}

{#-
    Large inputs (the events, the table's previous rows) are read where they are used rather
    than through a CTE used several times, which DuckDB would materialize whole.
-#}
with

{% if is_windowed_run() %}

{#-
    The partitions the window touches and from when each is re-derived: worked out once, into
    the model's scope table (`rederived_event_partitions`, `scope_keys` in incremental.sql).
-#}
rederived as (

    {{ scope_keys('rederived_events') }}

),

events_to_sessionize as (

    select
        events.*,
        rederived.rederived_from
    from (
        select {{ event_columns }}
        from {{ ref('stg_events') }}
        where not is_bot
    ) as events
    inner join rederived
        on events.tenant_id = rederived.tenant_id
        and events.project_id = rederived.project_id
        and events.anonymous_id = rederived.anonymous_id
        and events.session_partition = rederived.session_partition
    where events.event_time >= rederived.rederived_from

),

{% else %}

events_to_sessionize as (

    select
        {{ event_columns }},
        cast(null as timestamp) as rederived_from
    from {{ ref('stg_events') }}
    where not is_bot

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
        event_name,
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

{#- The live rows this run replaces: those of each re-derived partition from rederived_from. -#}
replaced as (

    select
        previous.*,
        rederived.rederived_from as rederivation_start
    from {{ this }} as previous
    inner join rederived
        on previous.tenant_id = rederived.tenant_id
        and previous.project_id = rederived.project_id
        and previous.anonymous_id = rederived.anonymous_id
        and previous.session_partition = rederived.session_partition
    where not previous.is_superseded
        and previous.event_time >= rederived.rederived_from

),

{#-
    Each event's new row beside its replaced one (every event already here that the run
    re-derives is among the replaced rows: its partition is touched at or before it).
-#}
compared as (

    select
        sessionized.*,
        replaced.message_id is null
            or replaced.session_partition != sessionized.session_partition
            or replaced.anonymous_id != sessionized.anonymous_id
            or replaced.project_id != sessionized.project_id
            or replaced.event_time != sessionized.event_time
            or replaced.session_key != sessionized.session_key
            or replaced.session_start != sessionized.session_start
            as is_moved,
        {%- for column in replaced_columns %}
        replaced.{{ column }} as replaced_{{ column }},
        {%- endfor %}
        replaced.rederived_for as replaced_rederived_for,
        replaced.is_changed as replaced_is_changed,
        replaced.rederivation_start as replaced_rederivation_start
    from sessionized
    full outer join replaced
        on sessionized.tenant_id = replaced.tenant_id
        and sessionized.message_id = replaced.message_id

),

{#-
    Each compared event gives its new row, and a superseded row for a replaced row that did not
    come back as it was (one pass over `compared`: an engine that inlines CTEs, such as Spark,
    would derive the sessions again for a second reference). Changed: an event new here, or in
    another place or session than before (or already changed by an earlier run of this window,
    whose marts may not have seen it).
-#}
final as (

    select
        {%- for column in replaced_columns %}
        case when kind.is_superseded then replaced_{{ column }} else {{ column }} end
            as {{ column }},
        {%- endfor %}
        case when kind.is_superseded then replaced_rederivation_start else rederived_from end
            as rederived_from,
        {{ window_label() }} as rederived_for,
        case
            when kind.is_superseded then false
            else is_moved
                or (replaced_rederived_for = {{ window_label() }} and replaced_is_changed)
        end as is_changed,
        kind.is_superseded
    from compared
    cross join (select false as is_superseded union all select true) as kind
    where
        (not kind.is_superseded and message_id is not null)
        or (
            kind.is_superseded
            and replaced_message_id is not null
            and (message_id is null or is_moved)
        )

)

select * from final

{% else %}

{#-
    A build of every event is no windowed run, whatever window it was given: its rows carry
    `whole_build_label()`, so that no later model takes them for what a window re-derived.
-#}
final as (

    select
        *,
        {{ whole_build_label() }} as rederived_for,
        true as is_changed,
        false as is_superseded
    from sessionized

)

select * from final

{% endif %}
