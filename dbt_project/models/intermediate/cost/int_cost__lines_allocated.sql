-- One row per cost line and business category it is attributed to. Direct and unallocated lines keep one row;
-- a shared-pool line becomes one row per target category of its pool-month. Every money column of a split is
-- rounded to the cent except the largest share's, which takes the remainder, so the split rows sum **exactly**
-- to the pool line in both currencies. A pool-month with no weights leaves its lines unallocated.
--
-- Costs that are not on a bill join in the same columns, with their own cost_source:
--   people  a team's loaded monthly cost attributed by its Jira effort (int_cost__people_allocated), one line per
--           team and month split over categories; quantity = FTEs (headcount x share), so the variance tells a
--           headcount change (volume) from a pay change (rate).
--   ci      runner minutes x rate of providers whose minutes no invoice pays (int_cost__ci_usage_monthly), one
--           line per provider, team and month, in the team's category. A CI vendor's invoice (e.g. CircleCI) is
--           a billing line already: it is split by minutes (pool method `ci_minutes`), never added again.
-- Neither is invoiced by a vendor: their BilledCost is 0 and EffectiveCost (= list = contracted) carries them.
{%- set money = [
    'billed_cost', 'effective_cost', 'list_cost', 'contracted_cost',
    'billed_cost_reporting', 'effective_cost_reporting', 'list_cost_reporting', 'contracted_cost_reporting',
] %}
{%- set quantities = ['pricing_quantity', 'consumed_quantity'] %}
{%- set unallocated = metric_var('cost_unallocated_category') %}

with

lines as (

    select * from {{ ref('int_cost__lines_categorised') }}

),

weights as (

    select * from {{ ref('int_cost__shared_pool_weights') }}

),

people as (

    select * from {{ ref('int_cost__people_allocated') }}

),

ci_usage as (

    select * from {{ ref('int_cost__ci_usage_monthly') }}

),

unsplit as (

    select
        lines.* exclude (business_category, allocation_method, vendor_active_seats),
        coalesce(lines.business_category, '{{ unallocated }}') as business_category,
        case when lines.allocation_method = 'shared' then 'unallocated' else lines.allocation_method end
            as allocation_method,
        cast(null as varchar) as split_method,
        cast(1 as double) as split_share
    from lines
    where lines.allocation_method <> 'shared'
        or not exists (
            select 1
            from weights
            where weights.shared_pool = lines.shared_pool
                and weights.charge_month = lines.charge_month
        )

),

shared_rounded as (

    select
        lines.* exclude (
            business_category, allocation_method, vendor_active_seats,
            {{ (money + quantities) | join(', ') }}
        ),
        weights.business_category,
        'shared' as allocation_method,
        weights.split_method,
        weights.share as split_share,
        weights.is_largest_share,
        {%- for column in money %}
        lines.{{ column }} as pool_{{ column }},
        cast(round(lines.{{ column }} * weights.share, 2) as decimal(38, 8)) as rounded_{{ column }},
        {%- endfor %}
        {%- for column in quantities %}
        cast(lines.{{ column }} * weights.share as decimal(38, 10)) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from lines
    inner join weights
        on lines.shared_pool = weights.shared_pool
        and lines.charge_month = weights.charge_month
    where lines.allocation_method = 'shared'

),

shared_split as (

    select
        shared_rounded.* exclude (
            is_largest_share,
            {%- for column in money %}
            pool_{{ column }}, rounded_{{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        ),
        {%- for column in money %}
        case
            when is_largest_share
                then pool_{{ column }}
                    - (sum(rounded_{{ column }}) over (partition by cost_line_id) - rounded_{{ column }})
            else rounded_{{ column }}
        end as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from shared_rounded

),

billing_lines as (

    select
        'billing' as cost_source,
        *
    from unsplit
    union all by name
    select
        'billing' as cost_source,
        *
    from shared_split

),

people_lines as (

    select
        'people' as cost_source,
        'people:' || team_key || ':' || strftime(month_start, '%Y-%m') as cost_line_id,
        'people_costs' as source_format,
        month_start as billing_month,
        {{ utc_midnight('month_start') }} as charge_period_start,
        {{ utc_midnight('month_start + interval 1 month') }} as charge_period_end,
        month_start as charge_date,
        month_start as charge_month,
        'Usage' as charge_category,
        false as is_correction,
        'Loaded cost of team ' || team_key || ' for ' || strftime(month_start, '%Y-%m') || ', attributed by '
            || replace(attributed_by, '_', ' ') as charge_description,
        'Recurring' as charge_frequency,
        'Other' as service_category,
        'Loaded people cost' as service_name,
        team_key as resource_id,
        team_name as resource_name,
        true as is_untagged,
        cast(fte as decimal(38, 10)) as pricing_quantity,
        'Person-months' as pricing_unit,
        cast(fte as decimal(38, 10)) as consumed_quantity,
        'Person-months' as consumed_unit,
        currency as billing_currency,
        cast(0 as decimal(38, 8)) as billed_cost,
        effective_cost,
        effective_cost as list_cost,
        effective_cost as contracted_cost,
        reporting_currency,
        fx_rate,
        fx_rate_month,
        cast(0 as decimal(38, 8)) as billed_cost_reporting,
        effective_cost_reporting,
        effective_cost_reporting as list_cost_reporting,
        effective_cost_reporting as contracted_cost_reporting,
        business_category,
        allocation_method,
        'jira_effort' as split_method,
        share as split_share
    from people

),

ci_lines as (

    select
        'ci' as cost_source,
        'ci:' || provider || ':' || team_key || ':' || strftime(month_start, '%Y-%m') as cost_line_id,
        'ci_runner_minutes' as source_format,
        provider as service_provider_name,
        month_start as billing_month,
        {{ utc_midnight('month_start') }} as charge_period_start,
        {{ utc_midnight('month_start + interval 1 month') }} as charge_period_end,
        month_start as charge_date,
        month_start as charge_month,
        'Usage' as charge_category,
        false as is_correction,
        'Runner minutes of team ' || team_key || ' on ' || provider || ' in ' || strftime(month_start, '%Y-%m')
            || ' at seeds/ci_runner_rates.csv prices' as charge_description,
        'Usage-Based' as charge_frequency,
        'Standard' as pricing_category,
        'Developer Tools' as service_category,
        'CI runner minutes' as service_name,
        team_key as resource_id,
        true as is_untagged,
        cast(runner_minutes as decimal(38, 10)) as pricing_quantity,
        'Minutes' as pricing_unit,
        cast(runner_minutes as decimal(38, 10)) as consumed_quantity,
        'Minutes' as consumed_unit,
        ci_cost_currency as billing_currency,
        cast(0 as decimal(38, 8)) as billed_cost,
        ci_cost_usd as effective_cost,
        ci_cost_usd as list_cost,
        ci_cost_usd as contracted_cost,
        reporting_currency,
        fx_rate,
        fx_rate_month,
        cast(0 as decimal(38, 8)) as billed_cost_reporting,
        ci_cost_reporting as effective_cost_reporting,
        ci_cost_reporting as list_cost_reporting,
        ci_cost_reporting as contracted_cost_reporting,
        business_category,
        case when is_team_mapped then 'direct' else 'unallocated' end as allocation_method,
        cast(null as varchar) as split_method,
        cast(1 as double) as split_share
    from ci_usage
    where is_cost_line

),

final as (

    select * from billing_lines
    union all by name
    select * from people_lines
    union all by name
    select * from ci_lines

)

select * from final
