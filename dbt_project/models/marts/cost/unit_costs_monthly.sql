-- One row per unit and month: technology EffectiveCost (reporting currency) divided by a volume. A volume is
-- divided by the cost of the scope it measures: its business category (e.g. Commerce cost per order, Commerce cost
-- per Commerce deployment) or, for a volume of the whole organisation (business_category 'All'), all technology
-- cost. A volume of one category whose unit has no organisation-wide row (a business KPI) is also divided by all
-- technology cost. Months without cost data or without a volume have no row.
with

volumes as (

    select * from {{ ref('int_cost__unit_volumes_monthly') }}

),

category_costs as (

    select * from {{ ref('cost_by_category_monthly') }}

),

scoped_costs as (

    select business_category as cost_scope, month_start, effective_cost
    from category_costs
    union all
    select 'All', month_start, sum(effective_cost)
    from category_costs
    group by month_start

),

scoped_volumes as (

    select volumes.*, volumes.business_category as cost_scope
    from volumes
    union all
    select volumes.*, 'All'
    from volumes
    where volumes.business_category <> 'All'
        and not exists (
            select 1
            from volumes as totals
            where totals.unit_type = volumes.unit_type
                and totals.unit_name = volumes.unit_name
                and totals.month_start = volumes.month_start
                and totals.business_category = 'All'
        )

),

joined as (

    select
        scoped_volumes.unit_type || ':' || scoped_volumes.unit_name || ':' || scoped_volumes.cost_scope as unit_key,
        scoped_volumes.unit_type,
        scoped_volumes.unit_name,
        scoped_volumes.unit,
        scoped_volumes.cost_scope,
        scoped_volumes.month_start,
        scoped_costs.effective_cost,
        scoped_volumes.volume,
        cast(scoped_costs.effective_cost as double) / nullif(scoped_volumes.volume, 0) as unit_cost
    from scoped_volumes
    inner join scoped_costs
        on scoped_volumes.cost_scope = scoped_costs.cost_scope
        and scoped_volumes.month_start = scoped_costs.month_start

),

with_previous as (

    select
        joined.*,
        previous.unit_cost as previous_unit_cost
    from joined
    left join joined as previous
        on joined.unit_key = previous.unit_key
        and previous.month_start = cast(joined.month_start - interval 1 month as date)

),

final as (

    select
        unit_key,
        unit_type,
        unit_name,
        unit,
        cost_scope,
        month_start,
        effective_cost,
        volume,
        unit_cost,
        previous_unit_cost,
        unit_cost / nullif(previous_unit_cost, 0) - 1 as unit_cost_change_pct,
        {{ cost_reporting_currency() }} as reporting_currency
    from with_previous

)

select * from final
