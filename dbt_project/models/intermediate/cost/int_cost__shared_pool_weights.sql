-- One row per shared pool, month and target category: the share of the pool's lines of that month the category
-- receives (shares of a pool-month sum to 1). Basis of `proportional` pools: the categories' direct
-- EffectiveCost of the same month in the reporting currency (negative totals count as 0). A pool-month without
-- any positive weight has no rows: its lines stay unallocated (int_cost__lines_allocated).
-- Later split methods (e.g. CI runner minutes per category, people effort) add a branch to `weighted`.
with

lines as (

    select * from {{ ref('int_cost__lines_categorised') }}

),

pools as (

    select * from {{ ref('shared_cost_pools') }}

),

pool_months as (

    select distinct shared_pool, charge_month
    from lines
    where allocation_method = 'shared'

),

direct_basis as (

    select
        charge_month,
        business_category,
        sum(effective_cost_reporting) as direct_effective_cost
    from lines
    where allocation_method = 'direct'
        and business_category <> '{{ metric_var("cost_unallocated_category") }}'
    group by charge_month, business_category

),

pool_methods as (

    select
        pool,
        min(split_method) as split_method,
        count(target_category) as target_count
    from pools
    group by pool

),

candidates as (

    -- pools that list their target categories
    select
        pool_months.shared_pool,
        pool_months.charge_month,
        pools.split_method,
        pools.target_category as business_category,
        pools.weight as fixed_weight
    from pool_months
    inner join pools
        on pool_months.shared_pool = pools.pool
        and pools.target_category is not null

    union all

    -- pools split over every category with direct cost that month
    select
        pool_months.shared_pool,
        pool_months.charge_month,
        pool_methods.split_method,
        direct_basis.business_category,
        null as fixed_weight
    from pool_months
    inner join pool_methods
        on pool_months.shared_pool = pool_methods.pool
        and pool_methods.target_count = 0
    inner join direct_basis
        on pool_months.charge_month = direct_basis.charge_month
        and direct_basis.direct_effective_cost > 0

),

weighted as (

    select
        candidates.shared_pool,
        candidates.charge_month,
        candidates.split_method,
        candidates.business_category,
        coalesce(direct_basis.direct_effective_cost, 0) as basis_effective_cost,
        case candidates.split_method
            when 'fixed' then candidates.fixed_weight
            when 'even' then 1.0
            when 'proportional' then greatest(cast(coalesce(direct_basis.direct_effective_cost, 0) as double), 0.0)
        end as weight
    from candidates
    left join direct_basis
        on candidates.charge_month = direct_basis.charge_month
        and candidates.business_category = direct_basis.business_category

),

normalised as (

    select
        *,
        weight / sum(weight) over (partition by shared_pool, charge_month) as share
    from weighted
    where weight > 0

),

final as (

    select
        shared_pool,
        charge_month,
        business_category,
        split_method,
        basis_effective_cost,
        weight,
        share,
        row_number() over (
            partition by shared_pool, charge_month order by share desc, business_category
        ) = 1 as is_largest_share
    from normalised

)

select * from final
