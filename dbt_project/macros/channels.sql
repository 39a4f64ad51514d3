{#-
    Acquisition channels: the default channel grouping of the product spec ("Acquisition").
    The first rule that matches wins. Arguments are SQL expressions: `source` and `medium`
    lowercased and trimmed (NULL when absent), `category` the source's category from the
    source_categories seed (NULL when unknown), `external_referrer` whether the session has a
    referrer on another host than its entry page's.
-#}
{% macro default_channel(source, medium, category, external_referrer) -%}
    {%- set paid = matches_pattern(medium, '(.*cp.*|ppc|retargeting|paid.*)') -%}
    {%- set email_names = "('email', 'e-mail', 'e_mail', 'e mail')" -%}
    case
        when {{ source }} is null and {{ medium }} is null and not {{ external_referrer }}
            then 'Direct'
        when {{ category }} = 'search' and {{ paid }} then 'Paid Search'
        when {{ category }} = 'social' and {{ paid }} then 'Paid Social'
        when {{ category }} = 'video' and {{ paid }} then 'Paid Video'
        when {{ category }} = 'shopping' and {{ paid }} then 'Paid Shopping'
        when {{ medium }} in ('display', 'banner', 'expandable', 'interstitial', 'cpm')
            then 'Display'
        when {{ category }} = 'search' or {{ medium }} = 'organic' then 'Organic Search'
        when {{ category }} = 'social'
            or {{ medium }} in ('social', 'social-network', 'social-media', 'sm')
            then 'Organic Social'
        when {{ category }} = 'video' or {{ medium }} = 'video' then 'Organic Video'
        when {{ category }} = 'shopping' then 'Organic Shopping'
        when {{ source }} in {{ email_names }} or {{ medium }} in {{ email_names }}
            or {{ category }} = 'email'
            then 'Email'
        when {{ medium }} = 'affiliate' then 'Affiliates'
        when {{ source }} = 'sms' or {{ medium }} = 'sms' then 'SMS'
        when {{ medium }} like '%push' or {{ medium }} in ('mobile', 'notification')
            then 'Mobile Push'
        when {{ medium }} in ('referral', 'app', 'link') or {{ external_referrer }} then 'Referral'
        else 'Unassigned'
    end
{%- endmacro %}

{#- Every channel `default_channel` can give, for accepted_values tests and dashboards. -#}
{% macro channel_names() -%}
    {{ return([
        'Direct', 'Paid Search', 'Paid Social', 'Paid Video', 'Paid Shopping', 'Display',
        'Organic Search', 'Organic Social', 'Organic Video', 'Organic Shopping', 'Email',
        'Affiliates', 'SMS', 'Mobile Push', 'Referral', 'Unassigned',
    ]) }}
{%- endmacro %}

{#-
    A source's category, looked up per row by equality: `source_category_joins` joins the
    source_categories seed once per label count, on the source's last that many labels, and
    `source_category` takes the category of the longest match (a row equal to the source or a
    parent domain of it: `l.facebook.com` -> `facebook.com`; `mail.google.com` is email,
    `google.com` search). NULL when no row matches. Joining by equality reads the rows once,
    where a lookup of the distinct sources joined back would read them twice (an engine that
    materializes a CTE read twice holds every row of it in memory).
-#}
{% macro source_category_max_labels() -%}
    {#- The most labels a source_categories row may have (its row_conditions test says so). -#}
    {{ return(6) }}
{%- endmacro %}

{% macro source_category_joins(source_column, alias='source_categories') -%}
    {%- for labels in range(1, source_category_max_labels() + 1) %}
    left join {{ ref('source_categories') }} as {{ alias }}_{{ labels }}
        on {{ alias }}_{{ labels }}.source = {{ last_labels(source_column, labels) }}
    {%- endfor %}
{%- endmacro %}

{% macro source_category(alias='source_categories') -%}
    coalesce(
        {%- for labels in range(source_category_max_labels(), 0, -1) %}
        {{ alias }}_{{ labels }}.category{{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#-
    The last `labels` dot-separated labels of `host` (`a.b.c`, 2 -> `b.c`); the empty string
    when it has fewer. The leftmost match of a run of labels anchored at the end starts at a
    label's start, so `xgoogle.com` gives `xgoogle.com`, never `google.com`.
-#}
{% macro last_labels(host, labels) -%}
    regexp_extract({{ host }}, '[^.]+{{ "([.][^.]+){%d}" % (labels - 1) if labels > 1 }}$', 0)
{%- endmacro %}
