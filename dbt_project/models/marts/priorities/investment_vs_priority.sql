-- Per business category and calendar month: its declared priority and target share (seed category_priorities)
-- against the share of engineering effort and of cost it actually received, and how far apart they are.
with

priorities as (

    select * from {{ ref('category_priorities') }}

),

-- effort half (Jira) --------------------------------------------------------------------------------------------

category_effort as (

    -- shares of Jira active hours among the declared categories
    select * from {{ ref('int_priorities__category_effort_monthly') }}

),

-- cost half (cost marts) ----------------------------------------------------------------------------------------

category_cost as (

    select
        business_category,
        cast(month_start as date) as month_start,
        {{ sum_exact('effective_cost') }} as effective_cost

    from {{ ref('cost_by_category_monthly') }}
    where business_category in (select business_category from priorities)
    group by all

),

cost_shares as (

    select
        business_category,
        month_start,
        effective_cost,
        effective_cost / nullif(
            cast(sum(cast(effective_cost as decimal(38, 10))) over (partition by month_start) as double), 0
        ) as cost_share

    from category_cost

),

-- ----------------------------------------------------------------------------------------------------------------

months as (

    select month_start from category_effort
    union
    select month_start from cost_shares

),

effort_months as (

    select distinct month_start from category_effort

),

cost_months as (

    select distinct month_start from cost_shares

),

joined as (

    select
        priorities.business_category,
        months.month_start,
        priorities.priority_rank,
        priorities.target_effort_share,
        category_effort.active_hours,
        -- a month with no data of one kind has no share of that kind (null, not 0)
        case when effort_months.month_start is not null then coalesce(category_effort.effort_share, 0) end
            as effort_share,
        category_effort.effort_rank,
        category_effort.effort_rank_distance,
        case when cost_months.month_start is not null then coalesce(cost_shares.effective_cost, 0) end
            as effective_cost,
        case when cost_months.month_start is not null then coalesce(cost_shares.cost_share, 0) end as cost_share

    from priorities
    cross join months
    left join category_effort
        on priorities.business_category = category_effort.business_category
        and months.month_start = category_effort.month_start
    left join cost_shares
        on priorities.business_category = cost_shares.business_category
        and months.month_start = cost_shares.month_start
    left join effort_months on months.month_start = effort_months.month_start
    left join cost_months on months.month_start = cost_months.month_start

),

final as (

    -- shares, gaps and the score rounded to 4 decimals
    select
        business_category,
        month_start,
        priority_rank,
        target_effort_share,
        active_hours,
        effort_share,
        round(effort_share - target_effort_share, 4) as effort_gap,
        effort_rank,
        effort_rank_distance,
        effective_cost,
        round(cost_share, 4) as cost_share,
        round(cost_share - target_effort_share, 4) as cost_gap,
        case
            when cost_share is not null then rank() over (partition by month_start order by cost_share desc nulls last)
        end as cost_rank,
        case
            when cost_share is not null
                then abs(rank() over (partition by month_start order by cost_share desc nulls last) - priority_rank)
        end as cost_rank_distance,
        round(abs(effort_share - target_effort_share) + abs(cost_share - target_effort_share), 4) as misalignment_score

    from joined

)

select * from final
