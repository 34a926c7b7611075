-- One row per pull request review (REST `GET /pulls/{n}/reviews`).
-- Grain: review_id. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('github', 'pr_reviews') }}

),

renamed as (

    select
        id as review_id,
        pr_id as pull_request_id,
        repo as repo_full_name,
        pr_number as pull_request_number,
        payload ->> '$.user.login' as reviewer_login,
        upper(state) as review_state,
        payload ->> '$.commit_id' as commit_sha,
        submitted_at,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
