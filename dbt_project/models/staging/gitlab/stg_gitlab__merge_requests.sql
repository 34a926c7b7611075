-- One row per GitLab merge request (REST `GET /projects/:id/merge_requests?state=all`), latest version.
-- Grain: merge_request_id. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('gitlab', 'merge_requests') }}

),

renamed as (

    select
        id as merge_request_id,
        project as project_path,
        project_id,
        iid as merge_request_iid,
        payload ->> '$.title' as title,
        payload ->> '$.author.username' as author_username,
        state,
        coalesce((payload ->> '$.draft')::boolean, false) as is_draft,
        cast(payload -> '$.labels' as varchar[]) as labels,
        payload ->> '$.target_branch' as target_branch,
        payload ->> '$.source_branch' as source_branch,
        payload ->> '$.sha' as head_sha,
        payload ->> '$.merge_commit_sha' as merge_commit_sha,
        payload ->> '$.squash_commit_sha' as squash_commit_sha,
        payload ->> '$.merged_by.username' as merged_by_username,
        created_at,
        updated_at,
        merged_at,
        cast(payload ->> '$.closed_at' as timestamptz) as closed_at,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
