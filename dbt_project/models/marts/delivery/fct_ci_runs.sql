-- One row per CI run attempt: the published face of int_ci__run_attempts (definitions in fct_ci_runs.yml).
with

attempts as (

    select * from {{ ref('int_ci__run_attempts') }}

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
        queue_minutes,
        duration_minutes,
        job_count,
        failed_job_count,
        runner_minutes,
        ci_cost_usd,
        is_flaky,
        runner_minutes_lost,
        ci_cost_lost_usd

    from attempts

)

select * from final
