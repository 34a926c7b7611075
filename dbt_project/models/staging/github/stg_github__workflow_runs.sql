-- One row per GitHub Actions workflow run attempt (REST `GET /actions/runs` and `/attempts/{n}`).
-- Grain: run_attempt_key. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('github', 'workflow_runs') }}

),

renamed as (

    select
        id || ':' || run_attempt as run_attempt_key,
        id as run_id,
        run_attempt,
        repo as repo_full_name,
        payload ->> '$.name' as workflow_name,
        (payload ->> '$.workflow_id')::bigint as workflow_id,
        payload ->> '$.event' as event,
        payload ->> '$.head_branch' as head_branch,
        payload ->> '$.head_sha' as head_sha,
        (payload ->> '$.run_number')::integer as run_number,
        status,
        payload ->> '$.conclusion' as conclusion,
        payload ->> '$.actor.login' as actor_login,
        created_at,
        cast(payload ->> '$.run_started_at' as timestamptz) as run_started_at,
        updated_at,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
