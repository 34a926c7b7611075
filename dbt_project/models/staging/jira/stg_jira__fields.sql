-- One row per Jira field (system and custom) of the site, with the role the connector discovered.
with

source as (

    select * from {{ source('jira', 'fields') }}

),

renamed as (

    select
        id as field_id,
        name as field_name,
        is_custom,
        role as field_role,
        payload ->> '$.schema.type' as schema_type,
        payload ->> '$.schema.custom' as schema_custom_type,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
