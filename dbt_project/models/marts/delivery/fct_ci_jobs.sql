-- One row per job of one CI run attempt: which job (and step) fails, flakes and eats runner minutes.
-- Grain: ci_job_key. Definitions in fct_ci_jobs.yml.
with

jobs as (

    select * from {{ ref('int_ci__jobs') }}

),

attempts as (

    select * from {{ ref('int_ci__run_attempts') }}

),

joined as (

    select
        jobs.*,
        attempts.service,
        attempts.team_key,
        attempts.is_deployment,
        attempts.is_flaky as is_attempt_flaky

    from jobs
    inner join attempts
        on jobs.ci_attempt_key = attempts.ci_attempt_key

),

final as (

    select
        ci_job_key,
        ci_attempt_key,
        run_key,
        provider,
        attempt_number,
        repo,
        service,
        team_key,
        workflow_name,
        head_sha,
        job_name,
        is_deployment,
        result,
        failed_step_name,
        failure_reason,
        runner_label,
        created_at,
        started_at,
        finished_at,
        queue_minutes,
        duration_minutes,
        runner_minutes,
        usd_per_minute,
        ci_cost_usd,
        is_attempt_flaky,
        -- this job is the flake: it failed in a flaky attempt and passed later on the same commit
        result = 'failure' and is_attempt_flaky and passed_later as is_flaky,
        -- its minutes were spent again: its attempt was a flaky failure and the job ran again later
        case when is_attempt_flaky and ran_again_later then runner_minutes else 0 end as runner_minutes_lost,
        case when is_attempt_flaky and ran_again_later then ci_cost_usd else 0 end as ci_cost_lost_usd

    from joined

)

select * from final
