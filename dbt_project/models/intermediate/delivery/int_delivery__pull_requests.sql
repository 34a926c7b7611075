-- One row per pull request (GitHub) or merge request (GitLab) with the moments its cycle is measured between:
-- first commit authored, opened, first review or comment by someone else (not the author, not a bot), merged,
-- and deployed to production, plus the deployment that shipped it.
-- Deployed = the earliest successful production deployment of its repository that finished at or after the
-- merge and whose commit reaches the PR's landing commit on the mainline (equivalently: the first deployment
-- that shipped it, see int_delivery__deployment_commits); for deployments without a known mainline, one whose
-- change set lists the landing commit. The landing commit is merge_commit_sha: for merge, squash and rebase
-- merges alike it is the commit the PR put on the default branch (GitLab: merge commit, else squash commit,
-- else the fast-forwarded head). A deployment that finished before the merge cannot ship it.
with

github_pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}

),

github_pr_commits as (

    select * from {{ ref('stg_github__pr_commits') }}

),

github_reviews as (

    select * from {{ ref('stg_github__pr_reviews') }}

),

merge_requests as (

    select * from {{ ref('stg_gitlab__merge_requests') }}

),

mr_commits as (

    select * from {{ ref('stg_gitlab__mr_commits') }}

),

mr_notes as (

    select * from {{ ref('stg_gitlab__mr_notes') }}

),

deployments as (

    select * from {{ ref('int_delivery__deployments') }}

),

mainline as (

    select * from {{ ref('int_delivery__mainline_commits') }}

),

services as (

    select * from {{ ref('services') }}

),

identity_map as (

    select * from {{ ref('int_identity_map') }}

),

github as (

    select
        pr.pull_request_id,
        'github' as source_system,
        pr.repo_full_name,
        pr.pull_request_number,
        pr.title,
        pr.author_login,
        pr.is_author_bot or regexp_matches(pr.author_login, '{{ metric_var("bot_pattern") }}') as is_author_bot,
        pr.state,
        pr.is_draft,
        pr.is_merged,
        pr.created_at as opened_at,
        pr.merged_at,
        pr.closed_at,
        pr.merge_commit_sha,
        pr.merge_commit_sha as landing_commit_sha,
        pr.updated_at,
        fc.first_commit_at,
        fr.first_review_at
    from github_pull_requests as pr
    left join (
        select pull_request_id, min(authored_at) as first_commit_at
        from github_pr_commits
        group by pull_request_id
    ) as fc on fc.pull_request_id = pr.pull_request_id
    left join (
        select r.pull_request_id, min(r.submitted_at) as first_review_at
        from github_reviews as r
        inner join github_pull_requests as p on p.pull_request_id = r.pull_request_id
        where r.review_state <> 'PENDING'
            and r.submitted_at is not null
            and lower(r.reviewer_login) <> lower(p.author_login)
            and not regexp_matches(r.reviewer_login, '{{ metric_var("bot_pattern") }}')
        group by r.pull_request_id
    ) as fr on fr.pull_request_id = pr.pull_request_id

),

gitlab as (

    select
        mr.merge_request_id as pull_request_id,
        'gitlab' as source_system,
        mr.project_path as repo_full_name,
        mr.merge_request_iid as pull_request_number,
        mr.title,
        mr.author_username as author_login,
        regexp_matches(mr.author_username, '{{ metric_var("bot_pattern") }}') as is_author_bot,
        case mr.state when 'opened' then 'open' when 'merged' then 'closed' when 'locked' then 'open' else mr.state end
            as state,
        mr.is_draft,
        mr.merged_at is not null as is_merged,
        mr.created_at as opened_at,
        mr.merged_at,
        coalesce(mr.closed_at, mr.merged_at) as closed_at,
        case when mr.merged_at is not null then coalesce(mr.merge_commit_sha, mr.squash_commit_sha) end
            as merge_commit_sha,
        case when mr.merged_at is not null then coalesce(mr.merge_commit_sha, mr.squash_commit_sha, mr.head_sha) end
            as landing_commit_sha,
        mr.updated_at,
        fc.first_commit_at,
        fr.first_review_at
    from merge_requests as mr
    left join (
        select merge_request_id, min(authored_at) as first_commit_at
        from mr_commits
        group by merge_request_id
    ) as fc on fc.merge_request_id = mr.merge_request_id
    left join (
        -- comments by others, and approvals (a system note "approved this merge request" by the approver)
        select n.merge_request_id, min(n.created_at) as first_review_at
        from mr_notes as n
        inner join merge_requests as m on m.merge_request_id = n.merge_request_id
        where (not n.is_system or n.body like 'approved%')
            and lower(n.author_username) <> lower(m.author_username)
            and not regexp_matches(n.author_username, '{{ metric_var("bot_pattern") }}')
        group by n.merge_request_id
    ) as fr on fr.merge_request_id = mr.merge_request_id

),

unioned as (

    select * from github
    union all
    select * from gitlab

),

landed as (

    select u.*, m.mainline_position as landing_position
    from unioned as u
    left join mainline as m on m.repo_full_name = u.repo_full_name and m.commit_sha = u.landing_commit_sha

),

successful_production as (

    select * from deployments
    where is_production and result = 'success' and finished_at is not null

),

deployed as (

    select
        l.source_system,
        l.pull_request_id,
        d.deployment_id,
        d.finished_at as deployed_at
    from landed as l
    inner join successful_production as d
        on d.repo_full_name = l.repo_full_name
        and d.finished_at >= l.merged_at
        and (
            d.mainline_position >= l.landing_position
            or list_contains(d.changed_commit_shas, l.landing_commit_sha)
        )
    where l.merged_at is not null
    qualify row_number() over (
        partition by l.source_system, l.pull_request_id order by d.finished_at, d.deployment_id
    ) = 1

),

-- the author's team on the day the PR was opened, for repositories no service maps to a team
author_team as (

    select l.source_system, l.pull_request_id, min(i.team_key) as team_key
    from landed as l
    inner join identity_map as i
        on i.tool = l.source_system
        and i.identity = lower(l.author_login)
        and l.opened_at::date >= coalesce(i.valid_from, date '1900-01-01')
        and l.opened_at::date < coalesce(i.valid_to, date '9999-12-31')
    group by l.source_system, l.pull_request_id

),

final as (

    select
        l.*,
        s.service,
        coalesce(s.team_key, a.team_key) as team_key,
        d.deployment_id,
        d.deployed_at
    from landed as l
    left join services as s on s.repo = l.repo_full_name
    left join author_team as a on a.source_system = l.source_system and a.pull_request_id = l.pull_request_id
    left join deployed as d on d.source_system = l.source_system and d.pull_request_id = l.pull_request_id

)

select * from final
