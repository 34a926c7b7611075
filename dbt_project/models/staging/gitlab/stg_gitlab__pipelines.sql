-- One row per GitLab pipeline (REST `GET /projects/:id/pipelines/:id`, the single-pipeline shape).
-- Grain: pipeline_id. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('gitlab', 'pipelines') }}

),

renamed as (

    select
        id as pipeline_id,
        project as project_path,
        project_id,
        (payload ->> '$.iid')::bigint as pipeline_iid,
        payload ->> '$.name' as pipeline_name,
        status,
        payload ->> '$.source' as pipeline_source,
        ref,
        sha as commit_sha,
        payload ->> '$.user.username' as triggered_by_username,
        created_at,
        updated_at,
        cast(payload ->> '$.started_at' as timestamptz) as started_at,
        cast(payload ->> '$.finished_at' as timestamptz) as finished_at,
        (payload ->> '$.duration')::double as duration_seconds,
        (payload ->> '$.queued_duration')::double as queued_duration_seconds,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
