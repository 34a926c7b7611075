-- One row per deployment status (REST `GET /deployments/{id}/statuses`).
-- Grain: deployment_status_id. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('github', 'deployment_statuses') }}

),

renamed as (

    select
        id as deployment_status_id,
        deployment_id,
        repo as repo_full_name,
        state,
        payload ->> '$.environment' as environment,
        created_at,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
