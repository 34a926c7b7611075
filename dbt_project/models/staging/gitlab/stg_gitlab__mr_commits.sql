-- One row per commit of a merge request (REST `GET /merge_requests/:iid/commits`).
-- Grain: merge_request_id, commit_sha. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('gitlab', 'mr_commits') }}

),

renamed as (

    select
        cast(mr_id as varchar) || ':' || sha as mr_commit_key,
        mr_id as merge_request_id,
        mr_iid as merge_request_iid,
        project as project_path,
        sha as commit_sha,
        payload ->> '$.title' as title,
        payload ->> '$.author_name' as author_name,
        payload ->> '$.author_email' as author_email,
        authored_at,
        cast(payload ->> '$.committed_date' as timestamptz) as committed_at,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
