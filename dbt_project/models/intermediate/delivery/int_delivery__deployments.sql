-- One row per deployment attempt, unified from every tool that deploys:
--   * GitHub deployments: result and finish time from the final status (success, or failure/error; a later
--     "inactive" only means a newer deployment replaced it), start from the first in_progress status;
--   * GitLab deployments (success / failed / canceled);
--   * Jenkins builds of jobs matching rules.jenkins.deployment_pattern (is_deployment_job), the service from the
--     services seed's jenkins_job, the environment from the ENVIRONMENT parameter;
--   * CI jobs matching the deployment pattern (GitHub Actions jobs, GitLab jobs of the deploy stage), only for
--     services no tool above records deployments for (they are the same events seen twice otherwise).
-- Production follows the configured rules (environment name pattern, or the tool's production flag/tier).
-- kind: what the deployment was, from the tool when it records it (GitHub payload.kind, Jenkins KIND parameter),
-- else from the text (description, ref, rework_kind_pattern; a "Revert ..." head commit), else from the
-- sequence: the same commit as the previous attempt that failed is a *retry* (not a new change), a commit
-- older on the mainline than the previous successful deployment's is a *rollback*.
-- Rework (DORA 2024 deployment rework rate): a production hotfix, revert or rollback, or a production
-- deployment started while an incident of the same service was open (made to recover from it); retries never.
with

github_deployments as (

    select * from {{ ref('stg_github__deployments') }}

),

github_statuses as (

    select * from {{ ref('stg_github__deployment_statuses') }}

),

gitlab_deployments as (

    select * from {{ ref('stg_gitlab__deployments') }}

),

jenkins_builds as (

    select * from {{ ref('stg_jenkins__builds') }}

),

workflow_jobs as (

    select * from {{ ref('stg_github__workflow_jobs') }}

),

workflow_runs as (

    select * from {{ ref('stg_github__workflow_runs') }}

),

gitlab_jobs as (

    select * from {{ ref('stg_gitlab__jobs') }}

),

gitlab_pipelines as (

    select * from {{ ref('stg_gitlab__pipelines') }}

),

github_commits as (

    select * from {{ ref('stg_github__commits') }}

),

mainline as (

    select * from {{ ref('int_delivery__mainline_commits') }}

),

incidents as (

    select * from {{ ref('int_delivery__incidents') }}

),

services as (

    select * from {{ ref('services') }}

),

github_final_status as (

    select deployment_id, state, created_at
    from github_statuses
    where state in ('success', 'failure', 'error')
    qualify row_number() over (partition by deployment_id order by created_at desc, deployment_status_id desc) = 1

),

github_started as (

    select deployment_id, min(created_at) as started_at
    from github_statuses
    where state = 'in_progress'
    group by deployment_id

),

github as (

    select
        'github:' || d.deployment_id as deployment_id,
        'github' as source_system,
        cast(d.deployment_id as varchar) as source_deployment_id,
        d.repo_full_name,
        s.service,
        d.environment,
        d.is_production,
        d.commit_sha,
        d.ref,
        d.deployment_kind as declared_kind,
        concat_ws(' ', d.description, d.ref) as kind_text,
        d.creator_login as creator,
        d.created_at,
        coalesce(st.started_at, d.created_at) as started_at,
        fs.created_at as finished_at,
        case fs.state when 'success' then 'success' when 'failure' then 'failure' when 'error' then 'failure' end
            as result,
        cast(null as varchar[]) as changed_commit_shas
    from github_deployments as d
    left join github_final_status as fs on fs.deployment_id = d.deployment_id
    left join github_started as st on st.deployment_id = d.deployment_id
    left join services as s on s.repo = d.repo_full_name

),

gitlab as (

    select
        'gitlab:' || d.deployment_id as deployment_id,
        'gitlab' as source_system,
        cast(d.deployment_id as varchar) as source_deployment_id,
        d.project_path as repo_full_name,
        s.service,
        d.environment,
        d.is_production,
        d.commit_sha,
        d.ref,
        cast(null as varchar) as declared_kind,
        d.ref as kind_text,
        d.deployer_username as creator,
        d.created_at,
        d.created_at as started_at,
        case when d.status in ('success', 'failed', 'canceled') then coalesce(d.finished_at, d.updated_at) end
            as finished_at,
        case d.status when 'success' then 'success' when 'failed' then 'failure' when 'canceled' then 'canceled' end
            as result,
        cast(null as varchar[]) as changed_commit_shas
    from gitlab_deployments as d
    left join services as s on s.repo = d.project_path

),

jenkins as (

    select
        'jenkins:' || b.build_key as deployment_id,
        'jenkins' as source_system,
        b.build_key as source_deployment_id,
        s.repo as repo_full_name,
        s.service,
        coalesce(b.environment_parameter, b.job_full_name) as environment,
        {{ matches_rule('coalesce(b.environment_parameter, b.job_full_name)', 'jenkins', 'production_environment_pattern') }}
            as is_production,
        b.commit_sha,
        cast(null as varchar) as ref,
        b.kind_parameter as declared_kind,
        b.job_full_name as kind_text,
        b.triggered_by as creator,
        b.started_at as created_at,
        b.started_at,
        b.finished_at,
        case
            when b.is_building then null
            when b.result = 'SUCCESS' then 'success'
            when b.result in ('FAILURE', 'UNSTABLE') then 'failure'
            when b.result in ('ABORTED', 'NOT_BUILT') then 'canceled'
        end as result,
        b.changed_commit_shas
    from jenkins_builds as b
    left join services as s on s.jenkins_job = b.job_full_name
    where b.is_deployment_job

),

native as (

    select * from github
    union all
    select * from gitlab
    union all
    select * from jenkins

),

native_targets as (

    select distinct coalesce(service, repo_full_name) as target from native

),

github_actions_jobs as (

    select
        'github_actions:' || j.job_id as deployment_id,
        'github_actions' as source_system,
        cast(j.job_id as varchar) as source_deployment_id,
        j.repo_full_name,
        s.service,
        case
            when {{ matches_rule('j.job_name', 'github', 'production_environment_pattern') }} then 'production'
            else j.job_name
        end as environment,
        {{ matches_rule('j.job_name', 'github', 'production_environment_pattern') }} as is_production,
        r.head_sha as commit_sha,
        r.head_branch as ref,
        cast(null as varchar) as declared_kind,
        concat_ws(' ', j.job_name, r.head_branch) as kind_text,
        r.actor_login as creator,
        coalesce(r.created_at, j.started_at) as created_at,
        j.started_at,
        j.completed_at as finished_at,
        case
            when j.conclusion = 'success' then 'success'
            when j.conclusion in ('failure', 'timed_out') then 'failure'
            when j.conclusion in ('cancelled', 'skipped') then 'canceled'
        end as result,
        cast(null as varchar[]) as changed_commit_shas
    from workflow_jobs as j
    left join workflow_runs as r on r.run_id = j.run_id and r.run_attempt = j.run_attempt
    left join services as s on s.repo = j.repo_full_name
    where {{ matches_rule('j.job_name', 'github', 'deployment_pattern') }}

),

gitlab_ci_jobs as (

    select
        'gitlab_job:' || j.job_id as deployment_id,
        'gitlab_ci' as source_system,
        cast(j.job_id as varchar) as source_deployment_id,
        j.project_path as repo_full_name,
        s.service,
        case
            when {{ matches_rule('j.job_name', 'gitlab', 'production_environment_pattern') }} then 'production'
            else j.job_name
        end as environment,
        {{ matches_rule('j.job_name', 'gitlab', 'production_environment_pattern') }} as is_production,
        p.commit_sha,
        p.ref,
        cast(null as varchar) as declared_kind,
        concat_ws(' ', j.job_name, p.ref) as kind_text,
        p.triggered_by_username as creator,
        j.created_at,
        j.started_at,
        j.finished_at,
        case j.status when 'success' then 'success' when 'failed' then 'failure' when 'canceled' then 'canceled' end
            as result,
        cast(null as varchar[]) as changed_commit_shas
    from gitlab_jobs as j
    left join gitlab_pipelines as p on p.pipeline_id = j.pipeline_id
    left join services as s on s.repo = j.project_path
    where j.stage = 'deploy' or {{ matches_rule('j.job_name', 'gitlab', 'deployment_pattern') }}

),

unioned as (

    select * from native
    union all
    select * from github_actions_jobs
    where coalesce(service, repo_full_name) not in (select target from native_targets)
    union all
    select * from gitlab_ci_jobs
    where coalesce(service, repo_full_name) not in (select target from native_targets)

),

positioned as (

    select
        u.*,
        coalesce(u.service, u.repo_full_name) as deploy_target,
        m.mainline_position,
        split_part(c.message, chr(10), 1) as head_commit_title
    from unioned as u
    left join mainline as m on m.repo_full_name = u.repo_full_name and m.commit_sha = u.commit_sha
    left join github_commits as c on c.commit_sha = u.commit_sha

),

sequenced as (

    select
        *,
        -- the attempt just before, whatever its result: a failed one with the same commit makes this a retry
        lag(result) over by_request as previous_result,
        lag(commit_sha) over by_request as previous_commit_sha,
        -- the previous successful deployment's mainline position (deploying an older commit is a rollback)
        last_value(case when result = 'success' then mainline_position end ignore nulls) over by_finish
            as previous_success_position,
        last_value(case when result = 'success' then commit_sha end ignore nulls) over by_finish
            as previous_success_sha
    from positioned
    window
        by_request as (partition by deploy_target, environment order by created_at, deployment_id),
        by_finish as (
            partition by deploy_target, environment
            order by finished_at nulls last, created_at
            rows between unbounded preceding and 1 preceding
        )

),

-- a commit an earlier successful deployment already ran, other than the one running now: a rollback (works
-- without a commit graph too)
redeployed_old as (

    select distinct s.deployment_id
    from sequenced as s
    inner join sequenced as earlier
        on earlier.deploy_target = s.deploy_target
        and earlier.environment = s.environment
        and earlier.commit_sha = s.commit_sha
        and earlier.result = 'success'
        and earlier.finished_at < s.created_at
    where s.previous_success_sha is distinct from s.commit_sha

),

kinds as (

    select
        sequenced.*,
        case
            when lower(declared_kind) in ('regular', 'hotfix', 'revert', 'rollback', 'retry') then lower(declared_kind)
            when previous_result = 'failure' and previous_commit_sha = commit_sha then 'retry'
            when regexp_matches(kind_text, '{{ metric_var("rework_kind_pattern") }}')
                then lower(regexp_extract(kind_text, '{{ metric_var("rework_kind_pattern") }}', 1))
            when regexp_matches(head_commit_title, '^Revert ') then 'revert'
            when mainline_position < previous_success_position or redeployed_old.deployment_id is not null
                then 'rollback'
            else 'regular'
        end as kind,
        case
            when lower(declared_kind) in ('regular', 'hotfix', 'revert', 'rollback', 'retry') then 'declared'
            when previous_result = 'failure' and previous_commit_sha = commit_sha then 'sequence'
            when regexp_matches(kind_text, '{{ metric_var("rework_kind_pattern") }}') then 'text'
            when regexp_matches(head_commit_title, '^Revert ') then 'commit_message'
            when mainline_position < previous_success_position then 'commit_graph'
            when redeployed_old.deployment_id is not null then 'sequence'
            else 'default'
        end as kind_source
    from sequenced
    left join redeployed_old on redeployed_old.deployment_id = sequenced.deployment_id

),

-- production deployments started while an incident of the same service was open: recovery work (inferred
-- only when the deploying tool does not declare the kind: a declared "regular" deployment is not rework)
recovering as (

    select k.deployment_id, min(i.incident_id) as recovering_incident_id
    from kinds as k
    inner join incidents as i
        on i.service = k.service
        and k.started_at >= i.started_at
        and (i.resolved_at is null or k.started_at <= i.resolved_at)
    where k.is_production and k.kind_source <> 'declared'
    group by k.deployment_id

),

final as (

    select
        k.deployment_id,
        k.source_system,
        k.source_deployment_id,
        k.repo_full_name,
        k.service,
        s.team_key,
        k.environment,
        k.is_production,
        k.commit_sha,
        k.ref,
        k.mainline_position,
        k.kind,
        k.kind_source,
        k.kind = 'retry' as is_retry,
        k.is_production and k.kind <> 'retry' and (
            k.kind in ('hotfix', 'revert', 'rollback') or r.recovering_incident_id is not null
        ) as is_rework,
        case
            when not k.is_production or k.kind = 'retry' then null
            when k.kind in ('hotfix', 'revert', 'rollback') then k.kind
            when r.recovering_incident_id is not null then 'incident_recovery'
        end as rework_reason,
        r.recovering_incident_id,
        k.creator,
        k.created_at,
        k.started_at,
        k.finished_at,
        k.result,
        k.changed_commit_shas
    from kinds as k
    left join recovering as r on r.deployment_id = k.deployment_id
    left join services as s on s.service = k.service

)

select * from final
