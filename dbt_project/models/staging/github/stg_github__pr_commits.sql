-- One row per commit of a pull request (REST `GET /pulls/{n}/commits`, max 250 per PR).
-- Grain: pr_commit_key. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('github', 'pr_commits') }}

),

renamed as (

    select
        pr_id || ':' || sha as pr_commit_key,
        pr_id as pull_request_id,
        sha as commit_sha,
        repo as repo_full_name,
        pr_number as pull_request_number,
        payload ->> '$.author.login' as author_login,
        payload ->> '$.commit.author.email' as author_email,
        cast(payload ->> '$.commit.author.date' as timestamptz) as authored_at,
        committed_at,
        payload ->> '$.commit.message' as message,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
