{#-
    Per day, tenant, project, page path and device type: page views, unique visitors,
    entrances, exits, bounce rate, average time on page, engaged time and scroll depth
    (macros/page_analytics.sql).

    Incremental (strategy replace_scope, scope changed_days): a run recomputes every day with a
    page view the window changed (`changed_page_view_days`).
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

{{ page_analytics('device_type') }}
