-- One row per CI run attempt (GitHub Actions workflow run attempt, GitLab pipeline try, Jenkins build), with
-- its service and team, result, timings, runner minutes and cost, and whether it was a flaky failure.
-- Grain: ci_attempt_key. See int_ci__run_attempts.yml for the definitions.
with

jobs as (

    select * from {{ ref('int_ci__jobs') }}

),

github_runs as (

    select * from {{ ref('stg_github__workflow_runs') }}

),

gitlab_pipelines as (

    select * from {{ ref('stg_gitlab__pipelines') }}

),

jenkins_builds as (

    select * from {{ ref('stg_jenkins__builds') }}

),

services as (

    select * from {{ ref('services') }}

),

job_rollup as (

    select
        ci_attempt_key,
        min(coalesce(created_at, started_at)) as jobs_created_at,
        min(created_at) as jobs_queued_at,
        min(started_at) as jobs_started_at,
        max(finished_at) as jobs_finished_at,
        count(*) as job_count,
        count(*) filter (where result = 'failure' and not allow_failure) as failed_job_count,
        coalesce(sum(runner_minutes), 0) as runner_minutes,
        coalesce(sum(ci_cost_usd), 0) as ci_cost_usd,
        coalesce(sum(runner_minutes) filter (where ran_again_later), 0) as rerun_runner_minutes,
        coalesce(sum(ci_cost_usd) filter (where ran_again_later), 0) as rerun_ci_cost_usd

    from jobs
    group by ci_attempt_key

),

github_attempts as (

    select
        'github_actions' as provider,
        'github_actions:' || cast(run_id as varchar) as run_key,
        run_attempt as attempt_number,
        cast(run_id as varchar) as source_run_id,
        repo_full_name as repo,
        workflow_name,
        event,
        head_branch,
        head_sha,
        {{ matches_rule('workflow_name', 'github', 'deployment_pattern') }} as is_deployment,
        case
            when status <> 'completed' then 'running'
            when conclusion in ('success', 'neutral') then 'success'
            when conclusion in ('failure', 'timed_out', 'startup_failure') then 'failure'
            when conclusion = 'cancelled' then 'cancelled'
            when conclusion = 'skipped' then 'skipped'
            else 'other'
        end as result,
        run_started_at as fallback_created_at,
        run_started_at as fallback_started_at,
        case when status = 'completed' then updated_at end as fallback_finished_at

    from github_runs

),

gitlab_tries as (

    -- every pipeline has attempt 1; retried jobs add attempts 2, 3...
    select pipeline_id, 1 as attempt_number from gitlab_pipelines
    union
    select cast(split_part(run_key, ':', 2) as bigint), attempt_number from jobs where provider = 'gitlab'

),

gitlab_effective_jobs as (

    -- the pipeline as it stood after try k: for each job name its newest try up to k
    select
        tries.pipeline_id,
        tries.attempt_number,
        jobs.result,
        jobs.allow_failure

    from gitlab_tries as tries
    inner join jobs
        on jobs.run_key = 'gitlab:' || cast(tries.pipeline_id as varchar)
        and jobs.attempt_number <= tries.attempt_number
    qualify row_number() over (
        partition by tries.pipeline_id, tries.attempt_number, jobs.job_name order by jobs.attempt_number desc
    ) = 1

),

gitlab_effective_results as (

    select
        pipeline_id,
        attempt_number,
        case
            when bool_or(result = 'running') then 'running'
            when bool_or(result = 'failure' and not allow_failure) then 'failure'
            when bool_or(result = 'cancelled') then 'cancelled'
            when bool_and(result = 'skipped') then 'skipped'
            else 'success'
        end as result

    from gitlab_effective_jobs
    group by pipeline_id, attempt_number

),

gitlab_attempts as (

    select
        'gitlab' as provider,
        'gitlab:' || cast(pipelines.pipeline_id as varchar) as run_key,
        tries.attempt_number,
        cast(pipelines.pipeline_id as varchar) as source_run_id,
        pipelines.project_path as repo,
        coalesce(pipelines.pipeline_name, 'pipeline') as workflow_name,
        pipelines.pipeline_source as event,
        pipelines.ref as head_branch,
        pipelines.commit_sha as head_sha,
        {{ matches_rule('pipelines.pipeline_name', 'gitlab', 'deployment_pattern') }} as is_deployment,
        -- the newest try is the pipeline as GitLab reports it; earlier ones are judged from their jobs
        case
            when tries.attempt_number < max(tries.attempt_number) over (partition by pipelines.pipeline_id)
                then effective.result
            when pipelines.status = 'success' then 'success'
            when pipelines.status = 'failed' then 'failure'
            when pipelines.status = 'canceled' then 'cancelled'
            when pipelines.status in ('skipped', 'manual') then 'skipped'
            else 'running'
        end as result,
        case when tries.attempt_number = 1 then pipelines.created_at end as fallback_created_at,
        case when tries.attempt_number = 1 then pipelines.started_at end as fallback_started_at,
        case when tries.attempt_number = 1 then pipelines.finished_at end as fallback_finished_at

    from gitlab_tries as tries
    inner join gitlab_pipelines as pipelines
        on tries.pipeline_id = pipelines.pipeline_id
    left join gitlab_effective_results as effective
        on tries.pipeline_id = effective.pipeline_id
        and tries.attempt_number = effective.attempt_number

),

jenkins_attempts as (

    select
        'jenkins' as provider,
        jobs.run_key,
        jobs.attempt_number,
        builds.build_key as source_run_id,
        jobs.repo,
        jobs.workflow_name,
        case
            when builds.cause ilike '%push%' then 'push'
            when builds.cause ilike '%timer%' then 'schedule'
            when builds.cause ilike 'started by user%' then 'manual'
            else builds.cause
        end as event,
        cast(null as varchar) as head_branch,
        jobs.head_sha,
        builds.is_deployment_job as is_deployment,
        jobs.result,
        cast(null as timestamptz) as fallback_created_at,
        builds.started_at as fallback_started_at,
        builds.finished_at as fallback_finished_at

    from jenkins_builds as builds
    inner join jobs
        on jobs.ci_job_key = 'jenkins:' || builds.build_key

),

attempts as (

    select * from github_attempts
    union all
    select * from gitlab_attempts
    union all
    select * from jenkins_attempts

),

joined as (

    select
        attempts.run_key || ':' || cast(attempts.attempt_number as varchar) as ci_attempt_key,
        attempts.run_key,
        attempts.provider,
        attempts.source_run_id,
        attempts.attempt_number,
        attempts.attempt_number > 1 as is_rerun,
        attempts.repo,
        services.service,
        services.team_key,
        attempts.workflow_name,
        attempts.event,
        attempts.head_branch,
        attempts.head_sha,
        attempts.is_deployment,
        attempts.result,
        coalesce(rollup.jobs_created_at, attempts.fallback_created_at, attempts.fallback_started_at) as created_at,
        coalesce(rollup.jobs_started_at, attempts.fallback_started_at) as started_at,
        case
            when attempts.result <> 'running' then coalesce(rollup.jobs_finished_at, attempts.fallback_finished_at)
        end as finished_at,
        rollup.jobs_queued_at,
        coalesce(rollup.job_count, 0) as job_count,
        coalesce(rollup.failed_job_count, 0) as failed_job_count,
        coalesce(rollup.runner_minutes, 0) as runner_minutes,
        coalesce(rollup.ci_cost_usd, 0) as ci_cost_usd,
        coalesce(rollup.rerun_runner_minutes, 0) as rerun_runner_minutes,
        coalesce(rollup.rerun_ci_cost_usd, 0) as rerun_ci_cost_usd

    from attempts
    left join job_rollup as rollup
        on attempts.run_key || ':' || cast(attempts.attempt_number as varchar) = rollup.ci_attempt_key
    left join services
        on attempts.repo = services.repo

),

ordered as (

    select
        *,
        case when head_sha is not null then provider || ':' || repo || ':' || workflow_name || ':' || head_sha end
            as commit_scope,
        dense_rank() over (
            partition by provider, repo, workflow_name, head_sha order by created_at, run_key, attempt_number
        ) as attempt_sequence

    from joined

),

flagged as (

    select
        *,
        -- failed on a commit on which the same workflow later passed (a re-run attempt or a new run), i.e.
        -- without a new commit; deployments are judged by the deployment metrics, not as CI flakiness
        result = 'failure'
        and not is_deployment
        and commit_scope is not null
        and coalesce(
            max(case when result = 'success' then attempt_sequence end) over (partition by commit_scope), 0
        ) > attempt_sequence as is_flaky

    from ordered

),

final as (

    select
        ci_attempt_key,
        run_key,
        provider,
        source_run_id,
        attempt_number,
        is_rerun,
        repo,
        service,
        team_key,
        workflow_name,
        event,
        head_branch,
        head_sha,
        is_deployment,
        result,
        created_at,
        started_at,
        finished_at,
        case
            when jobs_queued_at is not null then date_diff('millisecond', jobs_queued_at, started_at) / 60000.0
        end as queue_minutes,
        case
            when finished_at is not null then date_diff('millisecond', started_at, finished_at) / 60000.0
        end as duration_minutes,
        job_count,
        failed_job_count,
        runner_minutes,
        ci_cost_usd,
        is_flaky,
        case when is_flaky then rerun_runner_minutes else 0 end as runner_minutes_lost,
        case when is_flaky then rerun_ci_cost_usd else 0 end as ci_cost_lost_usd,
        attempt_sequence

    from flagged

)

select * from final
