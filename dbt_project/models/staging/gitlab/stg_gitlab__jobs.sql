-- One row per GitLab CI job, retried ones included (REST `GET /pipelines/:id/jobs?include_retried=true`).
-- Grain: job_id. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('gitlab', 'jobs') }}

),

renamed as (

    select
        id as job_id,
        pipeline_id,
        project as project_path,
        name as job_name,
        payload ->> '$.stage' as stage,
        status,
        retried as is_retried,
        payload ->> '$.failure_reason' as failure_reason,
        coalesce((payload ->> '$.allow_failure')::boolean, false) as allow_failure,
        json_extract_string(payload, '$.tag_list[*]') as runner_tags,
        cast(payload ->> '$.created_at' as timestamptz) as created_at,
        started_at,
        cast(payload ->> '$.finished_at' as timestamptz) as finished_at,
        (payload ->> '$.duration')::double as duration_seconds,
        (payload ->> '$.queued_duration')::double as queued_duration_seconds,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
