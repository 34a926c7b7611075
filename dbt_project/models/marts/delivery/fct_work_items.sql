-- One row per live Jira issue with its flow: when it started (first move into an in-progress-category status),
-- when it was done (the final move into a done-category status: a reopened item is done only once it is done
-- again), cycle and lead time, active vs waiting hours over started → done, rework (moves back, reopens), its
-- sprints, epic, business category, initiative type and whether it was planned.
with

issues as (

    select * from {{ ref('int_work__issues') }}

),

status_periods as (

    select * from {{ ref('int_work__status_periods') }}

),

sprint_membership as (

    select * from {{ ref('int_work__sprint_membership') }}

),

sprints as (

    select sprint_id, sprint_name from {{ ref('stg_jira__sprints') }}

),

flagged_periods as (

    -- a done run = consecutive done-category periods; its first period is a "move into done"
    select
        *,
        status_category = 'done' and coalesce(previous_status_category, '') != 'done' as starts_done_run,
        max(period_seq) over (partition by issue_id) as last_period_seq

    from status_periods

),

milestones as (

    select
        issue_id,
        min(entered_at) filter (where status_category = 'indeterminate') as started_at,
        max(entered_at) filter (where starts_done_run) as last_done_run_at,
        bool_or(status_category = 'done' and period_seq = last_period_seq) as ends_done,
        min(entered_at) filter (where starts_done_run) as first_done_at,
        count(*) filter (where is_reopen) as reopen_count,
        count(*) filter (where is_move_back) as move_back_count,
        count(*) filter (where period_seq > 0) as status_change_count,
        max(measured_until) as measured_until

    from flagged_periods
    group by issue_id

),

done_times as (

    select
        *,
        case when ends_done then last_done_run_at end as done_at

    from milestones

),

windowed_periods as (

    -- the part of each active or waiting period inside [started_at, done_at) (still open: up to the as-of time)
    select
        status_periods.issue_id,
        status_periods.is_active,
        status_periods.is_waiting,
        epoch(
            least(status_periods.measured_until, coalesce(done_times.done_at, done_times.measured_until))
            - greatest(status_periods.entered_at, done_times.started_at)
        ) / 3600.0 as hours_in_window

    from status_periods
    inner join done_times on status_periods.issue_id = done_times.issue_id
    where
        done_times.started_at is not null
        and status_periods.measured_until > done_times.started_at
        and status_periods.entered_at < coalesce(done_times.done_at, done_times.measured_until)

),

flow_hours as (

    select
        issue_id,
        {{ sum_exact('hours_in_window', 'is_active') }} as active_hours,
        {{ sum_exact('hours_in_window', 'is_waiting') }} as waiting_hours

    from windowed_periods
    group by issue_id

),

sprint_summary as (

    select
        issue_id,
        count(*) filter (where is_committed or is_added_after_start or is_in_sprint_at_end) as sprint_count,
        (list(sprint_id order by first_joined_at, sprint_id))[1] as first_sprint_id,
        (list(is_added_after_start order by first_joined_at, sprint_id))[1] as was_added_to_running_sprint,
        (list(sprint_id order by sprint_start_at desc, sprint_id desc) filter (where is_in_sprint_at_end))[1]
            as last_sprint_id

    from sprint_membership
    group by issue_id

),

final as (

    select
        -- ids
        issues.issue_id,
        issues.issue_key,
        issues.project_key,
        issues.team_key,
        issues.assignee_person_key,

        -- what it is
        issues.summary,
        issues.issue_type,
        issues.hierarchy_level,
        issues.is_work_item,
        issues.is_epic,
        issues.is_bug,
        issues.is_incident,
        issues.has_interrupt_label,
        issues.is_interrupt,
        issues.labels,

        -- priority
        issues.priority_name,
        issues.initial_priority_name,
        issues.is_top_priority,
        issues.is_top_priority_at_creation,

        -- status now
        issues.status_name,
        issues.status_category,
        done_times.done_at is not null as is_done,
        done_times.started_at is not null and done_times.done_at is null and issues.status_category = 'indeterminate'
            as is_in_progress,

        -- milestones (UTC)
        issues.created_at,
        done_times.started_at,
        done_times.done_at,
        done_times.first_done_at,
        issues.resolved_at,

        -- durations (hours)
        epoch(done_times.done_at - done_times.started_at) / 3600.0 as cycle_time_hours,
        epoch(done_times.done_at - issues.created_at) / 3600.0 as lead_time_hours,
        coalesce(flow_hours.active_hours, case when done_times.started_at is not null then 0.0 end) as active_hours,
        coalesce(flow_hours.waiting_hours, case when done_times.started_at is not null then 0.0 end) as waiting_hours,
        case
            when done_times.done_at is not null and done_times.started_at is not null
                and coalesce(flow_hours.active_hours, 0) + coalesce(flow_hours.waiting_hours, 0) > 0
                then coalesce(flow_hours.active_hours, 0)
                / (coalesce(flow_hours.active_hours, 0) + coalesce(flow_hours.waiting_hours, 0))
        end as flow_efficiency,

        -- rework
        done_times.reopen_count > 0 as is_reopened,
        done_times.reopen_count,
        done_times.move_back_count,
        done_times.status_change_count,

        -- planning
        issues.story_points,
        sprint_summary.last_sprint_id as sprint_id,
        sprints.sprint_name,
        sprint_summary.first_sprint_id,
        coalesce(sprint_summary.sprint_count, 0) as sprint_count,
        coalesce(sprint_summary.was_added_to_running_sprint, false) as was_added_to_running_sprint,
        not issues.is_interrupt and not coalesce(sprint_summary.was_added_to_running_sprint, false) as is_planned,

        -- what the work counts towards
        issues.epic_key,
        issues.epic_summary,
        issues.initiative,
        issues.initiative_type,
        issues.business_category,
        issues.business_category_source

    from issues
    left join done_times on issues.issue_id = done_times.issue_id
    left join flow_hours on issues.issue_id = flow_hours.issue_id
    left join sprint_summary on issues.issue_id = sprint_summary.issue_id
    left join sprints on sprint_summary.last_sprint_id = sprints.sprint_id

)

select * from final
