-- One row per pull request (GitHub) or merge request (GitLab): outcome, time to merge, the cycle breakdown
-- (coding, pickup, review, deploy), lead time for changes and the deployment that shipped it.
-- The moments come from int_delivery__pull_requests; here they become hours.
with

pull_requests as (

    select * from {{ ref('int_delivery__pull_requests') }}

),

final as (

    select
        pull_request_id,
        source_system,
        repo_full_name,
        pull_request_number,
        title,
        author_login,
        coalesce(is_author_bot, false) as is_author_bot,
        case
            when is_merged then 'merged'
            when state = 'closed' then 'closed_unmerged'
            when is_draft then 'draft'
            else 'open'
        end as outcome,
        is_merged,
        opened_at,
        merged_at,
        closed_at,
        merge_commit_sha,
        -- hours, not an interval: analysts' tools and medians handle numbers better
        case
            when is_merged then round(epoch(merged_at - opened_at) / 3600.0, 2)
        end as hours_to_merge,
        updated_at,

        -- where it belongs
        source_system || ':' || pull_request_id as pull_request_key,
        service,
        team_key,

        -- the cycle's moments
        first_commit_at,
        first_review_at,
        deployed_at,
        deployment_id,

        -- the cycle's phases in hours; a phase whose end precedes its start is null, not negative
        case when first_commit_at <= opened_at then epoch(opened_at - first_commit_at) / 3600.0 end
            as coding_hours,
        case when first_review_at >= opened_at then epoch(first_review_at - opened_at) / 3600.0 end
            as pickup_hours,
        case when merged_at >= first_review_at then epoch(merged_at - first_review_at) / 3600.0 end
            as review_hours,
        case when deployed_at >= merged_at then epoch(deployed_at - merged_at) / 3600.0 end as deploy_hours,
        case when deployed_at >= first_commit_at then epoch(deployed_at - first_commit_at) / 3600.0 end
            as lead_time_for_changes_hours

    from pull_requests

)

select * from final
