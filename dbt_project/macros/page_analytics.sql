{#-
    The select of a page analytics mart: per day, tenant, project, page path and one dimension
    (`dimension`: `device_type` of the page view or `channel` of its session), page views,
    unique visitors, entrances, exits, bounces and bounce rate, and the averages of time on
    page, engaged time and scroll depth. A windowed run recomputes every day with a page view
    the window changed (`changed_page_view_days`; scope changed_days).
-#}
{% macro page_analytics(dimension) -%}
    {%- set dimension_source = 'sessions' if dimension == 'channel' else 'page_views' -%}

with

page_views as (

    select * from {{ ref('page_views') }}
    {%- if is_windowed_run() %}
    where (tenant_id, project_id, view_date) in (
        select tenant_id, project_id, view_date from ({{ scope_keys('changed_days') }})
    )
    {%- endif %}

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
        {{ dimension_source }}.{{ dimension }},
        page_views.person_id,
        page_views.is_entrance,
        page_views.is_exit,
        page_views.is_entrance and coalesce(sessions.is_bounce, false) as is_bounce_entrance,
        page_views.time_on_page_seconds,
        page_views.engaged_time_seconds,
        page_views.scroll_depth
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
        {{ dimension }},
        count(*) as page_views,
        count(distinct person_id) as unique_visitors,
        count(*) filter (where is_entrance) as entrances,
        count(*) filter (where is_exit) as exits,
        count(*) filter (where is_bounce_entrance) as bounces,
        {{ fixed_point_avg('time_on_page_seconds') }} as avg_time_on_page_seconds,
        {{ fixed_point_avg('engaged_time_seconds') }} as avg_engaged_time_seconds,
        {{ fixed_point_avg('scroll_depth') }} as avg_scroll_depth
    from page_views_with_bounce
    group by view_date, tenant_id, project_id, page_path, {{ dimension }}

),

final as (

    select
        view_date,
        tenant_id,
        project_id,
        page_path,
        {{ dimension }},
        page_views,
        unique_visitors,
        entrances,
        exits,
        bounces,
        cast(bounces as double) / nullif(entrances, 0) as bounce_rate,
        avg_time_on_page_seconds,
        avg_engaged_time_seconds,
        avg_scroll_depth
    from daily

)

select * from final
{%- endmacro %}
