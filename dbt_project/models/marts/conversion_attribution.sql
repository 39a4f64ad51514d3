{#-
    Multi-touch attribution: one row per conversion, attribution model and credited session.

    A conversion's touches are its person's sessions that started within
    `attribution_lookback_days` before it, and the converting session. They are numbered in
    order of start, the converting session last (it is the last touch even when a session of
    another device of the person started after it). Models:
    - first_touch: all credit to touch 1;
    - last_touch: all credit to the converting session;
    - last_non_direct: all credit to the latest touch whose channel is not Direct, else to the
      converting session;
    - linear: 1/n to each of the n touches;
    - position_based: 40% to the first and 40% to the last touch, 20% shared by the others;
      one touch 100%, two 50/50.
    Only touches with credit are rows; the credits of a conversion sum to 1 in every model.
    attributed_value = credit * conversion value.

    Incremental (strategy replace_scope, scope changed_persons_since): a run recomputes the
    conversions of each person whose days the window changed, from the first changed day on:
    an earlier conversion's touches started before it, on days the window did not change.
-#}

{{
    config(
        materialized='incremental',
        partition_by=spark_partition('conversion_date'),
        incremental_strategy='replace_scope',
        scope='changed_persons_since',
        since_column='conversion_date',
        change_keys=['tenant_id', 'message_id'],
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('int_event_sessions') }}
-- depends_on: {{ ref('int_anonymous_id_persons') }}

with

{% if is_windowed_run() %}
changed as (

    select tenant_id, project_id, person_id, changed_from
    from ({{ scope_keys('changed_persons_since') }}) as changed_persons

),
{% endif %}

conversions as (

    select
        conversions.tenant_id,
        conversions.project_id,
        conversions.message_id,
        conversions.conversion_event,
        conversions.converted_at,
        conversions.conversion_date,
        conversions.conversion_value,
        conversions.currency,
        conversions.person_id,
        conversions.session_key
    from {{ ref('conversions') }} as conversions
    {%- if is_windowed_run() %}
    inner join changed
        on conversions.tenant_id = changed.tenant_id
        and conversions.project_id = changed.project_id
        and conversions.person_id = changed.person_id
        and conversions.conversion_date >= changed.changed_from
    {%- endif %}

),

sessions as (

    select
        tenant_id,
        project_id,
        person_id,
        session_key,
        session_start,
        channel
    from {{ ref('sessions') }}
    {{- for_changed_persons() }}

),

touches as (

    select
        conversions.*,
        sessions.session_key as touch_session_key,
        sessions.session_start as touch_session_start,
        sessions.channel as touch_channel,
        sessions.session_key = conversions.session_key as is_converting_session
    from conversions
    inner join sessions
        on conversions.tenant_id = sessions.tenant_id
        and conversions.project_id = sessions.project_id
        and conversions.person_id = sessions.person_id
    where sessions.session_key = conversions.session_key
        or (
            sessions.session_start <= conversions.converted_at
            and sessions.session_start >= {{ add_minutes(
                'conversions.converted_at', -1440 * var('attribution_lookback_days')
            ) }}
        )

),

numbered_touches as (

    select
        *,
        cast(row_number() over (
            partition by tenant_id, message_id
            order by is_converting_session, touch_session_start, touch_session_key
        ) as bigint) as touch_number,
        count(*) over (partition by tenant_id, message_id) as touch_count
    from touches

),

with_last_non_direct as (

    select
        *,
        coalesce(
            max(case when touch_channel <> 'Direct' then touch_number end)
                over (partition by tenant_id, message_id),
            touch_count
        ) as last_non_direct_touch
    from numbered_touches

),

models as (

    select 'first_touch' as attribution_model
    union all
    select 'last_touch' as attribution_model
    union all
    select 'last_non_direct' as attribution_model
    union all
    select 'linear' as attribution_model
    union all
    select 'position_based' as attribution_model

),

credited as (

    select
        with_last_non_direct.*,
        models.attribution_model,
        case models.attribution_model
            when 'first_touch' then case when touch_number = 1 then 1.0 else 0.0 end
            when 'last_touch' then case when touch_number = touch_count then 1.0 else 0.0 end
            when 'last_non_direct'
                then case when touch_number = last_non_direct_touch then 1.0 else 0.0 end
            when 'linear' then cast(1 as double) / touch_count
            when 'position_based' then
                case
                    when touch_count = 1 then 1.0
                    when touch_count = 2 then 0.5
                    when touch_number = 1 or touch_number = touch_count then 0.4
                    else cast(0.2 as double) / (touch_count - 2)
                end
        end as credit
    from with_last_non_direct
    cross join models

),

final as (

    select
        tenant_id,
        project_id,
        message_id,
        conversion_event,
        converted_at,
        conversion_date,
        person_id,
        attribution_model,
        touch_session_key as session_key,
        touch_session_start as session_start,
        touch_channel as channel,
        touch_number,
        touch_count,
        is_converting_session,
        cast(credit as double) as credit,
        conversion_value,
        currency,
        cast(credit as double) * conversion_value as attributed_value
    from credited
    where credit > 0

)

select * from final
