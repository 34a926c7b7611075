-- One row per GitLab deployment (REST `GET /projects/:id/deployments`), with environment and deploy job.
-- Grain: deployment_id. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('gitlab', 'deployments') }}

),

renamed as (

    select
        id as deployment_id,
        project as project_path,
        iid as deployment_iid,
        (payload ->> '$.environment.id')::bigint as environment_id,
        environment,
        payload ->> '$.environment.tier' as environment_tier,
        -- production when GitLab's tier says so or the environment name matches the configured pattern
        coalesce(payload ->> '$.environment.tier' = 'production', false)
            or {{ matches_rule('environment', 'gitlab', 'production_environment_pattern') }} as is_production,
        status,
        payload ->> '$.ref' as ref,
        sha as commit_sha,
        payload ->> '$.user.username' as deployer_username,
        (payload ->> '$.deployable.id')::bigint as job_id,
        (payload ->> '$.deployable.pipeline.id')::bigint as pipeline_id,
        created_at,
        updated_at,
        cast(payload ->> '$.finished_at' as timestamptz) as finished_at,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
