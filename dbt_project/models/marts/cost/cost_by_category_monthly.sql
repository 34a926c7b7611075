-- One row per business category and month, from the category's first month to the last month with cost data
-- (months without cost are 0, so a category that stops shows its drop). Reporting currency only. effective_cost
-- includes every cost source; billing (the cloud and SaaS bill), people and ci parts are also shown apart.
with

daily as (

    select * from {{ ref('fct_cost_daily') }}

),

effective_by_month as (

    select
        business_category,
        charge_month as month_start,
        sum(effective_cost_reporting) as effective_cost,
        sum(effective_cost_reporting) filter (where allocation_method = 'direct') as direct_effective_cost,
        sum(effective_cost_reporting) filter (where allocation_method = 'shared') as shared_effective_cost,
        sum(effective_cost_reporting) filter (where cost_source = 'billing') as billing_effective_cost,
        sum(effective_cost_reporting) filter (where cost_source = 'people') as people_effective_cost,
        sum(effective_cost_reporting) filter (where cost_source = 'ci') as ci_effective_cost,
        sum(list_cost_reporting) as list_cost
    from daily
    group by business_category, charge_month

),

billed_by_month as (

    select
        business_category,
        billing_month as month_start,
        sum(billed_cost_reporting) as billed_cost
    from daily
    group by business_category, billing_month

),

bounds as (

    select
        min(charge_month) as first_month,
        max(greatest(charge_month, billing_month)) as last_month
    from daily

),

months as (

    select cast(month_start as date) as month_start
    from bounds,
        generate_series(bounds.first_month, bounds.last_month, interval 1 month) as series(month_start)

),

category_starts as (

    select business_category, min(month_start) as first_month
    from (
        select business_category, month_start from effective_by_month
        union all
        select business_category, month_start from billed_by_month
    )
    group by business_category

),

grid as (

    select category_starts.business_category, months.month_start
    from category_starts
    inner join months
        on months.month_start >= category_starts.first_month

),

joined as (

    select
        grid.month_start,
        grid.business_category,
        coalesce(effective_by_month.effective_cost, 0) as effective_cost,
        coalesce(billed_by_month.billed_cost, 0) as billed_cost,
        coalesce(effective_by_month.direct_effective_cost, 0) as direct_effective_cost,
        coalesce(effective_by_month.shared_effective_cost, 0) as shared_effective_cost,
        coalesce(effective_by_month.billing_effective_cost, 0) as billing_effective_cost,
        coalesce(effective_by_month.people_effective_cost, 0) as people_effective_cost,
        coalesce(effective_by_month.ci_effective_cost, 0) as ci_effective_cost,
        coalesce(effective_by_month.list_cost, 0) as list_cost
    from grid
    left join effective_by_month
        on grid.business_category = effective_by_month.business_category
        and grid.month_start = effective_by_month.month_start
    left join billed_by_month
        on grid.business_category = billed_by_month.business_category
        and grid.month_start = billed_by_month.month_start

),

with_previous as (

    select
        joined.month_start,
        joined.business_category,
        joined.effective_cost,
        joined.billed_cost,
        joined.direct_effective_cost,
        joined.shared_effective_cost,
        joined.billing_effective_cost,
        joined.people_effective_cost,
        joined.ci_effective_cost,
        joined.list_cost,
        joined.effective_cost
            / nullif(sum(joined.effective_cost) over (partition by joined.month_start), 0) as effective_cost_share,
        -- the first month of data has no previous month to compare with
        case
            when joined.month_start > bounds.first_month
                then coalesce(
                    lag(joined.effective_cost) over (
                        partition by joined.business_category order by joined.month_start
                    ),
                    0
                )
        end as previous_effective_cost,
        {{ cost_reporting_currency() }} as reporting_currency
    from joined
    cross join bounds

),

final as (

    select
        month_start,
        business_category,
        effective_cost,
        billed_cost,
        direct_effective_cost,
        shared_effective_cost,
        billing_effective_cost,
        people_effective_cost,
        ci_effective_cost,
        list_cost,
        effective_cost_share,
        previous_effective_cost,
        effective_cost - previous_effective_cost as effective_cost_change,
        (effective_cost - previous_effective_cost) / nullif(previous_effective_cost, 0) as effective_cost_change_pct,
        reporting_currency
    from with_previous

)

select * from final
