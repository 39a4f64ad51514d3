{#-
    Funnel attempts, one row per step an attempt reached (ACTIVE funnels, persons, bots excluded).

    For each person and funnel, the events the funnel reads (its steps' and exclusions' events)
    are walked in event order (event time, received_at, message_id) by a fold, one event at a
    time, as the spec states the rules; no recursion, and the fold is one dialect macro
    (`fold_list`: DuckDB's list_reduce, Spark's aggregate).
    - An attempt is open from its first event until it completes, or while events are at most
      its window end (step 1's time plus the window, inclusive) when it does not. An event that
      can start an attempt (a step-1 event; any step's event in any_order mode) starts one when
      no attempt is open; inside an open attempt it does not restart it.
    - Inside an open attempt an event fills the next step when its name is that step's
      (ordered), when it is moreover the person's very next event after the previous step
      (strict: positions among all the person's events), or fills the first unfilled step of
      its name (any_order). An event fills at most one step of one attempt, so a repeated step
      name needs an event per step. The steps filled are bits of an integer (bit 0: step 1).
    - An exclusion event inside an open attempt ends its progress: it reaches no further step
      and stays open until its window is over.
    The breakdown value comes from the step-1 event: a column of its session, or a property.

    Incremental (strategy replace_scope, scope rewalked_funnel_attempts): a windowed run walks
    again, for each person whose days the window changed and each funnel, the events from the
    first step of the last attempt that started before the person's first changed day (the
    walk goes on from there with the attempts before it as they were), else all the person's
    events, and replaces that attempt and those after it.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='replace_scope',
        scope='rewalked_funnel_attempts',
        change_keys=['tenant_id', 'project_id', 'funnel_id', 'person_id'],
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('int_event_sessions') }}
-- depends_on: {{ ref('int_anonymous_id_persons') }}

{%- set session_breakdowns = funnel_session_breakdowns() %}
{%- set property_starts -%}
    select starts.tenant_id, starts.start_message_id as message_id
    from attempt_steps_with_start as starts
    inner join funnels
        on starts.funnel_id = funnels.funnel_id
    where starts.step_number = 1
        and funnels.breakdown like 'property:%'
{%- endset %}

with

funnel_steps as (

    select
        funnel_id,
        order_mode,
        conversion_window_minutes,
        exclusion_events,
        breakdown,
        step_number,
        step_event_name,
        step_count
    from {{ ref('funnel_steps') }}
    where status = 'ACTIVE'

),

funnels as (

    select distinct
        funnel_id,
        order_mode,
        conversion_window_minutes,
        exclusion_events,
        breakdown,
        step_count
    from funnel_steps

),

funnels_with_exclusions as (

    select
        funnel_id,
        exclusion_events
    from funnels
    where exclusion_events is not null

),

exclusions as (

    {{ split_into_rows('funnels_with_exclusions', ['funnel_id'], 'exclusion_events', '|') }}

),

step_names as (

    select
        funnel_id,
        step_event_name as event_name,
        cast(sum(power(2, step_number - 1)) as bigint) as step_bits
    from funnel_steps
    group by
        funnel_id,
        step_event_name

),

{#-
    Every event name a funnel reads: its steps', with a bit per step the name fills (bit 0 for
    step 1, ...), and its exclusions'.
-#}
funnel_event_names as (

    select
        step_names.funnel_id,
        step_names.event_name,
        step_names.step_bits,
        false as is_exclusion
    from step_names

    union all

    select distinct
        exclusions.funnel_id,
        exclusions.item as event_name,
        cast(0 as bigint) as step_bits,
        true as is_exclusion
    from exclusions
    where exclusions.item <> ''

),
{%- if is_windowed_run() %}

{#- Per changed person and funnel, where the walk starts again (`rewalked_funnel_attempts`). #}
rewalks as (

    select
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        first_attempt_number,
        rewalked_from,
        rewalked_from_received_at,
        rewalked_from_message_id
    from ({{ scope_keys('rewalked_funnel_attempts') }}) as rewalks

),
{%- endif %}

{#-
    The events the funnels read, from the narrow rows of int_event_sessions (keys, order, name,
    session): an inner join to the names, which DuckDB runs on the table's scan, keeps only
    them before their person is joined. No event's staged columns: the one property a
    breakdown may read is looked up for the attempts' first steps alone (`start_properties`).
-#}
events as (

    select
        tenant_id,
        project_id,
        person_id,
        message_id,
        event_name,
        event_time,
        received_at,
        session_key
    from (
        {{ event_session_persons(
            join='inner join (select distinct event_name from funnel_event_names) as names
            on event_sessions.event_name = names.event_name'
        ) }}
    ) as events
    {%- if is_windowed_run() %}
    where {{ keys_in('events', ['tenant_id', 'project_id', 'person_id'], 'select * from rewalks') }}
    {%- endif %}

),

funnel_events as (

    select
        events.tenant_id,
        events.project_id,
        events.person_id,
        funnels.funnel_id,
        funnels.order_mode,
        funnels.step_count,
        events.message_id,
        events.event_name,
        events.event_time,
        events.received_at,
        events.session_key,
        {{ add_minutes('events.event_time', 'funnels.conversion_window_minutes') }} as window_end,
        funnel_event_names.step_bits,
        funnel_event_names.is_exclusion,
        case
            when funnels.order_mode = 'any_order' then funnel_event_names.step_bits & -funnel_event_names.step_bits
            else funnel_event_names.step_bits & 1
        end as start_bit,
        {%- if is_windowed_run() %}
        rewalks.first_attempt_number
        {%- else %}
        1 as first_attempt_number
        {%- endif %}
    from events
    inner join funnel_event_names
        on events.event_name = funnel_event_names.event_name
    inner join funnels
        on funnel_event_names.funnel_id = funnels.funnel_id
    {%- if is_windowed_run() %}
    inner join rewalks
        on events.tenant_id = rewalks.tenant_id
        and events.project_id = rewalks.project_id
        and events.person_id = rewalks.person_id
        and funnels.funnel_id = rewalks.funnel_id
    {#- The events from the first step's event of the attempt walked again on, in walk order. #}
    where rewalks.rewalked_from is null
        or events.event_time > rewalks.rewalked_from
        or (
            events.event_time = rewalks.rewalked_from
            and (
                events.received_at > rewalks.rewalked_from_received_at
                or (
                    events.received_at = rewalks.rewalked_from_received_at
                    and events.message_id >= rewalks.rewalked_from_message_id
                )
            )
        )
    {%- endif %}

),

{#-
    Strict mode needs each event's position among all the person's events, not only those the
    funnel reads: taken from the narrow event-to-session table, for the persons who can start
    a strict attempt. The person of an event is that of its anonymous id, as in int_events.
-#}
strict_persons as (

    select distinct
        tenant_id,
        project_id,
        person_id
    from funnel_events
    where order_mode = 'strict'
        and start_bit <> 0

),

strict_event_positions as (

    select
        event_sessions.tenant_id,
        event_sessions.message_id,
        row_number() over (
            partition by event_sessions.tenant_id, event_sessions.project_id, strict_persons.person_id
            order by event_sessions.event_time, event_sessions.received_at, event_sessions.message_id
        ) as event_position
    from {{ ref('int_event_sessions') }} as event_sessions
    left join {{ ref('int_anonymous_id_persons') }} as persons
        on event_sessions.tenant_id = persons.tenant_id
        and event_sessions.project_id = persons.project_id
        and event_sessions.anonymous_id = persons.anonymous_id
    inner join strict_persons
        on event_sessions.tenant_id = strict_persons.tenant_id
        and event_sessions.project_id = strict_persons.project_id
        and coalesce(persons.person_id, event_sessions.anonymous_id) = strict_persons.person_id
    where not event_sessions.is_superseded

),

positioned_funnel_events as (

    select
        funnel_events.tenant_id,
        funnel_events.project_id,
        funnel_events.person_id,
        funnel_events.funnel_id,
        funnel_events.order_mode,
        funnel_events.step_count,
        funnel_events.message_id,
        funnel_events.event_name,
        funnel_events.event_time,
        funnel_events.received_at,
        funnel_events.session_key,
        funnel_events.window_end,
        funnel_events.step_bits,
        funnel_events.is_exclusion,
        funnel_events.start_bit,
        funnel_events.first_attempt_number,
        strict_event_positions.event_position
    from funnel_events
    left join strict_event_positions
        on funnel_events.order_mode = 'strict'
        and funnel_events.tenant_id = strict_event_positions.tenant_id
        and funnel_events.message_id = strict_event_positions.message_id

),

person_funnel_events as (

    select
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        order_mode,
        step_count,
        first_attempt_number,
        cast(power(2, step_count) - 1 as bigint) as all_steps,
        {{ ordered_list(
            record([
                'message_id', 'event_name', 'event_time', 'window_end', 'session_key',
                'step_bits', 'is_exclusion', 'start_bit', 'event_position',
            ]),
            'event_time, received_at, message_id',
        ) }} as funnel_events
    from positioned_funnel_events
    group by
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        order_mode,
        step_count,
        first_attempt_number

),

{#-
    The walk's state: the current attempt (its number, window end, a bit per definition step
    filled, whether an exclusion ended its progress, the position of its last step's event)
    and, for every event walked, the attempt and step it filled (step 0: none). It starts with
    no attempt open (every step filled) and the attempts before the first walked.
-#}
{%- set is_open -%}
    (walk.attempt_number > 0 and walk.filled_steps <> all_steps and event.event_time <= walk.window_end)
{%- endset %}
{%- set starts -%}
    (event.start_bit <> 0 and not {{ is_open }})
{%- endset %}
{#- The steps the event may fill: the next one (ordered, strict), or any unfilled one (any_order). -#}
{%- set fillable_steps -%}
    (event.step_bits & case when order_mode = 'any_order' then ~walk.filled_steps else walk.filled_steps + 1 end)
{%- endset %}
{%- set advances -%}
    ({{ fillable_steps }} <> 0 and not walk.stopped and {{ is_open }}
        and (order_mode <> 'strict' or event.event_position = walk.last_position + 1))
{%- endset %}
walks as (

    select
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        step_count,
        funnel_events,
        {{ fold_list(
            'funnel_events',
            named_record([
                ('attempt_number', 'cast(first_attempt_number - 1 as integer)'),
                ('window_end', 'cast(null as timestamp)'),
                ('filled_steps', 'all_steps'),
                ('stopped', 'false'),
                ('last_position', 'cast(null as bigint)'),
                ('event_steps', empty_list_of(named_record([
                    ('attempt_number', 'cast(0 as integer)'),
                    ('step_number', 'cast(0 as integer)'),
                ]))),
            ]),
            'walk',
            'event',
            'case when ' ~ starts ~ ' then ' ~ named_record([
                ('attempt_number', 'walk.attempt_number + 1'),
                ('window_end', 'event.window_end'),
                ('filled_steps', 'event.start_bit'),
                ('stopped', 'false'),
                ('last_position', 'event.event_position'),
                ('event_steps', append_to_list('walk.event_steps', named_record([
                    ('attempt_number', 'walk.attempt_number + 1'),
                    ('step_number', 'cast(1 as integer)'),
                ]))),
            ]) ~ ' when ' ~ advances ~ ' then ' ~ named_record([
                ('attempt_number', 'walk.attempt_number'),
                ('window_end', 'walk.window_end'),
                ('filled_steps', 'walk.filled_steps | (' ~ fillable_steps ~ ' & -' ~ fillable_steps ~ ')'),
                ('stopped', 'false'),
                ('last_position', 'event.event_position'),
                ('event_steps', append_to_list('walk.event_steps', named_record([
                    ('attempt_number', 'walk.attempt_number'),
                    ('step_number', 'cast(' ~ bit_count('walk.filled_steps') ~ ' + 1 as integer)'),
                ]))),
            ]) ~ ' else ' ~ named_record([
                ('attempt_number', 'walk.attempt_number'),
                ('window_end', 'walk.window_end'),
                ('filled_steps', 'walk.filled_steps'),
                ('stopped', 'walk.stopped or (event.is_exclusion and ' ~ is_open ~ ')'),
                ('last_position', 'walk.last_position'),
                ('event_steps', append_to_list('walk.event_steps', named_record([
                    ('attempt_number', 'walk.attempt_number'),
                    ('step_number', 'cast(0 as integer)'),
                ]))),
            ]) ~ ' end',
        ) }} as walk
    from person_funnel_events

),

walked_events as (

    select
        tenant_id,
        project_id,
        person_id,
        funnel_id,
        step_count,
        {{ explode_zipped('funnel_events', 'walks.walk.event_steps', 'event', 'event_step') }}
    from walks

),

attempt_steps as (

    select
        tenant_id,
        project_id,
        funnel_id,
        person_id,
        event_step.attempt_number,
        step_count,
        event_step.step_number,
        event.event_name as step_event_name,
        event.event_time as reached_at,
        event.message_id,
        event.window_end as window_end_if_started,
        event.session_key
    from walked_events
    where event_step.step_number > 0

),

attempt_steps_with_start as (

    select
        tenant_id,
        project_id,
        funnel_id,
        person_id,
        attempt_number,
        first_value(reached_at) over attempt as started_at,
        first_value(window_end_if_started) over attempt as window_end,
        step_count,
        step_number,
        step_event_name,
        reached_at,
        message_id,
        {#- lag takes no window frame on Spark, so not the named window. #}
        {{ seconds_between(
            'lag(reached_at) over (partition by tenant_id, project_id, funnel_id, person_id, attempt_number order by step_number)',
            'reached_at'
        ) }} as seconds_from_previous_step,
        first_value(session_key) over attempt as start_session_key,
        first_value(message_id) over attempt as start_message_id
    from attempt_steps
    window attempt as (
        partition by tenant_id, project_id, funnel_id, person_id, attempt_number
        order by step_number
        rows between unbounded preceding and current row
    )

),

{#-
    The properties of the attempts' first step events, for the funnels broken down by a property:
    looked up by key in the raw table (staged as stg_events stages them), only for those events.
    With no such funnel active the key list is empty and DuckDB stops the raw table's scan at
    its first vector of rows.
-#}
start_properties as (

    select
        raw_events.tenant_id,
        raw_events.message_id,
        {{ staged_properties('raw_events.properties') }} as properties
    from {{ source('raw', 'events') }} as raw_events
    where {{ keys_in('raw_events', ['tenant_id', 'message_id'], property_starts) }}

),

sessions as (

    select
        session_key,
        {{ session_breakdowns | join(',\n        ') }}
    from {{ ref('sessions') }}

),

final as (

    select
        attempt_steps_with_start.tenant_id,
        attempt_steps_with_start.project_id,
        attempt_steps_with_start.funnel_id,
        attempt_steps_with_start.person_id,
        attempt_steps_with_start.attempt_number,
        attempt_steps_with_start.started_at,
        attempt_steps_with_start.window_end,
        attempt_steps_with_start.step_count,
        attempt_steps_with_start.step_number,
        attempt_steps_with_start.step_event_name,
        attempt_steps_with_start.reached_at,
        attempt_steps_with_start.message_id,
        attempt_steps_with_start.seconds_from_previous_step,
        case funnels.breakdown
            {%- for column in session_breakdowns %}
            when '{{ column }}' then sessions.{{ column }}
            {%- endfor %}
            else case
                when funnels.breakdown like 'property:%'
                    then {{ json_get_string_at('start_properties.properties', "substr(funnels.breakdown, 10)") }}
            end
        end as breakdown_value
    from attempt_steps_with_start
    inner join funnels
        on attempt_steps_with_start.funnel_id = funnels.funnel_id
    left join sessions
        on attempt_steps_with_start.start_session_key = sessions.session_key
    left join start_properties
        on attempt_steps_with_start.tenant_id = start_properties.tenant_id
        and attempt_steps_with_start.start_message_id = start_properties.message_id

)

select
    tenant_id,
    project_id,
    funnel_id,
    person_id,
    attempt_number,
    started_at,
    window_end,
    step_count,
    step_number,
    step_event_name,
    reached_at,
    message_id,
    seconds_from_previous_step,
    breakdown_value
from final
