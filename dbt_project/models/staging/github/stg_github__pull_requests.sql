-- One row per GitHub pull request, typed from the raw JSON payload.
-- The list endpoint has no `merged` flag: merged is derived from merged_at (DevLake stored merged PRs as
-- unmerged by reading a field the list does not carry).
with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

renamed as (

    select
        -- ids
        id as pull_request_id,
        repo as repo_full_name,
        number as pull_request_number,
        payload ->> '$.node_id' as node_id,
        payload ->> '$.html_url' as html_url,

        -- people
        payload ->> '$.user.login' as author_login,
        payload ->> '$.user.type' = 'Bot' as is_author_bot,
        payload ->> '$.author_association' as author_association,

        -- descriptive
        payload ->> '$.title' as title,
        state,
        coalesce((payload ->> '$.draft')::boolean, false) as is_draft,
        payload ->> '$.head.ref' as head_ref,
        payload ->> '$.base.ref' as base_ref,
        payload ->> '$.head.sha' as head_sha,
        -- GitHub sets a test-merge sha on unmerged PRs too: only meaningful once merged
        case when payload ->> '$.merged_at' is not null then payload ->> '$.merge_commit_sha' end
            as merge_commit_sha,
        json_array_length(coalesce(payload -> '$.labels', '[]'::json)) as label_count,
        list_transform(coalesce(payload ->> '$.labels[*].name', []), x -> lower(x)) as labels,

        -- booleans
        payload ->> '$.merged_at' is not null as is_merged,

        -- timestamps (UTC)
        created_at,
        updated_at,
        cast(payload ->> '$.closed_at' as timestamptz) as closed_at,
        cast(payload ->> '$.merged_at' as timestamptz) as merged_at,

        -- lineage
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
