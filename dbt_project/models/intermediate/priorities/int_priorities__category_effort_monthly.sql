-- Engineering effort per business category and calendar month against the category's declared priority
-- (seed category_priorities): the effort half of investment_vs_priority, which adds the cost half once the cost
-- marts exist. Effort = Jira active hours (int_work__effort_monthly), shares among the declared categories.
with

effort as (

    select * from {{ ref('int_work__effort_monthly') }}

),

priorities as (

    select * from {{ ref('category_priorities') }}

),

months as (

    select distinct month_start from effort

),

category_effort as (

    select business_category, month_start, {{ sum_exact('active_hours') }} as active_hours
    from effort
    group by all

),

joined as (

    select
        priorities.business_category,
        months.month_start,
        priorities.priority_rank,
        priorities.target_effort_share,
        coalesce(category_effort.active_hours, 0) as active_hours

    from priorities
    cross join months
    left join category_effort
        on priorities.business_category = category_effort.business_category
        and months.month_start = category_effort.month_start

),

shares as (

    select
        *,
        active_hours / nullif(
            cast(sum(cast(active_hours as decimal(38, 10))) over (partition by month_start) as double), 0
        ) as effort_share

    from joined

),

final as (

    -- shares and gaps rounded to 4 decimals
    select
        business_category,
        month_start,
        priority_rank,
        target_effort_share,
        active_hours,
        round(effort_share, 4) as effort_share,
        round(effort_share - target_effort_share, 4) as effort_gap,
        rank() over (partition by month_start order by effort_share desc) as effort_rank,
        abs(rank() over (partition by month_start order by effort_share desc) - priority_rank) as effort_rank_distance

    from shares

)

select * from final
