-- The variance drivers of every category and month sum exactly (no tolerance) to the change of the category's
-- EffectiveCost in cost_by_category_monthly, computed independently from fct_cost_daily; and every category-month
-- with a change has its drivers. Returns the category-months that do not reconcile.
with

drivers as (

    select month_start, business_category, sum(amount) as explained_change, count(*) as driver_rows
    from {{ ref('cost_variance_monthly') }}
    group by month_start, business_category

),

changes as (

    select month_start, business_category, effective_cost_change
    from {{ ref('cost_by_category_monthly') }}
    where effective_cost_change is not null

)

select
    coalesce(changes.month_start, drivers.month_start) as month_start,
    coalesce(changes.business_category, drivers.business_category) as business_category,
    changes.effective_cost_change,
    drivers.explained_change,
    drivers.driver_rows
from changes
full outer join drivers
    on changes.month_start = drivers.month_start
    and changes.business_category = drivers.business_category
where coalesce(changes.effective_cost_change, 0) <> coalesce(drivers.explained_change, 0)
    or drivers.driver_rows not in (6)
    or (changes.effective_cost_change is null and drivers.month_start is not null)
