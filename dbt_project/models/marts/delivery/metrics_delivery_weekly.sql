-- DORA, PR-cycle and CI-health metrics per org / team / service and ISO week (Monday start); definitions in the YAML.
with

delivery as (

    {{ delivery_metrics('week') }}

),

ci_health as (

    select * from {{ ref('int_ci__health_weekly') }}

),

final as (

    select
        delivery.*,
        ci_health.ci_runs,
        ci_health.ci_reruns,
        ci_health.ci_success_rate,
        ci_health.ci_duration_p50_minutes,
        ci_health.ci_duration_p95_minutes,
        ci_health.ci_queue_p50_minutes,
        ci_health.flaky_runs,
        ci_health.flaky_run_share,
        ci_health.runner_minutes,
        ci_health.runner_minutes_lost,
        ci_health.ci_cost_usd,
        ci_health.ci_cost_lost_usd
    from delivery
    left join ci_health
        on delivery.scope_type = ci_health.scope_type
        and delivery.scope_key = ci_health.scope_key
        and delivery.period_start = ci_health.week_start

)

select * from final
