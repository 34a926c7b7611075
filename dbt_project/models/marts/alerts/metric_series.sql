-- The weekly values the alert engine watches: one row per metric × scope × complete week (definitions in the YAML).
with

delivery as (

    select * from {{ ref('metrics_delivery_weekly') }}

),

pull_requests as (

    select * from {{ ref('fct_pull_requests') }}

),

work_items as (

    select * from {{ ref('fct_work_items') }}

),

-- the cloud and SaaS bill: people cost moves with headcount and pay reviews, not as a weekly trend
cost_daily as (

    select * from {{ ref('fct_cost_daily') }}
    where cost_source = 'billing'

),

-- a week is complete once the data reaches its end: the latest delivery event / billed day bounds what is known
delivery_as_of as (

    select greatest(
        (select max(finished_at) from {{ ref('fct_deployments') }}),
        (select max(merged_at) from pull_requests),
        (select max(started_at) from {{ ref('fct_incidents') }})
    ) as as_of

),

cost_as_of as (

    select min(charge_date) as first_day, max(charge_date) + interval 1 day as as_of from cost_daily

),

delivery_values as (

    select 'deployment_frequency' as metric, scope_type, scope_key, period_start,
        deployments_count::double as value, production_deployments_count as sample_size
    from delivery
    union all
    select 'change_failure_rate', scope_type, scope_key, period_start,
        change_failure_rate, production_deployments_count
    from delivery
    union all
    select 'lead_time_p50_hours', scope_type, scope_key, period_start,
        lead_time_hours_p50, lead_time_sample_size
    from delivery
    union all
    select 'review_pickup_p50_hours', scope_type, scope_key, period_start,
        pickup_hours_p50, pickup_sample_size
    from delivery
    union all
    select 'time_to_restore_p50_hours', scope_type, scope_key, period_start,
        time_to_restore_hours_p50, restore_sample_size
    from delivery
    union all
    select 'deployment_rework_rate', scope_type, scope_key, period_start,
        rework_rate, production_deployments_count
    from delivery
    union all
    select 'incident_count', scope_type, scope_key, period_start,
        incidents_count::double, incidents_count
    from delivery
    union all
    -- a share's sample is its denominator (runs started): the engine pools value x sample_size into counts
    select 'ci_flaky_run_share', scope_type, scope_key, period_start,
        flaky_run_share, ci_runs - coalesce(ci_reruns, 0)
    from delivery
    union all
    select 'ci_runner_minutes', scope_type, scope_key, period_start,
        runner_minutes, ci_runs
    from delivery

),

-- open → merged of human pull requests merged in the week (only used where deployments are not tracked)
pr_cycle as (

    select
        'pr_cycle_time_p50_hours' as metric,
        scope.scope_type,
        scope.scope_key,
        date_trunc('week', timezone('UTC', pr.merged_at))::date as period_start,
        quantile_cont(pr.hours_to_merge, 0.5) as value,
        count(*) as sample_size
    from pull_requests as pr
    cross join lateral (
        select 'org' as scope_type, 'org' as scope_key
        union all select 'team', pr.team_key where pr.team_key is not null
        union all select 'service', pr.service where pr.service is not null
    ) as scope
    where pr.is_merged and not pr.is_author_bot
    group by all

),

-- share of work items finished in the week that were unplanned
unplanned_work as (

    select
        'unplanned_work_share' as metric,
        scope.scope_type,
        scope.scope_key,
        date_trunc('week', timezone('UTC', wi.done_at))::date as period_start,
        avg(case when wi.is_planned then 0.0 else 1.0 end) as value,
        count(*) as sample_size
    from work_items as wi
    cross join lateral (
        select 'org' as scope_type, 'org' as scope_key
        union all select 'team', wi.team_key where wi.team_key is not null
    ) as scope
    where wi.is_work_item and wi.done_at is not null
    group by all

),

-- usage and one-time charges on their day; a recurring (subscription) charge spread evenly over the days of its
-- month, so a monthly SaaS invoice reads as what it is, a steady cost, not a spike every fourth week
cost_days as (

    select business_category, charge_date as cost_day, effective_cost_reporting as amount
    from cost_daily
    where charge_frequency is distinct from 'Recurring'
    union all
    select
        cost_daily.business_category,
        month_days.cost_day::date,
        cost_daily.effective_cost_reporting
            / date_diff('day', date_trunc('month', cost_daily.charge_date),
                date_trunc('month', cost_daily.charge_date) + interval 1 month)
    from cost_daily
    cross join lateral (
        select unnest(generate_series(
            date_trunc('month', cost_daily.charge_date),
            date_trunc('month', cost_daily.charge_date) + interval 1 month - interval 1 day,
            interval 1 day
        )) as cost_day
    ) as month_days
    where cost_daily.charge_frequency = 'Recurring'

),

cost_values as (

    select
        'cost_effective_usd' as metric,
        'cost_category' as scope_type,
        business_category as scope_key,
        date_trunc('week', cost_day)::date as period_start,
        {{ sum_exact('amount') }} as value,
        count(distinct cost_day) as sample_size
    from cost_days
    group by all

),

complete_delivery_weeks as (

    select v.*
    from (
        select * from delivery_values
        union all select * from pr_cycle
        union all select * from unplanned_work
    ) as v
    cross join delivery_as_of
    where v.period_start + interval 7 day <= delivery_as_of.as_of

),

-- CI history may start later for one provider than another (GitHub workflow runs are read 90 days back by
-- default, Jenkins and GitLab further): a team's CI series starts when every provider it has is reporting, or
-- the arrival of a provider's runs would read as a change of the team's CI health
ci_coverage as (

    select coalesce(team_key, 'unassigned') as team_key, max(provider_first_week) as first_week
    from (
        select team_key, provider, date_trunc('week', min(created_at))::date + interval 7 day as provider_first_week
        from {{ ref('fct_ci_runs') }}
        group by all
    )
    group by all
    union all
    select 'org', max(provider_first_week)
    from (
        select provider, date_trunc('week', min(created_at))::date + interval 7 day as provider_first_week
        from {{ ref('fct_ci_runs') }}
        group by all
    )

),

complete_cost_weeks as (

    select v.*
    from cost_values as v
    cross join cost_as_of
    where v.period_start + interval 7 day <= cost_as_of.as_of
        and v.period_start >= cost_as_of.first_day  -- the bill's first week, if it starts mid-week, is partial

),

final as (

    select v.metric, v.scope_type, v.scope_key, v.period_start, v.value, coalesce(v.sample_size, 0)::integer as sample_size
    from complete_delivery_weeks as v
    left join {{ ref('services') }} as services
        on v.scope_type = 'service' and v.scope_key = services.service
    left join ci_coverage
        on ci_coverage.team_key = case v.scope_type when 'org' then 'org' when 'team' then v.scope_key
            else services.team_key end
    where v.value is not null and v.scope_key is not null
        and (v.metric not like 'ci\_%' escape '\' or v.period_start >= ci_coverage.first_week)
    union all
    select metric, scope_type, scope_key, period_start, value, sample_size::integer
    from complete_cost_weeks
    where value is not null and scope_key is not null

)

select * from final
