{#-
    The event time of a raw event: the device's `timestamp` corrected for the device clock's
    skew, `received_at - (sent_at - timestamp)`, when the batch gives `sent_at`; else the device's
    `timestamp` as it is. `stg_events` names it `event_time`; the incremental macros compute it
    from the raw table directly, which costs a scan of three columns instead of the staging view.
-#}
{% macro event_time(timestamp='timestamp', sent_at='sent_at', received_at='received_at') -%}
    case
        when {{ sent_at }} is not null
            then {{ add_timestamp_difference(received_at, timestamp, sent_at) }}
        else {{ timestamp }}
    end
{%- endmacro %}
