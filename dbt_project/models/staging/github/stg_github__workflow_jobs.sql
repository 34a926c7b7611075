-- One row per GitHub Actions job of any attempt (REST `GET /actions/runs/{id}/jobs?filter=all`).
-- Grain: job_id. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('github', 'workflow_jobs') }}

),

renamed as (

    select
        id as job_id,
        run_id,
        run_attempt,
        repo as repo_full_name,
        payload ->> '$.name' as job_name,
        payload ->> '$.workflow_name' as workflow_name,
        payload ->> '$.head_sha' as head_sha,
        status,
        payload ->> '$.conclusion' as conclusion,
        payload ->> '$.runner_name' as runner_name,
        json_extract_string(payload, '$.labels[*]') as runner_labels,
        list_filter(
            json_extract(payload, '$.steps[*]'), lambda s: (s ->> '$.conclusion') = 'failure'
        )[1] ->> '$.name' as failed_step_name,
        cast(payload ->> '$.created_at' as timestamptz) as created_at,
        started_at,
        cast(payload ->> '$.completed_at' as timestamptz) as completed_at,
        date_diff('second', started_at, cast(payload ->> '$.completed_at' as timestamptz)) / 60.0 as duration_minutes,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
