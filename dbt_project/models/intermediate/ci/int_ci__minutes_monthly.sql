-- Runner minutes and their cost per team, CI provider and month, every run attempt included (deployment workflows
-- too: they are billed like any other job), for cost attribution. Grain: team_key x provider x month_start.
with

attempts as (

    select * from {{ ref('int_ci__run_attempts') }}

),

monthly as (

    select
        coalesce(team_key, 'unassigned') as team_key,
        provider,
        cast(date_trunc('month', timezone('UTC', created_at)) as date) as month_start,
        count(*) as run_attempts,
        sum(runner_minutes) as runner_minutes,
        sum(runner_minutes_lost) as runner_minutes_lost,
        sum(ci_cost_usd) as ci_cost_usd,
        sum(ci_cost_lost_usd) as ci_cost_lost_usd

    from attempts
    where created_at is not null
    group by 1, 2, 3

),

final as (

    select
        team_key,
        provider,
        month_start,
        run_attempts,
        runner_minutes,
        runner_minutes_lost,
        ci_cost_usd,
        ci_cost_lost_usd

    from monthly

)

select * from final
