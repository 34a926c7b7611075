-- One row per commit on the first-parent chain of each repository's default branch, numbered from the oldest
-- (mainline_position). "Reachable from commit X" on the mainline is then "position <= position of X", which is
-- what change linking needs: a deployment of X ships the mainline commits after the previous deployment's one.
--   * GitHub: walked through the commit graph (stg_github__commits parents), from the branch tip (the newest
--     commit nobody lists as a parent) back along first parents. Merge, squash and rebase merges all put the
--     PR's landing commit (merge_commit_sha) on this chain. The first parent of the oldest listed commit is
--     kept as a boundary row (is_listed false): deployments of the pre-history commit resolve to position 0.
--   * GitLab (no commit graph in the API data we load): merged MRs' landing commits (merge commit, else squash
--     commit, else the fast-forwarded head) in merge order on their default target branch, which is the
--     first-parent chain when MRs merge one at a time.
-- A repository with a GitHub commit graph never uses the GitLab fallback.
with recursive

commits as (

    select * from {{ ref('stg_github__commits') }}

),

merge_requests as (

    select * from {{ ref('stg_gitlab__merge_requests') }}

),

parent_shas as (

    select first_parent_sha as sha from commits where first_parent_sha is not null
    union
    select second_parent_sha from commits where second_parent_sha is not null

),

-- the default branch's tip: a commit no listed commit has as a parent (the newest one if several)
tips as (

    select repo_full_name, commit_sha
    from commits
    where commit_sha not in (select sha from parent_shas)
    qualify row_number() over (partition by repo_full_name order by committed_at desc, commit_sha) = 1

),

walk as (

    select c.repo_full_name, c.commit_sha, c.first_parent_sha, c.committed_at, 0 as depth
    from tips as t
    inner join commits as c on c.commit_sha = t.commit_sha and c.repo_full_name = t.repo_full_name

    union all

    select c.repo_full_name, c.commit_sha, c.first_parent_sha, c.committed_at, walk.depth + 1
    from walk
    inner join commits as c on c.commit_sha = walk.first_parent_sha and c.repo_full_name = walk.repo_full_name

),

graph_chain as (

    select
        repo_full_name,
        commit_sha,
        committed_at,
        max(depth) over (partition by repo_full_name) - depth + 1 as mainline_position,
        true as is_listed
    from walk

),

-- the unlisted first parent of the oldest listed commit: history before what was loaded
graph_boundary as (

    select
        w.repo_full_name,
        w.first_parent_sha as commit_sha,
        cast(null as timestamptz) as committed_at,
        0 as mainline_position,
        false as is_listed
    from walk as w
    where w.first_parent_sha is not null
    qualify w.depth = max(w.depth) over (partition by w.repo_full_name)

),

graph_repos as (

    select distinct repo_full_name from graph_chain

),

gitlab_merged as (

    select
        project_path as repo_full_name,
        target_branch,
        coalesce(merge_commit_sha, squash_commit_sha, head_sha) as commit_sha,
        merged_at
    from merge_requests
    where merged_at is not null
        and project_path not in (select repo_full_name from graph_repos)

),

gitlab_default_branch as (

    select repo_full_name, mode(target_branch) as target_branch
    from gitlab_merged
    group by repo_full_name

),

gitlab_chain as (

    select
        m.repo_full_name,
        m.commit_sha,
        m.merged_at as committed_at,
        row_number() over (partition by m.repo_full_name order by m.merged_at, m.commit_sha) as mainline_position,
        true as is_listed
    from gitlab_merged as m
    inner join gitlab_default_branch as b
        on b.repo_full_name = m.repo_full_name and b.target_branch = m.target_branch
    where m.commit_sha is not null

),

final as (

    select *, 'commit_graph' as chain_source from graph_chain
    union all
    select *, 'commit_graph' from graph_boundary
    union all
    select *, 'merge_order' from gitlab_chain

)

select * from final
