-- One row per team, month and business category: the team's loaded monthly cost (seeds/people_costs.csv)
-- attributed to the categories its Jira effort went to that month (int_work__effort_monthly: hours work items
-- spent in active statuses, by the item's category). A team-month without recorded effort goes wholly to the
-- team's own category (teams seed), or stays unallocated when the team has none. Every part is rounded to the
-- cent except the largest share's, which takes the remainder, so a team-month's rows sum **exactly** to its
-- loaded cost, in the seed's currency and in the reporting currency. Months: every month of cost data
-- (cost_data_months), each taking the seed row valid on its first day.
{%- set unallocated = metric_var('cost_unallocated_category') %}

with

people_costs as (

    select * from {{ ref('people_costs') }}

),

teams as (

    select * from {{ ref('teams') }}

),

effort as (

    select * from {{ ref('int_work__effort_monthly') }}

),

cost_months as (

    {{ cost_data_months() }}

),

team_months as (

    select
        people_costs.team_key,
        cost_months.month_start,
        people_costs.headcount,
        people_costs.currency,
        cast(people_costs.loaded_monthly_cost as decimal(38, 8)) as loaded_monthly_cost
    from people_costs
    inner join cost_months
        on cost_months.month_start >= people_costs.valid_from
        and (people_costs.valid_to is null or cost_months.month_start < people_costs.valid_to)

),

with_fx as (

    {{ cost_with_fx_rate('team_months', 'currency', 'month_start', "'people cost of team ' || team_months.team_key") }}

),

team_costs as (

    select
        with_fx.*,
        cast(with_fx.loaded_monthly_cost * with_fx.fx_rate as decimal(38, 8)) as loaded_monthly_cost_reporting
    from with_fx

),

effort_hours as (

    select
        effort.team_key,
        effort.month_start,
        coalesce(effort.business_category, teams.business_category, '{{ unallocated }}') as business_category,
        {{ sum_exact('effort.active_hours') }} as active_hours
    from effort
    left join teams
        on effort.team_key = teams.team_key
    where effort.active_hours > 0
    group by all

),

effort_shares as (

    select
        team_key,
        month_start,
        business_category,
        active_hours,
        active_hours / cast(
            sum(cast(active_hours as decimal(38, 10))) over (partition by team_key, month_start) as double
        ) as share
    from effort_hours

),

shares as (

    -- the team's effort that month...
    select
        team_costs.*,
        effort_shares.business_category,
        effort_shares.active_hours,
        effort_shares.share,
        'jira_effort' as attributed_by
    from team_costs
    inner join effort_shares
        on team_costs.team_key = effort_shares.team_key
        and team_costs.month_start = effort_shares.month_start

    union all

    -- ... or, with none recorded, the team's own category
    select
        team_costs.*,
        coalesce(teams.business_category, '{{ unallocated }}') as business_category,
        null as active_hours,
        1.0 as share,
        case when teams.business_category is null then 'none' else 'team_category' end as attributed_by
    from team_costs
    left join teams
        on team_costs.team_key = teams.team_key
    where not exists (
        select 1
        from effort_shares
        where effort_shares.team_key = team_costs.team_key
            and effort_shares.month_start = team_costs.month_start
    )

),

rounded as (

    select
        *,
        row_number() over (
            partition by team_key, month_start order by share desc, business_category
        ) = 1 as is_largest_share,
        cast(round(loaded_monthly_cost * share, 2) as decimal(38, 8)) as rounded_cost,
        cast(round(loaded_monthly_cost_reporting * share, 2) as decimal(38, 8)) as rounded_cost_reporting
    from shares

),

split as (

    select
        *,
        case
            when is_largest_share
                then loaded_monthly_cost
                    - (sum(rounded_cost) over (partition by team_key, month_start) - rounded_cost)
            else rounded_cost
        end as effective_cost,
        case
            when is_largest_share
                then loaded_monthly_cost_reporting
                    - (sum(rounded_cost_reporting) over (partition by team_key, month_start) - rounded_cost_reporting)
            else rounded_cost_reporting
        end as effective_cost_reporting
    from rounded

),

final as (

    select
        split.team_key,
        teams.team_name,
        split.month_start,
        split.business_category,
        case
            when split.attributed_by = 'none' or split.business_category = '{{ unallocated }}' then 'unallocated'
            else 'direct'
        end as allocation_method,
        split.attributed_by,
        split.active_hours,
        split.share,
        split.headcount,
        split.headcount * split.share as fte,
        split.currency,
        split.loaded_monthly_cost as team_loaded_monthly_cost,
        split.effective_cost,
        {{ cost_reporting_currency() }} as reporting_currency,
        split.fx_rate,
        split.fx_rate_month,
        split.effective_cost_reporting
    from split
    left join teams
        on split.team_key = teams.team_key

)

select * from final
