{#-
    The incremental window, and what a windowed run replaces.

    A run gets its window as vars `min_date` / `max_date`: arrival days (the `date=` folder a
    file landed in, `_landing_date`), half-open (`>= min_date and < max_date`); unset means no
    bound, so both unset is a full build. The Dagster assets pass it as the environment
    variables WAREHOUSE_MIN_DATE / WAREHOUSE_MAX_DATE instead (see `window_bound`).

    The unit of recomputation is the session (see the project's README, "Incremental runs"):
    `int_event_sessions` re-sessionizes each anonymous id touched by the window from its
    session before the first touched event onwards, and records what it re-derived; the marts
    read that record (`rederived_partitions`, `changed_event_positions`, `changed_persons`)
    and replace only the sessions, page views, hours, days and persons it names.
-#}

{#-
    One bound of the window (`name` is min_date or max_date): the var, else the environment
    variable WAREHOUSE_<NAME>, else none. The environment is read only when SQL is compiled for
    execution, never while parsing: dbt parses the whole project again when vars change, and
    the files that read an environment variable when it changes, so a window passed either way
    would make every run re-parse.
-#}
{% macro window_bound(name) -%}
    {%- set value = var(name) -%}
    {%- if value is none and execute -%}
        {%- set value = env_var('WAREHOUSE_' ~ (name | upper), '') or none -%}
    {%- endif -%}
    {{- return(value) -}}
{%- endmacro %}

{#- The half-open window filter on an arrival-date column (every row when unbounded). -#}
{% macro arrived_in_window(column='_landing_date') -%}
    {%- set min_date = window_bound('min_date') -%}
    {%- set max_date = window_bound('max_date') -%}
    {%- if min_date is none and max_date is none -%}
        true
    {%- else -%}
        {%- if min_date is not none -%}{{ column }} >= cast('{{ min_date }}' as date){%- endif -%}
        {%- if min_date is not none and max_date is not none %} and {% endif -%}
        {%- if max_date is not none -%}{{ column }} < cast('{{ max_date }}' as date){%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    What a data test with an `arrival_column` reads (the staging views, one row per raw row): in
    a run with a window, the rows that arrived in it, which are all a windowed run adds or
    changes there; rows of other days were tested when they arrived, and the landing checks
    guard the raw tables they come from. Else every row: a build of every day, a full refresh,
    or a build after a change of the project's code (which is always a full refresh).
-#}
{% macro rows_to_test(model, arrival_column) -%}
    {%- if tests_window_only(model, arrival_column) -%}
    (select * from {{ model }} where {{ arrived_in_window(arrival_column) }}) as rows_to_test
    {%- else -%}
    {{ model }}
    {%- endif -%}
{%- endmacro %}

{#-
    Whether a data test with an `arrival_column` tests only what arrived in the window
    (`rows_to_test`): in a run with a window that leaves rows of `model` out. A window that holds
    every row (the first build) tests them all at once: a unique test then groups the rows once
    instead of matching every key against every row.
-#}
{% macro tests_window_only(model, arrival_column) -%}
    {%- if not (arrival_column and has_window() and execute) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set outside -%}
        select count(*) from (
            select 1 from {{ model }} where not ({{ arrived_in_window(arrival_column) }}) limit 1
        ) as outside_the_window
    {%- endset -%}
    {{ return(run_query(outside).columns[0].values()[0] > 0) }}
{%- endmacro %}

{#-
    The rows of `model` a windowed run wrote, for a uniqueness test of `columns` that need not
    group every row again: a pair (key columns, select of the rows), or none to test every row.
    - With `label_column` (a column where a windowed run writes its `window_label()`, as
      int_event_sessions' rederived_for, and a build of every row `whole_build_label()`): the
      rows that carry this run's label; every row while all carry the whole build's (a build of
      every row, this run's included, and no windowed run since).
    - Else, on a mart that logs its changed keys (`change_keys`, `log_changed_keys`), whose keys
      are among `columns`, and that no run built whole since the log began: the logged keys.
    A duplicate among rows no run wrote was there, and tested, before.
-#}
{% macro rows_written_by_run(model, columns, label_column=none) -%}
    {%- if not (has_window() and execute) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if label_column -%}
        {%- set windowed_since_built -%}
            select count(*) from (
                select 1 from {{ model }} where {{ label_column }} <> {{ whole_build_label() }} limit 1
            ) as labelled
        {%- endset -%}
        {%- if run_query(windowed_since_built).columns[0].values()[0] == 0 -%}
            {{ return(none) }}
        {%- endif -%}
        {{ return((columns, 'select * from ' ~ model ~ ' where ' ~ label_column ~ ' = ' ~ window_label())) }}
    {%- endif -%}
    {%- if model.identifier is not defined or target.type != 'duckdb' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set log = changed_keys_log(model) -%}
    {%- set marker = rebuilt_marker(model) -%}
    {#- Read from the catalog, not dbt's cache of relations: the models of this run created the logs. -#}
    {%- set logs_query -%}
        select
            count(*) filter (where table_name = '{{ marker.identifier }}') as rebuilt,
            string_agg(column_name, ',' order by column_index) filter (where table_name = '{{ log.identifier }}') as keys
        from duckdb_columns()
        where database_name = '{{ log.database }}' and schema_name = '{{ log.schema }}'
            and table_name in ('{{ log.identifier }}', '{{ marker.identifier }}')
    {%- endset -%}
    {%- set logs = run_query(logs_query).rows[0] -%}
    {%- set keys = logs[1].split(',') if logs[1] else [] -%}
    {%- if logs[0] > 0 or not keys or keys | reject('in', columns) | list -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return((keys, 'select * from ' ~ log)) }}
{%- endmacro %}

{#-
    Whether this run replaces only what the window touched: an incremental run of an existing
    table with a window. Otherwise the model is built from all rows.
-#}
{% macro is_windowed_run() -%}
    {{ return(is_incremental() and has_window()) }}
{%- endmacro %}

{#- Whether the run has a window and is no full refresh, whatever the state of this model. -#}
{% macro has_window() -%}
    {%- set bounded = window_bound('min_date') is not none or window_bound('max_date') is not none -%}
    {{ return(bounded and not should_full_refresh()) }}
{%- endmacro %}

{#-
    What a windowed run writes beside the rows it re-derived (`rederived_for`, `changed_for`),
    so that every later model of the same build (in this invocation, or in a re-run after a
    failure) finds them: the build's label (var `build_label`, or the environment variable
    WAREHOUSE_BUILD_LABEL, which the Dagster step sets: a build after a failed one carries the
    failed one's label, so its marts also see what that one changed), else the window, e.g.
    '2025-03-01..2025-03-02'. A build of all rows writes `whole_build_label()`.
-#}
{% macro window_label() -%}
    {%- set label = window_bound('build_label') -%}
    {%- if label -%}
    '{{ label }}'
    {%- else -%}
    '{{ window_bound('min_date') or '' }}..{{ window_bound('max_date') or '' }}'
    {%- endif -%}
{%- endmacro %}

{#- What a build of all rows writes where a windowed run writes its `window_label()`. -#}
{% macro whole_build_label() -%}
    '..'
{%- endmacro %}

{#-
    The sessionization partition of an event or session: events are sessionized per tenant,
    project, anonymous id and client session id (none is its own partition). Client session
    ids are never empty (`stg_events` turns '' into null).
-#}
{% macro session_partition(session_id='session_id') -%}
    coalesce({{ session_id }}, '')
{%- endmacro %}

{#-
    tenant_id, project_id, anonymous_id, session_partition, rederived_from: the sessionization
    partitions a windowed run of `int_event_sessions` touches, and from when it re-derives each.

    Touched: every place the window changes: its events as they are now; what its arrival days
    held before, and where those events are now (a re-delivered day may drop an event, or lose
    a duplicate to another day); and where the window's events were before (a duplicate that
    now wins from this day). Each touched partition is re-derived from the latest gap session
    start at or before its first touched event (the start of the session that event joins or
    follows), else from that event. Read from int_event_sessions' scope table (`scope_keys`).
-#}
{% macro rederived_event_partitions() -%}
    {%- set event_columns -%}
        tenant_id,
        project_id,
        anonymous_id,
        {{ session_partition('session_id') }} as session_partition,
        message_id,
        event_time
    {%- endset -%}
    with

    arrived as (

        select {{ event_columns }}
        from {{ ref('stg_events') }}
        where not is_bot
            and {{ arrived_in_window('_landing_date') }}

    ),

    previously_arrived as (

        select * from {{ this }}
        where not is_superseded
            and {{ arrived_in_window('_landing_date') }}

    ),

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
            {{ session_partition('events.session_id') }} as session_partition,
            events.event_time
        from {{ ref('stg_events') }} as events
        inner join previously_arrived
            on events.tenant_id = previously_arrived.tenant_id
            and events.message_id = previously_arrived.message_id
        where not events.is_bot
        union all
        select
            previous.tenant_id,
            previous.project_id,
            previous.anonymous_id,
            previous.session_partition,
            previous.event_time
        from {{ this }} as previous
        inner join arrived
            on previous.tenant_id = arrived.tenant_id
            and previous.message_id = arrived.message_id
        where not previous.is_superseded

    ),

    first_touches as (

        select
            tenant_id,
            project_id,
            anonymous_id,
            session_partition,
            min(event_time) as first_touched_at
        from touched
        group by tenant_id, project_id, anonymous_id, session_partition

    )

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
    left join {{ this }} as previous
        on first_touches.tenant_id = previous.tenant_id
        and first_touches.project_id = previous.project_id
        and first_touches.anonymous_id = previous.anonymous_id
        and first_touches.session_partition = previous.session_partition
        and not previous.is_superseded
        and previous.gap_session_start <= first_touches.first_touched_at
    group by
        first_touches.tenant_id,
        first_touches.project_id,
        first_touches.anonymous_id,
        first_touches.session_partition,
        first_touches.first_touched_at
{%- endmacro %}

{#-
    tenant_id, project_id, anonymous_id, session_partition, rederived_from: every
    sessionization partition the window re-derived, and from which event time on. Every
    session of such a partition that starts at or after `rederived_from` (every event at or
    after it) was replaced; those before it are as they were. In a windowed run of sessions,
    page_views or int_page_view_metrics, read from their scope table (see `scope_keys`).
-#}
{% macro rederived_partitions() -%}
    {%- if config.get('scope') in [
        'rederived_sessions', 'rederived_page_views', 'rederived_page_view_metrics',
    ] -%}
        {{ scope_keys(config.get('scope')) }}
    {%- else -%}
        {{ rederived_partitions_query() }}
    {%- endif -%}
{%- endmacro %}

{% macro rederived_partitions_query() -%}
    select
        tenant_id,
        project_id,
        anonymous_id,
        session_partition,
        min(rederived_from) as rederived_from
    from {{ ref('int_event_sessions') }}
    where rederived_for = {{ window_label() }}
    group by tenant_id, project_id, anonymous_id, session_partition
{%- endmacro %}

{#-
    tenant_id, message_id: every event this window re-derived (its rows of int_event_sessions in
    the re-derived partitions from their rederived_from on, `rederived_rows`), live or
    superseded: the events a model of one row per event re-derives, or whose row goes (an event
    now elsewhere is re-derived there too: its new partition is touched). The rows there of
    other windows are left: a superseded one may be of an event that now lives outside them.
-#}
{% macro rederived_event_keys() -%}
    select rederived_event.tenant_id, rederived_event.message_id
    from ({{ rederived_rows(ref('int_event_sessions'), 'event_time') }}) as rederived_event
    where rederived_event.rederived_for = {{ window_label() }}
{%- endmacro %}

{#-
    tenant_id, project_id, anonymous_id, event_time, session_key, session_start: every event the
    window added, moved, removed or put in another session, at its new place and (for moved,
    removed and re-keyed events) at its old place.
-#}
{% macro changed_event_positions() -%}
    select
        tenant_id,
        project_id,
        anonymous_id,
        event_time,
        session_key,
        session_start
    from {{ ref('int_event_sessions') }}
    where rederived_for = {{ window_label() }}
        and (is_changed or is_superseded)
{%- endmacro %}

{#-
    tenant_id, project_id, anonymous_id, person_id, previous_person_id: every anonymous id whose
    person the window changed (a login, or a later login as another user).
-#}
{% macro changed_persons() -%}
    select
        tenant_id,
        project_id,
        anonymous_id,
        person_id,
        previous_person_id
    from {{ ref('int_anonymous_id_persons') }}
    where changed_for = {{ window_label() }}
{%- endmacro %}

{#-
    Custom incremental strategy `replace_scope`: delete the rows of the target that the run
    replaces, then insert the model's rows, in one transaction. The model names its scope in
    its config (`scope=`); `replaced_scope` turns it into a predicate on the target's rows.
    This is DuckDB's delete+insert of what would be, on an engine with only append and
    partition overwrite, the partitions the scope touches.

    A run without a window builds the model from all rows, so it replaces every row, whatever
    the model's scope: the same result as a full refresh, in the existing table.
-#}
{% macro get_incremental_replace_scope_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set scope = config.get('scope') if has_window() else 'all' -%}
    {%- set logged = has_window() and config.get('change_keys') -%}
    {%- if logged %}
    {{ log_changed_keys('target', target, replaced_scope(scope)) }};
    {%- endif %}
    delete from {{ target }} as target
    where {{ replaced_scope(scope) }};

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
    {%- if logged %};

    {{ log_changed_keys('new_rows', source) }}
    {%- endif %}
{%- endmacro %}

{#-
    What runs changed in a published mart, read by the publication to copy only those rows into
    its next version (orchestration/publishing.py). A mart that names its `change_keys`
    (columns that tell its rows apart; a coarser key only costs the publication more rows) logs
    in the `audit` schema:
    - `<mart>__changed_keys`: a windowed run appends the keys of every row it deletes and of
      every row it writes, in the transaction that changes the mart (`log_changed_keys`);
    - `<mart>__rebuilt`: a run that builds the mart whole (its first build, a full refresh, a
      run without a window) creates it (`mark_rebuilt`, a pre-hook of every model).
    The publication copies a mart whole when it is marked rebuilt or has no log, else the rows
    of the logged keys, and drops the logs it published. DuckDB only: a publication from Spark
    copies every mart whole.
-#}
{#- The log and the marker of the mart `mart` (a relation; the model being built by default). -#}
{% macro changed_keys_log(mart=none) -%}
    {%- set mart = mart or this -%}
    {{ return(mart.incorporate(path={'schema': 'audit', 'identifier': mart.identifier ~ '__changed_keys'})) }}
{%- endmacro %}

{% macro rebuilt_marker(mart=none) -%}
    {%- set mart = mart or this -%}
    {{ return(mart.incorporate(path={'schema': 'audit', 'identifier': mart.identifier ~ '__rebuilt'})) }}
{%- endmacro %}

{% macro log_changed_keys(alias, relation, where=none) -%}
    {%- set log = changed_keys_log() -%}
    {%- set keys = config.get('change_keys') -%}
    create schema if not exists {{ log.include(identifier=false) }};
    create table if not exists {{ log }} as
    select {{ keys | join(', ') }} from {{ relation }} where false;
    insert into {{ log }}
    select {% for key in keys %}{{ alias }}.{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ relation }} as {{ alias }}
    {%- if where is not none %}
    where {{ where }}
    {%- endif %}
{%- endmacro %}

{% macro mark_rebuilt() -%}
    {%- if execute and target.type == 'duckdb' and config.get('change_keys')
        and (not has_window() or should_full_refresh() or load_relation(this) is none) -%}
        {%- set marker = rebuilt_marker() -%}
        create schema if not exists {{ marker.include(identifier=false) }};
        create table if not exists {{ marker }} as select current_timestamp as marked_at
    {%- endif -%}
{%- endmacro %}

{#-
    The target's rows (alias `target`) that a run with scope `scope` replaces, found from the
    target and what the window changed, never from the run's new rows.
    - all: every row (a small table recomputed whole).
    - rederived_events: the live rows of each re-derived partition from its `rederived_from`
      on (superseded rows are kept: they tell the marts of this window what changed).
    - rederived_sessions: sessions (or page views) of the re-derived partitions from their
      `rederived_from` on, and every session (page view) of an anonymous id whose person changed.
    - rederived_page_view_metrics: the rows of the events `rederived_event_keys` gives
      (int_page_view_metrics holds no partition and no person).
    - changed_hours, changed_days: the hours or days of `changed_event_positions` (and of every
      event of an anonymous id whose person changed).
    - changed_persons: every row of a person whose rows the window changed.
    - changed_persons_since: the rows of such a person from the first day the window changed
      for them on (`changed_persons_since`; the model names its day column `since_column`).
    - rewalked_funnel_attempts: each changed person's attempts at each funnel from the one open
      before the window changed them on (`rewalked_funnel_attempts`).
-#}
{% macro replaced_scope(scope) -%}
    {%- if scope == 'all' -%}
        true
    {%- elif scope == 'rederived_events' -%}
        {%- set rederived_events -%}
            select previous.tenant_id, previous.message_id
            from {{ this }} as previous
            inner join ({{ scope_keys('rederived_events') }}) as rederived
                on previous.tenant_id = rederived.tenant_id
                and previous.project_id = rederived.project_id
                and previous.anonymous_id = rederived.anonymous_id
                and previous.session_partition = rederived.session_partition
            where not previous.is_superseded
                and previous.event_time >= rederived.rederived_from
        {%- endset -%}
        {{ keys_in('target', ['tenant_id', 'message_id'], rederived_events) }}
    {%- elif scope == 'rederived_sessions' -%}
        {{ keys_in('target', ['tenant_id', 'session_key'], rederived_rows(this, 'session_start')) }}
        or {{ has_changed_person('target') }}
    {%- elif scope == 'rederived_page_views' -%}
        {{ keys_in('target', ['tenant_id', 'message_id'], rederived_rows(this, 'viewed_at')) }}
        or {{ has_changed_person('target') }}
    {%- elif scope == 'rederived_page_view_metrics' -%}
        {{ keys_in('target', ['tenant_id', 'message_id'], rederived_event_keys()) }}
    {%- elif scope == 'changed_hours' -%}
        {{ keys_in('target', ['tenant_id', 'project_id', 'hour_start'], scope_keys('changed_hours')) }}
    {%- elif scope == 'changed_days' -%}
        {{ keys_in('target', ['tenant_id', 'project_id', 'view_date'], scope_keys('changed_days')) }}
    {%- elif scope == 'changed_persons' -%}
        {{ keys_in('target', ['tenant_id', 'project_id', 'person_id'], scope_keys('changed_persons')) }}
    {%- elif scope == 'changed_persons_since' -%}
        {%- set since = config.get('since_column') -%}
        {%- set replaced_days -%}
            select previous.tenant_id, previous.project_id, previous.person_id, previous.{{ since }}
            from {{ this }} as previous
            inner join ({{ scope_keys('changed_persons_since') }}) as changed
                on previous.tenant_id = changed.tenant_id
                and previous.project_id = changed.project_id
                and previous.person_id = changed.person_id
            where previous.{{ since }} >= changed.changed_from
        {%- endset -%}
        {{ keys_in('target', ['tenant_id', 'project_id', 'person_id', since], replaced_days) }}
    {%- elif scope == 'rewalked_funnel_attempts' -%}
        {%- set replaced_attempts -%}
            select
                previous.tenant_id,
                previous.project_id,
                previous.person_id,
                previous.funnel_id,
                previous.attempt_number
            from {{ this }} as previous
            inner join ({{ scope_keys('rewalked_funnel_attempts') }}) as rewalks
                on previous.tenant_id = rewalks.tenant_id
                and previous.project_id = rewalks.project_id
                and previous.person_id = rewalks.person_id
                and previous.funnel_id = rewalks.funnel_id
            where previous.attempt_number >= rewalks.first_attempt_number
        {%- endset -%}
        {{ keys_in(
            'target',
            ['tenant_id', 'project_id', 'person_id', 'funnel_id', 'attempt_number'],
            replaced_attempts,
        ) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error('unknown replace_scope scope: ' ~ scope) }}
    {%- endif -%}
{%- endmacro %}

{#-
    The keys of what a windowed run of a model replaces (`scope_keys(scope)`: for the scopes
    changed_hours, changed_days, changed_persons, changed_persons_since and
    rewalked_funnel_attempts `changed_hours()`, `changed_page_view_days()`,
    `changed_person_days()`, `changed_persons_since()` and `rewalked_funnel_attempts()`; for
    rederived_sessions, rederived_page_views and rederived_page_view_metrics the re-derived
    partitions; for rederived_events
    `rederived_event_partitions()`), worked out once per model and run: a
    pre-hook writes them to the table `<model>__dbt_scope` before the model's SQL runs
    (`create_scope_table`), the model's filters and the replacement read that table, and a
    post-hook drops it (`drop_scope_table`; on-run-start drops one that a stopped run left,
    `drop_leftover_tables`). Each reference to the query would otherwise evaluate it again
    (user_activity_daily's four times, each with scans of int_event_sessions), and on Spark plan
    it again. Both hooks are set for every model in dbt_project.yml and do nothing for the
    others or in other runs; the table never exists before the pre-hook, as on-run-start drops
    what a stopped run left.
-#}
{% macro scope_keys(scope) -%}
    {%- if has_scope_table() and config.get('scope') == scope -%}
        select * from {{ scope_table() }}
    {%- else -%}
        {{ scope_keys_query(scope) }}
    {%- endif -%}
{%- endmacro %}

{% macro scope_keys_query(scope) -%}
    {%- if scope == 'changed_hours' -%}
        {{ changed_hours() }}
    {%- elif scope == 'changed_days' -%}
        {{ changed_page_view_days() }}
    {%- elif scope == 'changed_persons' -%}
        {{ changed_person_days() }}
    {%- elif scope == 'changed_persons_since' -%}
        {{ changed_persons_since() }}
    {%- elif scope in [
        'rederived_sessions', 'rederived_page_views', 'rederived_page_view_metrics',
    ] -%}
        {{ rederived_partitions_query() }}
    {%- elif scope == 'rederived_events' -%}
        {{ rederived_event_partitions() }}
    {%- elif scope == 'rewalked_funnel_attempts' -%}
        {{ rewalked_funnel_attempts() }}
    {%- else -%}
        {{ exceptions.raise_compiler_error('no keys for the scope ' ~ scope) }}
    {%- endif -%}
{%- endmacro %}

{#- Whether this model, in this run, has its keys in a scope table (see `scope_keys`). -#}
{% macro has_scope_table() -%}
    {{ return(
        config.get('scope') in [
            'changed_hours', 'changed_days', 'changed_persons', 'changed_persons_since',
            'rederived_events', 'rederived_sessions', 'rederived_page_views',
            'rederived_page_view_metrics', 'rewalked_funnel_attempts',
        ]
        and is_windowed_run()
    ) }}
{%- endmacro %}

{% macro scope_table() -%}
    {{ return(this.incorporate(path={'identifier': this.identifier ~ '__dbt_scope'}, type='table')) }}
{%- endmacro %}

{% macro create_scope_table() -%}
    {%- if execute and has_scope_table() -%}
        create table {{ scope_table() }} {% if target.type == 'spark' %}using parquet {% endif %}as
        {{ scope_keys_query(config.get('scope')) }}
    {%- endif -%}
{%- endmacro %}

{% macro drop_scope_table() -%}
    {%- if execute and has_scope_table() -%}
        drop table if exists {{ scope_table() }}
    {%- endif -%}
{%- endmacro %}

{#-
    The temporary table an incremental model's run wrote its rows to before they went into the
    model's table (dbt-duckdb's `<model>__dbt_tmp<time>`), dropped once they are there: DuckDB
    keeps a temporary table, in memory, until the connection closes, which for dbt is the end of
    the whole build, so every later model of the build would run with less memory.
-#}
{% macro drop_temporary_tables() -%}
    {%- if execute and target.type == 'duckdb' and config.get('materialized') == 'incremental' -%}
        {%- set leftovers = run_query(
            "select table_name from duckdb_tables() where temporary and starts_with(table_name, '"
            ~ this.identifier ~ "__dbt_tmp')"
        ) -%}
        {%- for row in leftovers.rows %}
        drop table if exists temp.main."{{ row[0] }}";
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}

{#-
    Whether the row `alias` has the `keys` (column names) of a row of the query `rows`, whose
    columns bear the same names. A tuple `in` on DuckDB; on Spark an `exists`, which it plans
    as a hash join also when negated or in a disjunction (where a multi-column `in` becomes a
    nested loop over both sides).
-#}
{% macro keys_in(alias, keys, rows) -%}
    {{ return(adapter.dispatch('keys_in')(alias, keys, rows)) }}
{%- endmacro %}

{% macro default__keys_in(alias, keys, rows) -%}
    ({% for key in keys %}{{ alias }}.{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}) in (
        select {{ keys | join(', ') }} from ({{ rows }}) as keyed
    )
{%- endmacro %}

{#-
    The rows of `relation` (with tenant_id, project_id, anonymous_id and session_id) in a
    partition the window re-derived, at or after the time it was re-derived from
    (`time_column`: the event time, session start or view time; or `time_expression` over the
    row, alias `rows_of`). A raw event's empty session id is its own partition, as staging's
    NULL. A join on the partition, not a correlated `exists`, which DuckDB runs as a slow nested
    comparison.
-#}
{% macro rederived_rows(relation, time_column, time_expression=none) -%}
    select rows_of.*
    from {{ relation }} as rows_of
    inner join ({{ rederived_partitions() }}) as rederived
        on rows_of.tenant_id = rederived.tenant_id
        and rows_of.project_id = rederived.project_id
        and rows_of.anonymous_id = rederived.anonymous_id
        and {{ session_partition('rows_of.session_id') }} = rederived.session_partition
    where {{ time_expression or 'rows_of.' ~ time_column }} >= rederived.rederived_from
{%- endmacro %}

{#- Whether a row's anonymous id (of `relation`) changed person in the window. -#}
{% macro has_changed_person(relation) -%}
    exists (
        select 1 from ({{ changed_persons() }}) as changed
        where changed.tenant_id = {{ relation }}.tenant_id
            and changed.project_id = {{ relation }}.project_id
            and changed.anonymous_id = {{ relation }}.anonymous_id
    )
{%- endmacro %}

{#-
    tenant_id, project_id, hour_start: every hour whose rollup the window may have changed.
    `events_changed` in the hours of the changed event positions and of the bot events that
    arrived; in the other hours of an event of an anonymous id whose person changed, only the
    visitors changed.
-#}
{% macro changed_hours() -%}
    select
        tenant_id,
        project_id,
        hour_start,
        max(events_changed) = 1 as events_changed
    from (
        select
            tenant_id,
            project_id,
            {{ hour_start('event_time') }} as hour_start,
            1 as events_changed
        from ({{ changed_event_positions() }}) as changed
        union all
        select
            tenant_id,
            project_id,
            {{ hour_start('event_time') }} as hour_start,
            1 as events_changed
        from {{ ref('stg_events') }}
        where is_bot
            and {{ arrived_in_window('_landing_date') }}
        union all
        select
            restitched.tenant_id,
            restitched.project_id,
            {{ hour_start('restitched.event_time') }} as hour_start,
            0 as events_changed
        from {{ ref('int_event_sessions') }} as restitched
        where not restitched.is_superseded
            and {{ has_changed_person('restitched') }}
    ) as hours
    group by tenant_id, project_id, hour_start
{%- endmacro %}

{#-
    tenant_id, project_id, view_date: every day whose page analytics the window may have
    changed: the days of the changed event positions, and of every page view of a session with
    a changed event or of an anonymous id whose person changed (`page_views` as rebuilt).
-#}
{% macro changed_page_view_days() -%}
    select
        tenant_id,
        project_id,
        cast(event_time as date) as view_date
    from ({{ changed_event_positions() }})
    union
    select
        page_views.tenant_id,
        page_views.project_id,
        page_views.view_date
    from {{ ref('page_views') }} as page_views
    where (page_views.tenant_id, page_views.session_key) in (
            select tenant_id, session_key from ({{ changed_event_positions() }})
        )
        or {{ has_changed_person('page_views') }}
{%- endmacro %}

{#-
    tenant_id, project_id, person_id, activity_date: every day of a person whose daily activity
    the window may have changed: the days (of the event and of its session's start) of the
    changed event positions and of every event of an anonymous id whose person changed, for
    the anonymous id's person now and, when it changed, before.
-#}
{% macro changed_person_days() -%}
    select
        positions.tenant_id,
        positions.project_id,
        coalesce(persons.person_id, positions.anonymous_id) as person_id,
        positions.activity_date
    from ({{ changed_anonymous_id_days() }}) as positions
    left join {{ ref('int_anonymous_id_persons') }} as persons
        on positions.tenant_id = persons.tenant_id
        and positions.project_id = persons.project_id
        and positions.anonymous_id = persons.anonymous_id
    union
    select
        positions.tenant_id,
        positions.project_id,
        changed.previous_person_id as person_id,
        positions.activity_date
    from ({{ changed_anonymous_id_days() }}) as positions
    inner join ({{ changed_persons() }}) as changed
        on positions.tenant_id = changed.tenant_id
        and positions.project_id = changed.project_id
        and positions.anonymous_id = changed.anonymous_id
{%- endmacro %}

{#-
    tenant_id, project_id, person_id, changed_from: every person of `changed_person_days`, and
    the first of their days the window changed. A row of the person dated before it depends on
    nothing the window changed when it depends only on the person's earlier days, as a
    conversion's attribution does on the sessions that started before it.
-#}
{% macro changed_persons_since() -%}
    select
        tenant_id,
        project_id,
        person_id,
        min(activity_date) as changed_from
    from ({{ changed_person_days() }}) as changed_days
    group by tenant_id, project_id, person_id
{%- endmacro %}

{#-
    tenant_id, project_id, person_id, funnel_id, first_attempt_number, rewalked_from,
    rewalked_from_received_at, rewalked_from_message_id: for every person of
    `changed_persons_since` and every active funnel, where a windowed run of
    funnel_attempt_steps walks the person's events again: from the last attempt that started
    before the person's first changed day (it may go on into that day), at its first step's
    event (its event time, received_at and message_id: the walk's order); else from the first
    attempt, at the person's first event (the three columns null). The attempts before it ended
    before it started, on events the window did not change, so they stay as they are; an event
    the window added, moved or removed is on or after the first changed day, as is the start
    of every session it changed. Read from the model's scope table (`scope_keys`).
-#}
{% macro rewalked_funnel_attempts() -%}
    with

    changed as (

        {{ changed_persons_since() }}

    ),

    earlier_attempts as (

        select
            changed.tenant_id,
            changed.project_id,
            changed.person_id,
            attempts.funnel_id,
            max(attempts.attempt_number) as attempt_number
        from changed
        inner join {{ this }} as attempts
            on changed.tenant_id = attempts.tenant_id
            and changed.project_id = attempts.project_id
            and changed.person_id = attempts.person_id
        where attempts.started_at < cast(changed.changed_from as timestamp)
        group by
            changed.tenant_id,
            changed.project_id,
            changed.person_id,
            attempts.funnel_id

    ),

    {#- An attempt whose first event is not found is walked again from the first. #}
    cuts as (

        select
            earlier_attempts.tenant_id,
            earlier_attempts.project_id,
            earlier_attempts.person_id,
            earlier_attempts.funnel_id,
            earlier_attempts.attempt_number,
            starts.reached_at as rewalked_from,
            event_sessions.received_at as rewalked_from_received_at,
            starts.message_id as rewalked_from_message_id
        from earlier_attempts
        inner join {{ this }} as starts
            on earlier_attempts.tenant_id = starts.tenant_id
            and earlier_attempts.project_id = starts.project_id
            and earlier_attempts.person_id = starts.person_id
            and earlier_attempts.funnel_id = starts.funnel_id
            and earlier_attempts.attempt_number = starts.attempt_number
        inner join {{ ref('int_event_sessions') }} as event_sessions
            on starts.tenant_id = event_sessions.tenant_id
            and starts.message_id = event_sessions.message_id
        where starts.step_number = 1
            and not event_sessions.is_superseded

    ),

    funnels as (

        select distinct funnel_id
        from {{ ref('funnel_steps') }}
        where status = 'ACTIVE'

    )

    select
        changed.tenant_id,
        changed.project_id,
        changed.person_id,
        funnels.funnel_id,
        coalesce(cuts.attempt_number, 1) as first_attempt_number,
        cuts.rewalked_from,
        cuts.rewalked_from_received_at,
        cuts.rewalked_from_message_id
    from changed
    cross join funnels
    left join cuts
        on changed.tenant_id = cuts.tenant_id
        and changed.project_id = cuts.project_id
        and changed.person_id = cuts.person_id
        and funnels.funnel_id = cuts.funnel_id
{%- endmacro %}

{#- tenant_id, project_id, anonymous_id, activity_date: see `changed_person_days`. -#}
{% macro changed_anonymous_id_days() -%}
    {%- for day_column in ['event_time', 'session_start'] %}
    select
        tenant_id,
        project_id,
        anonymous_id,
        cast({{ day_column }} as date) as activity_date
    from ({{ changed_event_positions() }})
    union
    select
        restitched.tenant_id,
        restitched.project_id,
        restitched.anonymous_id,
        cast(restitched.{{ day_column }} as date) as activity_date
    from {{ ref('int_event_sessions') }} as restitched
    where not restitched.is_superseded
        and {{ has_changed_person('restitched') }}
    {%- if not loop.last %}
    union
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#-
    Whether a row (its tenant_id and project_id, and `time` its instant) is in one of the
    `changed_hours`; with `events_changed` true or false, in one whose events did or did not
    change.
-#}
{% macro in_changed_hours(time='event_time', events_changed=none, alias=none) -%}
    {%- set prefix = alias ~ '.' if alias else '' -%}
    ({{ prefix }}tenant_id, {{ prefix }}project_id, {{ hour_start(time) }}) in (
        select tenant_id, project_id, hour_start from ({{ scope_keys('changed_hours') }}) as hours
        {%- if events_changed is not none %}
        where {{ '' if events_changed else 'not ' }}events_changed
        {%- endif %}
    )
{%- endmacro %}

{#-
    The live rows of int_event_sessions a session-level model reads (keys, order, event name and
    session, no event attributes): in a windowed run, those of the re-derived partitions from
    their rederived_from on (the events `events_to_rederive` gives); else every event. Windows
    over a session's events run on these narrow rows; a model joins the staged columns back to
    the few events it needs them of.
-#}
{% macro event_sessions_to_rederive() -%}
    {%- if is_windowed_run() -%}
        (
            select rederived_event.*
            from ({{ rederived_rows(ref('int_event_sessions'), 'event_time') }}) as rederived_event
            where not rederived_event.is_superseded
        )
    {%- else -%}
        (select * from {{ ref('int_event_sessions') }} where not is_superseded)
    {%- endif -%}
{%- endmacro %}

{#-
    The events a session-level model reads, with the columns of `int_events` (or, with
    `staged=true`, of `stg_events`): in a windowed run, those of the re-derived partitions from
    their rederived_from on; else every event. A windowed run finds them in the raw table and
    stages only them (`staged_events`): staging every event first, to keep a few, would parse
    every event's URLs, user agent and properties again.
-#}
{% macro events_to_rederive(staged=false) -%}
    {%- if is_windowed_run() -%}
        {%- set raw_rows -%}
            ({{ rederived_rows(
                source('raw', 'events'),
                none,
                event_time('rows_of.timestamp', 'rows_of.sent_at', 'rows_of.received_at'),
            ) }})
        {%- endset -%}
        {%- if staged -%}
        ({{ staged_events(raw_rows) }})
        {%- else -%}
        ({{ sessionized_events('(' ~ staged_events(raw_rows) ~ ')') }})
        {%- endif -%}
    {%- else -%}
        {{ ref('stg_events') if staged else ref('int_events') }}
    {%- endif -%}
{%- endmacro %}

{#-
    The rows of this table (`columns`) of every anonymous id whose person the window changed,
    as they were but with the new person, except those the window re-derives (in a re-derived
    partition, at or after its rederived_from by `time_column`), which the model builds anew.
    One pass over the table: each row is matched to its partition's re-derivation, if any.
-#}
{% macro restitched_rows(columns, time_column) -%}
    select
        {%- for column in columns %}
        {% if column == 'person_id' %}changed.person_id{% else %}previous.{{ column }}{% endif %}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ this }} as previous
    inner join ({{ changed_persons() }}) as changed
        on previous.tenant_id = changed.tenant_id
        and previous.project_id = changed.project_id
        and previous.anonymous_id = changed.anonymous_id
    left join ({{ rederived_partitions() }}) as rederived
        on previous.tenant_id = rederived.tenant_id
        and previous.project_id = rederived.project_id
        and previous.anonymous_id = rederived.anonymous_id
        and {{ session_partition('previous.session_id') }} = rederived.session_partition
    where rederived.rederived_from is null
        or previous.{{ time_column }} < rederived.rederived_from
{%- endmacro %}

{#-
    A model recomputed for the persons whose days the window changed (scope changed_persons):
    `changed_persons_cte()` opens its `with` list with them (`changed`, in a windowed run), and
    `for_changed_persons()` after a select keeps the rows of those persons.
-#}
{% macro changed_persons_cte() -%}
    {%- if is_windowed_run() %}
changed as (

    select distinct
        tenant_id,
        project_id,
        person_id
    from ({{ scope_keys('changed_persons') }})

),
    {%- endif %}
{%- endmacro %}

{% macro for_changed_persons() -%}
    {%- if is_windowed_run() %}
    where (tenant_id, project_id, person_id) in (
        select tenant_id, project_id, person_id from changed
    )
    {%- endif %}
{%- endmacro %}
