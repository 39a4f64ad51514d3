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
    The category of each distinct value of `source_column` in `relation` (a CTE name): the
    source_categories row that equals it or is its parent domain (`l.facebook.com` ->
    `facebook.com`), the longest such row when several match (`mail.google.com` is email,
    `google.com` search). Returns source, category; sources without a category are absent.
-#}
{% macro source_category_lookup(relation, source_column) -%}
    select
        sources.source,
        {{ last_by('categories.category', ['length(categories.source)', 'categories.source']) }}
            as category
    from (
        select distinct {{ source_column }} as source
        from {{ relation }}
        where {{ source_column }} is not null
    ) as sources
    inner join {{ ref('source_categories') }} as categories
        on sources.source = categories.source
        or sources.source like concat('%.', categories.source)
    group by sources.source
{%- endmacro %}
