{#-
    One row per session (bots excluded). A session belongs to the day it started. Entry page,
    referrer and UTM come from the session's first page view (its first event when it has
    none); device, OS, browser and country from its first event. The channel is the default
    channel grouping (macros/channels.sql) of the entry page's UTM source and medium and the
    referrer; engaged time is the sum of its page views' (page_views).

    Incremental (strategy replace_scope, scope rederived_sessions): a run re-derives the
    sessions of the partitions int_event_sessions re-sessionized, from their rederived_from
    on, and gives every session of an anonymous id whose person changed its new person.
-#}

{{
    config(
        materialized='incremental',
        partition_by=spark_partition('session_date'),
        incremental_strategy='replace_scope',
        scope='rederived_sessions',
        change_keys=['session_key'],
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('int_event_sessions') }}
-- depends_on: {{ ref('stg_events') }}
-- depends_on: {{ ref('int_anonymous_id_persons') }}
-- depends_on: {{ source('raw', 'events') }}
-- depends_on: {{ source('raw', 'user_agents') }}
-- depends_on: {{ ref('source_categories') }}

{%- set columns = [
    'session_key', 'tenant_id', 'project_id', 'person_id', 'anonymous_id', 'session_id',
    'session_start', 'session_end', 'session_date', 'duration_seconds', 'event_count',
    'page_view_count', 'entry_page', 'exit_page', 'referrer', 'referrer_host', 'utm_source',
    'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'channel_type', 'device_type',
    'os_name', 'browser_name', 'country_code', 'source_category', 'channel', 'is_bounce',
    'is_engaged', 'converted', 'first_conversion_event', 'first_conversion_at',
    'conversion_value', 'engaged_time_seconds',
] %}

{#-
    The session's counts and order come from the narrow rows of int_event_sessions (keys, order,
    event name); only the conversions' values are staged from their raw rows.
#}
with

conversion_values as (

    select
        events.tenant_id,
        events.message_id,
        {{ json_get_double('events.properties', '$.value') }} as conversion_value
    from {{ events_to_rederive(staged=true) }} as events
    where not events.is_bot
        and events.event_name in {{ names_list('conversion_events') }}

),

classified_events as (

    select
        events.*,
        events.event_name = 'page_view' as is_page_view,
        events.event_name in {{ names_list('conversion_events') }} as is_conversion,
        conversions.conversion_value
    from {{ event_sessions_to_rederive() }} as events
    left join conversion_values as conversions
        on events.tenant_id = conversions.tenant_id
        and events.message_id = conversions.message_id

),

{%- set event_order = ['event_time', 'received_at', 'message_id'] %}
{%- set first_raw_events -%}
    (
        select * from {{ source('raw', 'events') }} as raw_events
        where exists (
            select 1 from first_messages
            where first_messages.tenant_id = raw_events.tenant_id
                and first_messages.message_id = raw_events.message_id
        )
    )
{%- endset %}

sessions as (

    select
        session_key,
        tenant_id,
        min(event_time) as session_start,
        max(event_time) as session_end,
        count(*) as event_count,
        count(*) filter (where is_page_view) as page_view_count,
        count(*) filter (
            where not is_page_view and event_name not in {{ names_list('page_ping_events') }}
        ) as other_event_count,
        count(*) filter (where is_conversion) as conversion_count,
        coalesce(
            {{ fixed_point_sum('case when is_conversion then conversion_value end', decimals=6) }},
            0
        ) as conversion_value,
        {{ first_by('message_id', event_order) }} as first_message_id,
        {{ first_by(record(['event_name', 'event_time']), event_order) }}
            filter (where is_conversion) as first_conversion
    from classified_events
    group by session_key, tenant_id

),

{#-
    The attributes of each session's first event and first and last page view are looked up
    by key: carrying them through the aggregation above (a first_by of a record per session)
    cost more than reading the few rows again. The first event is staged from its raw row; the
    page views come from page_views, built before this model by the same order of events.
-#}
first_messages as (

    select
        session_key,
        tenant_id,
        first_message_id as message_id
    from sessions

),

first_events as (

    select
        first_messages.session_key,
        events.*
    from ({{ events_with_persons('(' ~ staged_events(first_raw_events) ~ ')') }}) as events
    inner join first_messages
        on events.tenant_id = first_messages.tenant_id
        and events.message_id = first_messages.message_id

),

{#-
    The session's page views, in one pass over them: its entrance's page (the first page view:
    path, URL, referrer, UTM), its exit's path and the sum of their engaged time. A session
    with page views has one entrance and one exit; one aggregation joined once holds less in
    memory than a join per part.
-#}
page_view_summary as (

    select
        session_key,
        {%- for column in [
            'page_path', 'page_url', 'page_referrer', 'referrer_host', 'utm_source', 'utm_medium',
            'utm_campaign', 'utm_term', 'utm_content',
        ] %}
        max(case when is_entrance then {{ column }} end) as entry_{{ column }},
        {%- endfor %}
        max(case when is_exit then page_path end) as exit_page_path,
        {{ fixed_point_sum('engaged_time_seconds') }} as engaged_time_seconds
    from {{ ref('page_views') }}
    {%- if is_windowed_run() %}
    where session_key in (select session_key from sessions)
    {%- endif %}
    group by session_key

),

with_entry as (

    select
        sessions.session_key,
        first_event.tenant_id,
        first_event.project_id,
        first_event.person_id,
        first_event.anonymous_id,
        first_event.session_id,
        session_start,
        session_end,
        cast(session_start as date) as session_date,
        {{ seconds_between('session_start', 'session_end') }} as duration_seconds,
        event_count,
        page_view_count,
        page_view_summary.entry_page_path as entry_page,
        page_view_summary.exit_page_path as exit_page,
        coalesce(page_view_summary.entry_page_referrer, first_event.page_referrer) as referrer,
        coalesce(page_view_summary.entry_referrer_host, first_event.referrer_host) as referrer_host,
        coalesce(page_view_summary.entry_utm_source, first_event.utm_source) as utm_source,
        coalesce(page_view_summary.entry_utm_medium, first_event.utm_medium) as utm_medium,
        coalesce(page_view_summary.entry_utm_campaign, first_event.utm_campaign) as utm_campaign,
        coalesce(page_view_summary.entry_utm_term, first_event.utm_term) as utm_term,
        coalesce(page_view_summary.entry_utm_content, first_event.utm_content) as utm_content,
        first_event.channel_type,
        first_event.device_type,
        first_event.os_name,
        first_event.browser_name,
        first_event.country_code,
        case
            when page_view_count = 0 then null
            else page_view_count = 1
                and other_event_count = 0
                and {{ seconds_between('session_start', 'session_end') }}
                    < {{ var('bounce_threshold_seconds') }}
        end as is_bounce,
        page_view_count >= {{ var('engaged_min_page_views') }}
            or {{ seconds_between('session_start', 'session_end') }}
                >= {{ var('engaged_min_seconds') }}
            or conversion_count > 0 as is_engaged,
        conversion_count > 0 as converted,
        first_conversion.event_name as first_conversion_event,
        first_conversion.event_time as first_conversion_at,
        conversion_value,
        page_view_summary.engaged_time_seconds as page_view_engaged_time_seconds,
        {{ url_host('coalesce(page_view_summary.entry_page_url, first_event.page_url)') }} as entry_host
    from sessions
    inner join first_events as first_event
        on sessions.session_key = first_event.session_key
    left join page_view_summary
        on sessions.session_key = page_view_summary.session_key

),

{#-
    The session's source, whose category decides its channel: its UTM source, else the host of
    a referrer on another host than the entry page's (a referrer on the page's own host is no
    source: a self-referral).
-#}
with_source as (

    select
        *,
        nullif(lower(trim(utm_source)), '') as source,
        nullif(lower(trim(utm_medium)), '') as medium,
        coalesce(referrer_host <> entry_host, referrer_host is not null) as external_referrer
    from with_entry

),

with_session_source as (

    select
        *,
        coalesce(source, case when external_referrer then referrer_host end) as session_source
    from with_source

),

final as (

    select
        with_session_source.*,
        {{ source_category() }} as source_category,
        {{ default_channel(
            'with_session_source.source',
            'with_session_source.medium',
            source_category(),
            'with_session_source.external_referrer'
        ) }} as channel,
        case
            when with_session_source.page_view_count > 0
                then coalesce(with_session_source.page_view_engaged_time_seconds, 0)
        end as engaged_time_seconds
    from with_session_source
    {{- source_category_joins('with_session_source.session_source') }}

){% if is_windowed_run() %},

{#- The other sessions of an anonymous id whose person changed, as they were, with it. -#}
restitched as (

    {{ restitched_rows(columns, 'session_start') }}

)

select {{ columns | join(', ') }} from final
union all
select {{ columns | join(', ') }} from restitched
{%- else %}

select {{ columns | join(', ') }} from final
{%- endif %}
