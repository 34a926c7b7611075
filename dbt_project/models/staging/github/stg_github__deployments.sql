-- One row per GitHub deployment (REST `GET /deployments`) with its latest status.
-- Grain: deployment_id. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('github', 'deployments') }}

),

renamed as (

    select
        id as deployment_id,
        repo as repo_full_name,
        environment,
        coalesce((payload ->> '$.production_environment')::boolean, false) as is_production_environment,
        -- production when GitHub says so or the environment name matches the configured pattern
        coalesce((payload ->> '$.production_environment')::boolean, false)
            or {{ matches_rule('environment', 'github', 'production_environment_pattern') }} as is_production,
        sha as commit_sha,
        payload ->> '$.ref' as ref,
        payload ->> '$.task' as task,
        payload ->> '$.description' as description,
        payload ->> '$.payload.kind' as deployment_kind,
        payload ->> '$.creator.login' as creator_login,
        latest_state,
        created_at,
        updated_at,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
