-- One row per pull request with its outcome and time to merge.
-- Later issues add the cycle breakdown (coding, pickup, review, deploy) and the deployment that shipped it.
with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}

),

final as (

    select
        pull_request_id,
        'github' as source_system,
        repo_full_name,
        pull_request_number,
        title,
        author_login,
        is_author_bot,
        case
            when is_merged then 'merged'
            when state = 'closed' then 'closed_unmerged'
            when is_draft then 'draft'
            else 'open'
        end as outcome,
        is_merged,
        created_at as opened_at,
        merged_at,
        closed_at,
        merge_commit_sha,
        -- hours, not an interval: analysts' tools and medians handle numbers better
        case
            when is_merged then round(epoch(merged_at - created_at) / 3600.0, 2)
        end as hours_to_merge,
        updated_at

    from pull_requests

)

select * from final
