-- Flow of Jira work per team and week (Monday-based, UTC), plus one organisation row per week (scope 'org',
-- team_key null) computed over all work items, not averaged over teams. Work items are standard issues
-- (stories, tasks, bugs, incidents): no epics, no subtasks. A week's items are those done in it (throughput,
-- cycle and lead time percentiles, flow efficiency); WIP is counted at the week's end (for the running week: at
-- the data's as-of time); velocity and say/do come from the closed sprints that ended in the week.
with

work_items as (

    select * from {{ ref('fct_work_items') }} where is_work_item

),

status_periods as (

    select * from {{ ref('int_work__status_periods') }}

),

sprints as (

    select * from {{ ref('fct_sprints') }} where sprint_state = 'closed'

),

jira_projects as (

    select * from {{ ref('jira_projects') }}

),

as_of as (

    select max(measured_until) as data_as_of from status_periods

),

weeks as (

    select
        cast(week_start as date) as week_start,
        least({{ utc_midnight('cast(week_start as date) + 7') }}, as_of.data_as_of) as measured_at,
        {{ utc_midnight('cast(week_start as date) + 7') }} > as_of.data_as_of as is_partial_week

    from as_of,
        range(
            cast((select {{ utc_period_start('week', 'min(created_at)') }} from work_items) as timestamp),
            cast({{ utc_period_start('week', 'as_of.data_as_of') }} as timestamp) + interval 1 week,
            interval 1 week
        ) as spine(week_start)

),

scopes as (

    select distinct 'team' as scope, team_key from jira_projects
    union all
    select 'org' as scope, cast(null as varchar) as team_key

),

grid as (

    select scopes.scope, scopes.team_key, weeks.week_start, weeks.measured_at, weeks.is_partial_week
    from scopes cross join weeks

),

done_stats as (

    select
        case when grouping(team_key) = 1 then 'org' else 'team' end as scope,
        team_key,
        {{ utc_period_start('week', 'done_at') }} as week_start,
        count(*) as throughput_items,
        coalesce({{ sum_exact('story_points') }}, 0) as throughput_points,
        count(cycle_time_hours) as cycle_time_sample_size,
        quantile_cont(cycle_time_hours, 0.5) as cycle_time_p50_hours,
        quantile_cont(cycle_time_hours, 0.85) as cycle_time_p85_hours,
        count(lead_time_hours) as lead_time_sample_size,
        quantile_cont(lead_time_hours, 0.5) as lead_time_p50_hours,
        quantile_cont(lead_time_hours, 0.85) as lead_time_p85_hours,
        {{ sum_exact('active_hours') }} as active_hours,
        {{ sum_exact('waiting_hours') }} as waiting_hours

    from work_items
    where done_at is not null
    group by grouping sets (
        (team_key, {{ utc_period_start('week', 'done_at') }}), ({{ utc_period_start('week', 'done_at') }})
    )

),

created_stats as (

    select
        case when grouping(team_key) = 1 then 'org' else 'team' end as scope,
        team_key,
        {{ utc_period_start('week', 'created_at') }} as week_start,
        count(*) as created_items

    from work_items
    group by grouping sets (
        (team_key, {{ utc_period_start('week', 'created_at') }}), ({{ utc_period_start('week', 'created_at') }})
    )

),

wip_items as (

    -- the work items whose status at the week's end is in the in-progress category (blocked ones included)
    select
        weeks.week_start,
        work_items.team_key,
        work_items.issue_id

    from weeks
    inner join status_periods
        on status_periods.entered_at <= weeks.measured_at
        and (status_periods.left_at is null or status_periods.left_at > weeks.measured_at)
    inner join work_items on status_periods.issue_id = work_items.issue_id
    where status_periods.status_category = 'indeterminate'

),

wip_stats as (

    select
        case when grouping(team_key) = 1 then 'org' else 'team' end as scope,
        team_key,
        week_start,
        count(*) as wip_items

    from wip_items
    group by grouping sets ((team_key, week_start), (week_start))

),

sprint_stats as (

    select
        case when grouping(team_key) = 1 then 'org' else 'team' end as scope,
        team_key,
        end_week_start as week_start,
        count(*) as sprints_ended,
        {{ sum_exact('velocity_points') }} as velocity_points,
        {{ sum_exact('committed_points') }} as committed_points,
        {{ sum_exact('committed_completed_points') }} as committed_completed_points

    from sprints
    group by grouping sets ((team_key, end_week_start), (end_week_start))

),

final as (

    select
        -- grain
        grid.scope,
        grid.team_key,
        grid.week_start,
        grid.is_partial_week,
        grid.measured_at as wip_measured_at,

        -- throughput and WIP
        coalesce(created_stats.created_items, 0) as created_items,
        coalesce(done_stats.throughput_items, 0) as throughput_items,
        coalesce(done_stats.throughput_points, 0) as throughput_points,
        coalesce(wip_stats.wip_items, 0) as wip_items,

        -- time (hours) of the items done in the week
        coalesce(done_stats.cycle_time_sample_size, 0) as cycle_time_sample_size,
        done_stats.cycle_time_p50_hours,
        done_stats.cycle_time_p85_hours,
        coalesce(done_stats.lead_time_sample_size, 0) as lead_time_sample_size,
        done_stats.lead_time_p50_hours,
        done_stats.lead_time_p85_hours,
        coalesce(done_stats.active_hours, 0) as active_hours,
        coalesce(done_stats.waiting_hours, 0) as waiting_hours,
        done_stats.active_hours / nullif(done_stats.active_hours + done_stats.waiting_hours, 0) as flow_efficiency,

        -- sprints that ended in the week
        coalesce(sprint_stats.sprints_ended, 0) as sprints_ended,
        sprint_stats.velocity_points,
        sprint_stats.committed_points,
        sprint_stats.committed_completed_points,
        sprint_stats.committed_completed_points / nullif(sprint_stats.committed_points, 0) as say_do_ratio

    from grid
    left join done_stats
        on grid.scope = done_stats.scope
        and grid.team_key is not distinct from done_stats.team_key
        and grid.week_start = done_stats.week_start
    left join created_stats
        on grid.scope = created_stats.scope
        and grid.team_key is not distinct from created_stats.team_key
        and grid.week_start = created_stats.week_start
    left join wip_stats
        on grid.scope = wip_stats.scope
        and grid.team_key is not distinct from wip_stats.team_key
        and grid.week_start = wip_stats.week_start
    left join sprint_stats
        on grid.scope = sprint_stats.scope
        and grid.team_key is not distinct from sprint_stats.team_key
        and grid.week_start = sprint_stats.week_start

)

select * from final
