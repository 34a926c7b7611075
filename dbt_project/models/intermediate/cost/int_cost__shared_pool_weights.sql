-- One row per shared pool, month and target category: the share of the pool's lines of that month the category
-- receives (shares of a pool-month sum to 1). Basis of `proportional` pools: the categories' direct
-- EffectiveCost of the same month in the reporting currency (negative totals count as 0). A pool-month without
-- any positive weight has no rows: its lines stay unallocated (int_cost__lines_allocated).
-- Basis of `ci_minutes` pools (a CI vendor's invoice): the CI runner minutes of the category's teams
-- (int_cost__ci_usage_monthly; minutes of repos without a team or category are no basis) in the pool-month if every
-- CI provider's history covers it, else in the latest covered month before it, else in the first covered month:
-- the start of the CI history (partial, and not the same for every provider) never skews the split.
with

lines as (

    select * from {{ ref('int_cost__lines_categorised') }}

),

pools as (

    select * from {{ ref('shared_cost_pools') }}

),

ci_usage as (

    select * from {{ ref('int_cost__ci_usage_monthly') }}

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

ci_minutes_by_month as (

    select
        month_start,
        business_category,
        {{ sum_exact('runner_minutes') }} as runner_minutes
    from ci_usage
    where is_complete_for_all_providers
        and is_team_mapped
    group by month_start, business_category
    having sum(runner_minutes) > 0

),

ci_months as (

    select distinct month_start
    from ci_minutes_by_month

),

-- the month whose minutes split each ci_minutes pool-month
ci_pool_months as (

    select
        pool_months.shared_pool,
        pool_months.charge_month,
        coalesce(
            max(ci_months.month_start) filter (where ci_months.month_start <= pool_months.charge_month),
            min(ci_months.month_start)
        ) as minutes_month
    from pool_months
    inner join pool_methods
        on pool_months.shared_pool = pool_methods.pool
        and pool_methods.split_method = 'ci_minutes'
    cross join ci_months
    group by pool_months.shared_pool, pool_months.charge_month

),

ci_basis as (

    select
        ci_pool_months.shared_pool,
        ci_pool_months.charge_month,
        ci_pool_months.minutes_month,
        ci_minutes_by_month.business_category,
        ci_minutes_by_month.runner_minutes
    from ci_pool_months
    inner join ci_minutes_by_month
        on ci_pool_months.minutes_month = ci_minutes_by_month.month_start

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
        and pool_methods.split_method <> 'ci_minutes'
    inner join direct_basis
        on pool_months.charge_month = direct_basis.charge_month
        and direct_basis.direct_effective_cost > 0

    union all

    -- ci_minutes pools split over every category whose teams ran CI minutes
    select
        ci_basis.shared_pool,
        ci_basis.charge_month,
        pool_methods.split_method,
        ci_basis.business_category,
        null as fixed_weight
    from ci_basis
    inner join pool_methods
        on ci_basis.shared_pool = pool_methods.pool
        and pool_methods.target_count = 0

),

weighted as (

    select
        candidates.shared_pool,
        candidates.charge_month,
        candidates.split_method,
        candidates.business_category,
        coalesce(direct_basis.direct_effective_cost, 0) as basis_effective_cost,
        ci_basis.runner_minutes as basis_runner_minutes,
        ci_basis.minutes_month as basis_minutes_month,
        case candidates.split_method
            when 'fixed' then candidates.fixed_weight
            when 'even' then 1.0
            when 'proportional' then greatest(cast(coalesce(direct_basis.direct_effective_cost, 0) as double), 0.0)
            when 'ci_minutes' then coalesce(ci_basis.runner_minutes, 0.0)
        end as weight
    from candidates
    left join direct_basis
        on candidates.charge_month = direct_basis.charge_month
        and candidates.business_category = direct_basis.business_category
    left join ci_basis
        on candidates.shared_pool = ci_basis.shared_pool
        and candidates.charge_month = ci_basis.charge_month
        and candidates.business_category = ci_basis.business_category

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
        basis_runner_minutes,
        basis_minutes_month,
        weight,
        share,
        row_number() over (
            partition by shared_pool, charge_month order by share desc, business_category
        ) = 1 as is_largest_share
    from normalised

)

select * from final
