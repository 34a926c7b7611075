-- Priority hygiene per Jira project and calendar month (UTC): the share of new work items created at the top
-- priority, and of the items open at the month's end that sat at the top priority then, with their median age.
-- Priority schemes live in Jira projects, so "P1 inflation" shows here first; work_mix_monthly has the same
-- columns per team. Definitions in the YAML next to this file.
with

work_items as (

    select * from {{ ref('fct_work_items') }} where is_work_item

),

open_items as (

    select * from {{ ref('int_priorities__open_items_monthly') }}

),

status_periods as (

    select * from {{ ref('int_work__status_periods') }}

),

as_of as (

    select max(measured_until) as data_as_of from status_periods

),

months as (

    select
        cast(month_start as date) as month_start,
        {{ utc_midnight('cast(month_start as date) + interval 1 month') }} > as_of.data_as_of as is_partial_month

    from as_of,
        range(
            cast((select {{ utc_period_start('month', 'min(created_at)') }} from work_items) as timestamp),
            cast({{ utc_period_start('month', 'as_of.data_as_of') }} as timestamp) + interval 1 month,
            interval 1 month
        ) as spine(month_start)

),

projects as (

    select project_key, any_value(team_key) as team_key from work_items group by project_key

),

created as (

    select
        project_key,
        {{ utc_period_start('month', 'created_at') }} as month_start,
        count(*) as items_created,
        count(*) filter (where is_top_priority_at_creation) as top_priority_items_created

    from work_items
    group by all

),

open_stats as (

    select
        project_key,
        month_start,
        count(*) as open_items,
        count(*) filter (where is_top_priority) as open_top_priority_items,
        quantile_cont(age_days, 0.5) filter (where is_top_priority) as open_top_priority_age_p50_days

    from open_items
    group by all

),

joined as (

    select
        projects.project_key,
        projects.team_key,
        months.month_start,
        months.is_partial_month,
        coalesce(created.items_created, 0) as items_created,
        coalesce(created.top_priority_items_created, 0) as top_priority_items_created,
        coalesce(created.top_priority_items_created, 0) / nullif(created.items_created, 0)
            as top_priority_created_share_exact,
        coalesce(open_stats.open_items, 0) as open_items,
        coalesce(open_stats.open_top_priority_items, 0) as open_top_priority_items,
        coalesce(open_stats.open_top_priority_items, 0) / nullif(open_stats.open_items, 0)
            as top_priority_open_share_exact,
        open_stats.open_top_priority_age_p50_days

    from projects
    cross join months
    left join created on projects.project_key = created.project_key and months.month_start = created.month_start
    left join open_stats
        on projects.project_key = open_stats.project_key and months.month_start = open_stats.month_start

),

final as (

    -- shares and changes rounded to 4 decimals, as in work_mix_monthly
    select
        project_key,
        team_key,
        month_start,
        is_partial_month,
        items_created,
        top_priority_items_created,
        round(top_priority_created_share_exact, 4) as top_priority_created_share,
        open_items,
        open_top_priority_items,
        round(top_priority_open_share_exact, 4) as top_priority_open_share,
        open_top_priority_age_p50_days,
        round(top_priority_created_share_exact - lag(top_priority_created_share_exact) over w, 4)
            as top_priority_created_share_change,
        round(top_priority_open_share_exact - lag(top_priority_open_share_exact) over w, 4)
            as top_priority_open_share_change

    from joined
    window w as (partition by project_key order by month_start)

)

select * from final
