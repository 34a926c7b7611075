-- One row per workflow status of the site with its status category (new / indeterminate / done).
with

source as (

    select * from {{ source('jira', 'statuses') }}

),

renamed as (

    select
        id as status_id,
        name as status_name,
        category_key as status_category,
        payload ->> '$.statusCategory.name' as status_category_name,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
