-- One row per CI job of one run attempt, from GitHub Actions, GitLab and Jenkins, with its billable runner
-- minutes and their price, and whether the same job ran / passed again later on the same commit.
-- Grain: ci_job_key. See int_ci__jobs.yml for the definitions.
with

github_jobs as (

    select * from {{ ref('stg_github__workflow_jobs') }}

),

github_runs as (

    select * from {{ ref('stg_github__workflow_runs') }}

),

gitlab_jobs as (

    select * from {{ ref('stg_gitlab__jobs') }}

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

runner_rates as (

    select * from {{ ref('ci_runner_rates') }}

),

github_unified as (

    select
        'github_actions' as provider,
        'github_actions:' || cast(jobs.job_id as varchar) as ci_job_key,
        'github_actions:' || cast(jobs.run_id as varchar) as run_key,
        jobs.run_attempt as attempt_number,
        runs.repo_full_name as repo,
        runs.workflow_name,
        runs.head_sha,
        jobs.job_name,
        case
            when jobs.status <> 'completed' then 'running'
            when jobs.conclusion in ('success', 'neutral') then 'success'
            when jobs.conclusion in ('failure', 'timed_out', 'startup_failure') then 'failure'
            when jobs.conclusion = 'cancelled' then 'cancelled'
            when jobs.conclusion = 'skipped' then 'skipped'
            else 'other'
        end as result,
        false as allow_failure,
        jobs.failed_step_name,
        cast(null as varchar) as failure_reason,
        list_transform(coalesce(jobs.runner_labels, []), lambda label: lower(label)) as runner_labels,
        jobs.created_at,
        jobs.started_at,
        case when jobs.status = 'completed' then jobs.completed_at end as finished_at,
        case
            when jobs.status = 'completed' then date_diff('millisecond', jobs.started_at, jobs.completed_at) / 60000.0
        end as duration_minutes

    from github_jobs as jobs
    -- a job belongs to the attempt its run row describes; both are written by the same sync
    inner join github_runs as runs
        on jobs.run_id = runs.run_id
        and jobs.run_attempt = runs.run_attempt

),

gitlab_unified as (

    select
        'gitlab' as provider,
        'gitlab:' || cast(jobs.job_id as varchar) as ci_job_key,
        'gitlab:' || cast(jobs.pipeline_id as varchar) as run_key,
        -- GitLab retries a job in place: the older tries of a job name are `retried`, the newest is not.
        -- Try n of every job name is attempt n of the pipeline.
        row_number() over (
            partition by jobs.pipeline_id, jobs.job_name
            order by coalesce(jobs.is_retried, false) desc, jobs.started_at nulls last, jobs.created_at, jobs.job_id
        ) as attempt_number,
        pipelines.project_path as repo,
        coalesce(pipelines.pipeline_name, 'pipeline') as workflow_name,
        pipelines.commit_sha as head_sha,
        jobs.job_name,
        case
            when jobs.status = 'success' then 'success'
            when jobs.status = 'failed' then 'failure'
            when jobs.status = 'canceled' then 'cancelled'
            when jobs.status in ('skipped', 'manual') then 'skipped'
            else 'running'
        end as result,
        jobs.allow_failure,
        cast(null as varchar) as failed_step_name,
        jobs.failure_reason,
        list_transform(coalesce(jobs.runner_tags, []), lambda tag: lower(tag)) as runner_labels,
        jobs.created_at,
        jobs.started_at,
        case when jobs.status in ('success', 'failed', 'canceled') then jobs.finished_at end as finished_at,
        case when jobs.status in ('success', 'failed', 'canceled') then jobs.duration_seconds / 60.0 end
            as duration_minutes

    from gitlab_jobs as jobs
    inner join gitlab_pipelines as pipelines
        on jobs.pipeline_id = pipelines.pipeline_id

),

jenkins_unified as (

    select
        'jenkins' as provider,
        'jenkins:' || builds.build_key as ci_job_key,
        -- Jenkins has no attempts: a rebuild is a new build number. CI builds of one job on one commit are
        -- the attempts of one run, numbered in build order; each deployment build is a run of its own.
        'jenkins:' || case
            when builds.is_deployment_job or builds.commit_sha is null then builds.build_key
            else builds.job_full_name || ':' || builds.commit_sha
        end as run_key,
        case
            when builds.is_deployment_job or builds.commit_sha is null then 1
            else row_number() over (partition by builds.job_full_name, builds.commit_sha order by builds.build_number)
        end as attempt_number,
        coalesce(
            nullif(regexp_extract(builds.remote_url, '([^/:]+/[^/]+?)(\.git)?/?$', 1), ''),
            services.repo
        ) as repo,
        builds.job_full_name as workflow_name,
        builds.commit_sha as head_sha,
        -- the JSON API shows a build, not its stages: the build is its one job
        builds.job_full_name as job_name,
        case
            when builds.result = 'SUCCESS' then 'success'
            when builds.result in ('FAILURE', 'UNSTABLE') then 'failure'
            when builds.result = 'ABORTED' then 'cancelled'
            when builds.result = 'NOT_BUILT' then 'skipped'
            else 'running'
        end as result,
        false as allow_failure,
        cast(null as varchar) as failed_step_name,
        cast(null as varchar) as failure_reason,
        cast([] as varchar[]) as runner_labels,
        -- the build API does not say when the build entered the queue
        cast(null as timestamptz) as created_at,
        builds.started_at,
        builds.finished_at,
        builds.duration_seconds / 60.0 as duration_minutes

    from jenkins_builds as builds
    left join services
        on builds.job_full_name = services.jenkins_job

),

unioned as (

    select * from github_unified
    union all
    select * from gitlab_unified
    union all
    select * from jenkins_unified

),

billed_on as (

    select
        *,
        cast(timezone('UTC', coalesce(started_at, created_at)) as date) as billing_date

    from unioned

),

labelled_rates as (

    -- the first of the job's labels that has a rate valid that day
    select
        jobs.ci_job_key,
        rates.runner_label,
        rates.usd_per_minute,
        rates.rounds_up_to_minute

    from billed_on as jobs
    inner join runner_rates as rates
        on jobs.provider = rates.provider
        and list_contains(jobs.runner_labels, lower(rates.runner_label))
        and jobs.billing_date >= rates.valid_from
        and (rates.valid_to is null or jobs.billing_date < rates.valid_to)
    qualify row_number() over (
        partition by jobs.ci_job_key order by list_position(jobs.runner_labels, lower(rates.runner_label))
    ) = 1

),

default_rates as (

    select
        jobs.ci_job_key,
        rates.runner_label,
        rates.usd_per_minute,
        rates.rounds_up_to_minute

    from billed_on as jobs
    inner join runner_rates as rates
        on jobs.provider = rates.provider
        and rates.runner_label = 'default'
        and jobs.billing_date >= rates.valid_from
        and (rates.valid_to is null or jobs.billing_date < rates.valid_to)

),

billed as (

    select
        jobs.*,
        coalesce(labelled.runner_label, defaults.runner_label, 'default') as runner_label,
        coalesce(labelled.usd_per_minute, defaults.usd_per_minute) as usd_per_minute,
        case
            when jobs.duration_minutes is null then null
            when coalesce(labelled.rounds_up_to_minute, defaults.rounds_up_to_minute, false)
                then ceil(jobs.duration_minutes)
            else jobs.duration_minutes
        end as runner_minutes

    from billed_on as jobs
    left join labelled_rates as labelled
        on jobs.ci_job_key = labelled.ci_job_key
    left join default_rates as defaults
        on jobs.ci_job_key = defaults.ci_job_key

),

sequenced as (

    -- attempts on one commit of one workflow in the order they were queued (ties: run, then attempt number)
    select
        *,
        provider || ':' || repo || ':' || workflow_name || ':' || head_sha as commit_scope,
        run_key || ':' || cast(attempt_number as varchar) as ci_attempt_key,
        min(coalesce(created_at, started_at)) over (partition by run_key, attempt_number) as attempt_created_at

    from billed

),

ordered as (

    select
        *,
        dense_rank() over (
            partition by commit_scope order by attempt_created_at, run_key, attempt_number
        ) as attempt_sequence

    from sequenced

),

final as (

    select
        ci_job_key,
        ci_attempt_key,
        run_key,
        provider,
        attempt_number,
        repo,
        workflow_name,
        head_sha,
        commit_scope,
        attempt_sequence,
        job_name,
        result,
        allow_failure,
        failed_step_name,
        failure_reason,
        runner_labels,
        runner_label,
        created_at,
        started_at,
        finished_at,
        case
            when started_at is not null and created_at is not null
                then date_diff('millisecond', created_at, started_at) / 60000.0
        end as queue_minutes,
        duration_minutes,
        runner_minutes,
        usd_per_minute,
        runner_minutes * usd_per_minute as ci_cost_usd,
        commit_scope is not null and coalesce(
            max(case when result = 'success' then attempt_sequence end)
                over (partition by commit_scope, job_name),
            0
        ) > attempt_sequence as passed_later,
        commit_scope is not null and max(attempt_sequence) over (partition by commit_scope, job_name)
        > attempt_sequence as ran_again_later

    from ordered

)

select * from final
