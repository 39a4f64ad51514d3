{#-
    One row per page_view event (bots excluded): its page, its person and its session, with
    the metrics of int_page_view_metrics (time on page, scroll depth, engaged time: defined
    there).

    Incremental (strategy replace_scope, scope rederived_page_views): a run re-derives the page
    views of the sessions int_event_sessions re-sessionized (those of each re-derived partition
    from its rederived_from on), and gives every page view of an anonymous id whose person
    changed its new person.
-#}

{{
    config(
        materialized='incremental',
        partition_by=spark_partition('view_date'),
        incremental_strategy='replace_scope',
        scope='rederived_page_views',
        change_keys=['tenant_id', 'message_id'],
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('int_event_sessions') }}
-- depends_on: {{ ref('stg_events') }}
-- depends_on: {{ ref('int_anonymous_id_persons') }}
-- depends_on: {{ source('raw', 'events') }}
-- depends_on: {{ source('raw', 'user_agents') }}

{%- set columns = [
    'tenant_id', 'project_id', 'message_id', 'session_key', 'session_id', 'person_id',
    'anonymous_id', 'viewed_at', 'view_date', 'page_url', 'page_path', 'page_title',
    'page_referrer', 'referrer_host', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term',
    'utm_content', 'device_type', 'country_code', 'page_view_number', 'is_entrance', 'is_exit',
    'time_on_page_seconds', 'scroll_depth', 'engaged_time_seconds',
] %}

{#
    The metrics of the page views to re-derive (all in a build of all rows; else those of the
    events the window re-derived) joined to the columns of the events to re-derive, with their
    person: the inner join keeps the page views. The events are not filtered on their name
    first: the join then holds the narrow metrics in memory and streams the events' columns
    past them, where a filtered side, estimated smaller, would be held instead, every page's
    columns at once. The URLs are parsed after the join, for the page views alone, as staging
    parses them (`url_columns`).
#}
with

page_view_metrics as (

    select * from {{ ref('int_page_view_metrics') }} as page_view_metrics
    {%- if is_windowed_run() %}
    where {{ keys_in('page_view_metrics', ['tenant_id', 'message_id'], rederived_event_keys()) }}
    {%- endif %}

),

event_columns as (

    select
        events.tenant_id,
        events.project_id,
        events.message_id,
        events.session_id,
        events.person_id,
        events.anonymous_id,
        events.page_url,
        events.page_path,
        events.page_title,
        events.page_referrer,
        events.device_type,
        events.country_code
    from ({{ events_with_persons(events_to_rederive(staged=true)) }}) as events

),

final as (

    select
        page_view_metrics.tenant_id,
        event_columns.project_id,
        page_view_metrics.message_id,
        page_view_metrics.session_key,
        event_columns.session_id,
        event_columns.person_id,
        event_columns.anonymous_id,
        page_view_metrics.viewed_at,
        page_view_metrics.view_date,
        event_columns.page_url,
        event_columns.page_path,
        event_columns.page_title,
        event_columns.page_referrer,
        {{ url_columns('event_columns.page_url', 'event_columns.page_referrer') }},
        event_columns.device_type,
        event_columns.country_code,
        page_view_metrics.page_view_number,
        page_view_metrics.is_entrance,
        page_view_metrics.is_exit,
        page_view_metrics.time_on_page_seconds,
        page_view_metrics.scroll_depth,
        page_view_metrics.engaged_time_seconds
    from page_view_metrics
    inner join event_columns
        on page_view_metrics.tenant_id = event_columns.tenant_id
        and page_view_metrics.message_id = event_columns.message_id

)

{%- if is_windowed_run() %},

{#- The other page views of an anonymous id whose person changed, as they were, with it. -#}
restitched as (

    {{ restitched_rows(columns, 'viewed_at') }}

)

select {{ columns | join(', ') }} from final
union all
select {{ columns | join(', ') }} from restitched
{%- else %}

select {{ columns | join(', ') }} from final
{%- endif %}
