-- One row per configured Jira project.
with

source as (

    select * from {{ source('jira', 'projects') }}

),

renamed as (

    select
        id as project_id,
        key as project_key,
        name as project_name,
        payload ->> '$.projectTypeKey' as project_type,
        payload ->> '$.style' as project_style,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
