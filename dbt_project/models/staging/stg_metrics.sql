with

source as (

    select
        metric_id,
        tenant_id,
        project_id,
        name,
        metric_type,
        value,
        timestamp,
        tags,
        unit,
        _landing_date,
        _loaded_at
    from {{ source('raw', 'metrics') }}

),

renamed as (

    select
        tenant_id,
        project_id,
        metric_id,
        name as metric_name,
        metric_type,
        cast(value as double) as metric_value,
        cast(timestamp as timestamp) as metric_time,
        {{ normalize_tags('tags') }} as tags,
        unit,
        _landing_date,
        _loaded_at
    from source

)

select * from renamed
