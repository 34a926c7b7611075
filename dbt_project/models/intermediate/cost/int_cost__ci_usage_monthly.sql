-- CI runner minutes and their cost per provider, team and month, with the team's business category and the two
-- facts cost attribution needs about them:
--   * is the provider's runner time already on an invoice in the billing data (`cost_ci_invoiced_providers`
--     knob)? Then the invoice is its cost (split by minutes through a `ci_minutes` pool) and its minutes make no
--     cost line of their own: CI is never counted twice.
--   * does the CI history cover the whole month? A provider's history starts mid-month (the connectors' first
--     sync reaches back a fixed number of days), so the month it starts in is partial: it would understate the
--     month and mistake the start of the data for a change. Its months after that one are complete.
-- Rows that become `ci` cost lines (int_cost__lines_allocated): not invoiced, complete month, cost > 0.
with

minutes as (

    select * from {{ ref('int_ci__minutes_monthly') }}

),

teams as (

    select * from {{ ref('teams') }}

),

provider_starts as (

    select provider, min(month_start) as first_month
    from minutes
    group by provider

),

mapped as (

    select
        minutes.provider,
        minutes.team_key,
        minutes.month_start,
        coalesce(teams.business_category, '{{ metric_var("cost_unallocated_category") }}') as business_category,
        teams.business_category is not null as is_team_mapped,
        minutes.run_attempts,
        minutes.runner_minutes,
        minutes.runner_minutes_lost,
        cast(minutes.ci_cost_usd as decimal(38, 8)) as ci_cost_usd,
        cast(minutes.ci_cost_lost_usd as decimal(38, 8)) as ci_cost_lost_usd,
        'USD' as ci_cost_currency,
        list_contains(
            list_transform(cast({{ metric_var('cost_ci_invoiced_providers') }} as varchar[]), p -> lower(trim(p))),
            lower(minutes.provider)
        ) as is_invoiced,
        minutes.month_start > provider_starts.first_month as is_complete_month,
        minutes.month_start > (select max(first_month) from provider_starts) as is_complete_for_all_providers
    from minutes
    inner join provider_starts
        on minutes.provider = provider_starts.provider
    left join teams
        on minutes.team_key = teams.team_key

),

with_fx as (

    {{ cost_with_fx_rate('mapped', 'ci_cost_currency', 'month_start', "'CI minutes of ' || mapped.provider") }}

),

final as (

    select
        provider,
        team_key,
        month_start,
        business_category,
        is_team_mapped,
        run_attempts,
        runner_minutes,
        runner_minutes_lost,
        ci_cost_currency,
        ci_cost_usd,
        ci_cost_lost_usd,
        {{ cost_reporting_currency() }} as reporting_currency,
        fx_rate,
        fx_rate_month,
        cast(ci_cost_usd * fx_rate as decimal(38, 8)) as ci_cost_reporting,
        is_invoiced,
        is_complete_month,
        is_complete_for_all_providers,
        not is_invoiced and is_complete_month and ci_cost_usd > 0 as is_cost_line
    from with_fx

)

select * from final
