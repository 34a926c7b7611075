-- One row per default-branch commit (REST `GET /commits`); merge commits carry both parents.
-- Grain: commit_sha. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('github', 'commits') }}

),

renamed as (

    select
        sha as commit_sha,
        repo as repo_full_name,
        payload ->> '$.parents[0].sha' as first_parent_sha,
        payload ->> '$.parents[1].sha' as second_parent_sha,
        json_array_length(payload -> '$.parents') as parent_count,
        payload ->> '$.author.login' as author_login,
        payload ->> '$.commit.message' as message,
        try_cast(regexp_extract(payload ->> '$.commit.message', 'Merge pull request #([0-9]+)', 1) as integer) as merged_pull_request_number,
        committed_at,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
