{#-
    Per day, tenant, project, page path and device type: page views, unique visitors,
    entrances, exits, bounce rate, average time on page and scroll depth.

    Incremental: rebuilds every day with a page view of an anonymous id that has an event in
    the window.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_affected_rows('view_date') }}",
        on_schema_change='fail',
    )
}}

with

page_views as (

    select * from {{ ref('page_views') }}
    where {{ is_affected('view_date') }}

),

sessions as (

    select * from {{ ref('sessions') }}

),

page_views_with_bounce as (

    select
        page_views.view_date,
        page_views.tenant_id,
        page_views.project_id,
        coalesce(page_views.page_path, '(not set)') as page_path,
        page_views.device_type,
        page_views.person_id,
        page_views.is_entrance,
        page_views.is_exit,
        page_views.is_entrance and coalesce(sessions.is_bounce, false) as is_bounce_entrance,
        page_views.time_on_page_seconds,
        page_views.scroll_depth,
    from page_views
    inner join sessions
        on page_views.session_key = sessions.session_key

),

daily as (

    select
        view_date,
        tenant_id,
        project_id,
        page_path,
        device_type,
        count(*) as page_views,
        count(distinct person_id) as unique_visitors,
        count(*) filter (where is_entrance) as entrances,
        count(*) filter (where is_exit) as exits,
        count(*) filter (where is_bounce_entrance) as bounces,
        {{ fixed_point_avg('time_on_page_seconds') }} as avg_time_on_page_seconds,
        {{ fixed_point_avg('scroll_depth') }} as avg_scroll_depth,
    from page_views_with_bounce
    group by view_date, tenant_id, project_id, page_path, device_type

),

final as (

    select
        view_date,
        tenant_id,
        project_id,
        page_path,
        device_type,
        page_views,
        unique_visitors,
        entrances,
        exits,
        bounces,
        cast(bounces as double) / nullif(entrances, 0) as bounce_rate,
        avg_time_on_page_seconds,
        avg_scroll_depth,
    from daily

)

select * from final
