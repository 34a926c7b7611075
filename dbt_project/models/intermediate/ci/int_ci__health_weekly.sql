-- CI health per week for the org, each team and each service: how many build/test run attempts, how many
-- passed, how long they took and waited, how many failed flakily and what the runner minutes cost.
-- Grain: scope_type x scope_key x week_start. See int_ci__health_weekly.yml for the definitions.
with

attempts as (

    select * from {{ ref('int_ci__run_attempts') }}

),

ci_attempts as (

    -- CI health is about build and test runs; deployment workflows are measured by the deployment metrics
    select
        *,
        cast(date_trunc('week', timezone('UTC', created_at)) as date) as week_start

    from attempts
    where not is_deployment
        and created_at is not null

),

scoped as (

    select 'org' as scope_type, 'org' as scope_key, * from ci_attempts
    union all
    select 'team' as scope_type, coalesce(team_key, 'unassigned') as scope_key, * from ci_attempts
    union all
    select 'service' as scope_type, coalesce(service, 'unassigned') as scope_key, * from ci_attempts

),

aggregated as (

    select
        scope_type,
        scope_key,
        week_start,
        count(*) as ci_runs,
        count(*) filter (where attempt_number > 1) as ci_reruns,
        count(*) filter (where result = 'success') as ci_successful_runs,
        count(*) filter (where result = 'failure') as ci_failed_runs,
        quantile_cont(duration_minutes, 0.5) filter (where result in ('success', 'failure'))
            as ci_duration_p50_minutes,
        quantile_cont(duration_minutes, 0.95) filter (where result in ('success', 'failure'))
            as ci_duration_p95_minutes,
        quantile_cont(queue_minutes, 0.5) as ci_queue_p50_minutes,
        count(*) filter (where is_flaky) as flaky_runs,
        sum(runner_minutes) as runner_minutes,
        sum(runner_minutes_lost) as runner_minutes_lost,
        sum(ci_cost_usd) as ci_cost_usd,
        sum(ci_cost_lost_usd) as ci_cost_lost_usd

    from scoped
    group by scope_type, scope_key, week_start

),

final as (

    select
        scope_type,
        scope_key,
        week_start,
        ci_runs,
        ci_reruns,
        ci_successful_runs,
        ci_failed_runs,
        ci_successful_runs / nullif(ci_successful_runs + ci_failed_runs, 0) as ci_success_rate,
        ci_duration_p50_minutes,
        ci_duration_p95_minutes,
        ci_queue_p50_minutes,
        flaky_runs,
        -- per run started: re-run attempts are the flake's own cost, not more runs that could flake
        flaky_runs / nullif(ci_runs - ci_reruns, 0) as flaky_run_share,
        runner_minutes,
        runner_minutes_lost,
        ci_cost_usd,
        ci_cost_lost_usd

    from aggregated

)

select * from final
