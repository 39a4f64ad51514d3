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

-- Points share few distinct tag sets: each is put in canonical form once (parsing the JSON of
-- every point cost 1.9 s of 2M points at 10M events) and joined back by its raw text. Read from
-- the raw table, not from `source`: DuckDB stores a CTE read twice before reading it, which a
-- query of a few points (a data test of the window's) would pay for every point.
tag_sets as (

    select
        tags,
        {{ normalize_tags('tags') }} as canonical_tags
    from (select distinct tags from {{ source('raw', 'metrics') }}) as distinct_tags

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
        -- A point without tags matches no tag set.
        coalesce(tag_sets.canonical_tags, '{}') as tags,
        unit,
        _landing_date,
        _loaded_at
    from source
    left join tag_sets
        on source.tags = tag_sets.tags

)

select * from renamed
