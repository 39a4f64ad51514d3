{#-
    Per day (of the session's start), tenant, project and acquisition channel: sessions,
    visitors, engaged sessions, bounce rate, average duration and engaged time, conversions,
    converting sessions, conversion rate and revenue. A conversion counts for its session's
    channel and day.
-#}

with

sessions as (

    select
        tenant_id,
        project_id,
        session_key,
        session_date,
        channel,
        person_id,
        is_bounce,
        is_engaged,
        converted,
        duration_seconds,
        engaged_time_seconds,
        conversion_value
    from {{ ref('sessions') }}

),

session_conversions as (

    select
        session_key,
        count(*) as conversion_count
    from {{ ref('conversions') }}
    group by session_key

),

daily as (

    select
        sessions.session_date,
        sessions.tenant_id,
        sessions.project_id,
        sessions.channel,
        count(*) as sessions,
        count(distinct sessions.person_id) as visitors,
        count(*) filter (where sessions.is_engaged) as engaged_sessions,
        count(sessions.is_bounce) as sessions_with_page_views,
        count(*) filter (where sessions.is_bounce) as bounces,
        {{ fixed_point_avg('sessions.duration_seconds') }} as avg_session_duration_seconds,
        {{ fixed_point_avg('sessions.engaged_time_seconds') }} as avg_engaged_time_seconds,
        count(*) filter (where sessions.converted) as converting_sessions,
        cast(coalesce(sum(session_conversions.conversion_count), 0) as bigint) as conversions,
        {{ fixed_point_sum('sessions.conversion_value', decimals=6) }} as revenue
    from sessions
    left join session_conversions
        on sessions.session_key = session_conversions.session_key
    group by sessions.session_date, sessions.tenant_id, sessions.project_id, sessions.channel

),

final as (

    select
        session_date,
        tenant_id,
        project_id,
        channel,
        sessions,
        visitors,
        engaged_sessions,
        sessions_with_page_views,
        bounces,
        cast(bounces as double) / nullif(sessions_with_page_views, 0) as bounce_rate,
        avg_session_duration_seconds,
        avg_engaged_time_seconds,
        conversions,
        converting_sessions,
        cast(converting_sessions as double) / sessions as conversion_rate,
        revenue
    from daily

)

select * from final
