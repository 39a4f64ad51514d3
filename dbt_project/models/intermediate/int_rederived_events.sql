{#-
    tenant_id, message_id of every event a windowed run re-derives: the live events of the
    partitions int_event_sessions re-sessionized, from their rederived_from on. A small table
    of its own so that the engine knows its size when int_events_this_run looks these events
    up among all of them (as a subquery, DuckDB planned that lookup three times slower).

    Empty after a full build. Its rows follow the window alone, never whether this table
    existed before. Incremental (strategy replace_scope, scope all): every run replaces it.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='replace_scope',
        scope='all',
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('int_event_sessions') }}

{%- if has_window() %}

{{ rederived_events() }}

{%- else %}

select tenant_id, message_id
from {{ ref('int_event_sessions') }}
where false

{%- endif %}
