{#-
    The events a windowed run re-derives: every int_events column of the events of the
    partitions int_event_sessions re-sessionized, from their rederived_from on (the run's
    scope, kept in one table as Snowplow keeps its `*_this_run` tables). sessions and
    page_views read it instead of the int_events view: finding a few hundred thousand events
    among all of them costs a scan of the raw table, paid here once per run.

    The events are those of int_rederived_events: none after a full build, whose models read
    int_events whole. Incremental (strategy replace_scope, scope all): every run replaces all
    of it.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='replace_scope',
        scope='all',
        on_schema_change='fail',
    )
}}

select * from {{ ref('int_events') }}
where (tenant_id, message_id) in (
    select tenant_id, message_id from {{ ref('int_rederived_events') }}
)
