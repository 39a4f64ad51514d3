{#-
    Per day, tenant, project, page path and acquisition channel (of the page view's session):
    page views, unique visitors, entrances, exits, bounce rate, average time on page, engaged
    time and scroll depth (macros/page_analytics.sql).

    Incremental (strategy replace_scope, scope changed_days), like page_analytics_daily: a
    session's channel changes only with its events, and then its page views' days are changed.
-#}

{{
    config(
        materialized='incremental',
        partition_by=spark_partition('view_date'),
        incremental_strategy='replace_scope',
        scope='changed_days',
        change_keys=['tenant_id', 'project_id', 'view_date'],
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('int_event_sessions') }}
-- depends_on: {{ ref('int_anonymous_id_persons') }}

{{ page_analytics('channel') }}
