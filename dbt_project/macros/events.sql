{#-
    The non-bot events of `events` (stg_events, or rows of it with its columns) with their
    person: the latest user linked to the event's anonymous id (int_anonymous_id_persons), else
    the anonymous id. int_events gives every event its person this way; a model that needs no
    session reads its events here, which saves joining every event to its session. `live`: the
    condition that keeps the events of the warehouse among the rows of `events`.
-#}
{% macro events_with_persons(events, live='not events.is_bot') -%}
    select
        events.*,
        coalesce(persons.person_id, events.anonymous_id) as person_id
    from {{ events }} as events
    left join {{ ref('int_anonymous_id_persons') }} as persons
        on events.tenant_id = persons.tenant_id
        and events.project_id = persons.project_id
        and events.anonymous_id = persons.anonymous_id
    where {{ live }}
{%- endmacro %}

{#-
    Every event of the warehouse (the live rows of int_event_sessions: keys, order, event name)
    with its person, for a model that needs no other column of the event: these narrow rows
    cost less to read than staging every raw event again.
-#}
{% macro event_persons() -%}
    {{ events_with_persons(ref('int_event_sessions'), live='not events.is_superseded') }}
{%- endmacro %}

{#-
    Some live events of the warehouse, the narrow rows of int_event_sessions (keys, order, event
    name, session), with their person: for a model that reads the events of a few names and
    stages what else it needs by key. `join` (a join to `event_sessions`, e.g. to a relation of
    names, which DuckDB runs on the table's scan) and `condition` choose the events.
-#}
{% macro event_session_persons(join='', condition='true') -%}
    {%- set event_sessions -%}
    (
        select
            event_sessions.tenant_id,
            event_sessions.project_id,
            event_sessions.anonymous_id,
            event_sessions.message_id,
            event_sessions.event_name,
            event_sessions.event_time,
            event_sessions.received_at,
            event_sessions.session_key
        from {{ ref('int_event_sessions') }} as event_sessions
        {{ join }}
        where not event_sessions.is_superseded
            and {{ condition }}
    )
    {%- endset -%}
    {{ events_with_persons(event_sessions, live='true') }}
{%- endmacro %}

{#-
    The non-bot events of `staged` (stg_events, or staged rows of the raw table) with their
    person and their session: the rows of int_events. A windowed run of a session-level model
    reads the events it re-derives this way (`events_to_rederive`).
-#}
{% macro sessionized_events(staged) -%}
    select
        events.*,
        event_sessions.session_key
    from ({{ events_with_persons(staged) }}) as events
    inner join {{ ref('int_event_sessions') }} as event_sessions
        on events.tenant_id = event_sessions.tenant_id
        and events.message_id = event_sessions.message_id
    where not event_sessions.is_superseded
{%- endmacro %}
