-- Nothing is lost or counted twice between the cost sources and fct_cost_daily. Returns one row per problem.
--   billing  per billing currency, the BilledCost and EffectiveCost totals of the billing lines are identical
--            (categorisation, pool splits and daily grouping only move money between rows);
--   people   every team's people rows of a month sum exactly (to the cent, no tolerance) to the loaded cost of
--            the seeds/people_costs.csv row valid on the month's first day, for every month with cost data, and
--            are never invoiced (BilledCost 0);
--   ci       every ci row (provider x team x month) is exactly the runner cost of int_ci__minutes_monthly, is
--            never invoiced, and no ci row exists for a provider whose invoice is already in the billing data
--            (`cost_ci_invoiced_providers`): CI is never counted twice.
with

daily as (

    select * from {{ ref('fct_cost_daily') }}

),

staged as (

    select billing_currency, sum(billed_cost) as billed_cost, sum(effective_cost) as effective_cost
    from {{ ref('stg_billing__cost_lines') }}
    group by billing_currency

),

billing_daily as (

    select billing_currency, sum(billed_cost) as billed_cost, sum(effective_cost) as effective_cost
    from daily
    where cost_source = 'billing'
    group by billing_currency

),

billing_problems as (

    select
        'billing totals differ in ' || coalesce(staged.billing_currency, billing_daily.billing_currency, '?')
            as problem
    from staged
    full outer join billing_daily
        on staged.billing_currency is not distinct from billing_daily.billing_currency
    where staged.billed_cost is distinct from billing_daily.billed_cost
        or staged.effective_cost is distinct from billing_daily.effective_cost

),

data_months as (

    select distinct charge_month as month_start
    from daily

),

seed_team_months as (

    select
        people_costs.team_key,
        data_months.month_start,
        people_costs.currency,
        cast(people_costs.loaded_monthly_cost as decimal(38, 8)) as loaded_monthly_cost
    from {{ ref('people_costs') }} as people_costs
    inner join data_months
        on data_months.month_start >= people_costs.valid_from
        and (people_costs.valid_to is null or data_months.month_start < people_costs.valid_to)

),

people_daily as (

    select
        resource_id as team_key,
        charge_month as month_start,
        min(billing_currency) as currency,
        sum(effective_cost) as effective_cost,
        sum(billed_cost) as billed_cost
    from daily
    where cost_source = 'people'
    group by resource_id, charge_month

),

people_problems as (

    select
        'people cost of ' || coalesce(seed_team_months.team_key, people_daily.team_key) || ' in '
            || strftime(coalesce(seed_team_months.month_start, people_daily.month_start), '%Y-%m')
            || ' is ' || coalesce(cast(people_daily.effective_cost as varchar), 'missing') || ' '
            || coalesce(people_daily.currency, '') || ', the seed says '
            || coalesce(cast(seed_team_months.loaded_monthly_cost as varchar), 'nothing') as problem
    from seed_team_months
    full outer join people_daily
        on seed_team_months.team_key = people_daily.team_key
        and seed_team_months.month_start = people_daily.month_start
    where seed_team_months.loaded_monthly_cost is distinct from people_daily.effective_cost
        or seed_team_months.currency is distinct from people_daily.currency
        or people_daily.billed_cost <> 0

),

ci_daily as (

    select
        service_provider_name as provider,
        resource_id as team_key,
        charge_month as month_start,
        sum(effective_cost) as effective_cost,
        sum(billed_cost) as billed_cost
    from daily
    where cost_source = 'ci'
    group by all

),

ci_problems as (

    select
        'ci cost of ' || ci_daily.provider || ' / ' || ci_daily.team_key || ' in '
            || strftime(ci_daily.month_start, '%Y-%m') || ': ' || cast(ci_daily.effective_cost as varchar)
            || case
                when list_contains(
                    list_transform(cast({{ metric_var('cost_ci_invoiced_providers') }} as varchar[]), p -> lower(trim(p))),
                    lower(ci_daily.provider)
                ) then ' although the provider is invoiced (counted twice)'
                else ' vs runner cost ' || coalesce(cast(cast(minutes.ci_cost_usd as decimal(38, 8)) as varchar), 'none')
            end as problem
    from ci_daily
    left join {{ ref('int_ci__minutes_monthly') }} as minutes
        on ci_daily.provider = minutes.provider
        and ci_daily.team_key = minutes.team_key
        and ci_daily.month_start = minutes.month_start
    where ci_daily.billed_cost <> 0
        or cast(minutes.ci_cost_usd as decimal(38, 8)) is distinct from ci_daily.effective_cost
        or list_contains(
            list_transform(cast({{ metric_var('cost_ci_invoiced_providers') }} as varchar[]), p -> lower(trim(p))),
            lower(ci_daily.provider)
        )

)

select problem from billing_problems
union all
select problem from people_problems
union all
select problem from ci_problems
