{#-
    The staging of raw events (`raw_events`: the raw table, or a query of some of its rows): the
    columns of `stg_events`. stg_events stages every row; a windowed run of a session-level
    model stages only the raw rows of the partitions it re-derives (`events_to_rederive`), so
    that the URLs, user agents and properties of the other events are not parsed again.
-#}
{% macro staged_events(raw_events) -%}
with

source as (

    select * from {{ raw_events }}

),

user_agents as (

    select * from {{ source('raw', 'user_agents') }}

),

renamed as (

    select
        tenant_id,
        project_id,
        message_id,
        event_type,
        event_name,
        {{ event_time() }} as event_time,
        timestamp as device_timestamp,
        sent_at,
        received_at,
        anonymous_id,
        {{ staged_user_id('user_id') }} as user_id,
        nullif(session_id, '') as session_id,
        coalesce(channel_type, 'web') as channel_type,
        page_url,
        coalesce(page_path, {{ url_path('page_url') }}) as page_path,
        page_title,
        nullif(page_referrer, '') as page_referrer,
        user_agent,
        device_type as given_device_type,
        os_name as given_os_name,
        browser_name as given_browser_name,
        screen_width,
        screen_height,
        ip_address,
        country_code,
        city,
        {{ staged_properties('properties') }} as properties,
        sdk_version,
        _landing_date
    from source

),

with_user_agent as (

    select
        renamed.*,
        user_agents.device_type as parsed_device_type,
        user_agents.os_name as parsed_os_name,
        user_agents.browser_name as parsed_browser_name
    from renamed
    left join user_agents
        on renamed.user_agent = user_agents.user_agent

),

final as (

    select
        tenant_id,
        project_id,
        message_id,
        event_type,
        event_name,
        event_time,
        device_timestamp,
        sent_at,
        received_at,
        anonymous_id,
        user_id,
        session_id,
        channel_type,
        page_url,
        page_path,
        page_title,
        page_referrer,
        {{ url_columns('page_url', 'page_referrer') }},
        user_agent,
        case
            when given_device_type = 'bot' or parsed_device_type = 'bot' then 'bot'
            else coalesce(given_device_type, parsed_device_type, 'unknown')
        end as device_type,
        coalesce(given_os_name, parsed_os_name) as os_name,
        coalesce(given_browser_name, parsed_browser_name) as browser_name,
        coalesce(given_device_type = 'bot' or parsed_device_type = 'bot', false) as is_bot,
        screen_width,
        screen_height,
        ip_address,
        country_code,
        city,
        properties,
        sdk_version,
        _landing_date
    from with_user_agent

)

select * from final
{%- endmacro %}

{#-
    The staging of the two raw columns a model may stage by key, for a few events, instead of
    reading stg_events: an empty user id is none; missing properties are an empty object.
-#}
{% macro staged_user_id(raw_column) -%}
    nullif({{ raw_column }}, '')
{%- endmacro %}

{% macro staged_properties(raw_column) -%}
    {{ parse_json("coalesce(" ~ raw_column ~ ", '{}')") }}
{%- endmacro %}

{#-
    What staging reads from an event's URLs: the referrer's host and the page URL's UTM
    parameters (`referrer_host`, `utm_source`, ... `utm_content`). A model that joins staged
    events to a few of them may parse the URLs after the join, with this macro.
-#}
{% macro url_columns(page_url, page_referrer) -%}
    {{ url_host(page_referrer) }} as referrer_host,
    {%- for parameter in ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] %}
    {{ url_query_parameter(page_url, parameter) }} as {{ parameter }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
