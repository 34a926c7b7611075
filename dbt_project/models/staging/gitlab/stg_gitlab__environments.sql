-- One row per GitLab environment (REST `GET /projects/:id/environments`).
-- Grain: environment_id. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('gitlab', 'environments') }}

),

renamed as (

    select
        id as environment_id,
        project as project_path,
        name as environment_name,
        tier,
        payload ->> '$.state' as state,
        payload ->> '$.external_url' as external_url,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
