-- One row per sprint: what the team committed to when the sprint started, what it added and removed while it
-- ran, and what it finished by the end. Velocity = story points done by the sprint's end (points as of the
-- end); say/do = of the points committed at the start, the share done by the end (points as of the start, so a
-- re-estimate during the sprint moves neither side). An item finished in an earlier sprint and still listed in
-- this one (carried-over bookkeeping) is left out of this sprint's scope so its points never count twice.
with

sprints as (

    select * from {{ ref('stg_jira__sprints') }}

),

boards as (

    select * from {{ ref('stg_jira__boards') }}

),

jira_projects as (

    select * from {{ ref('jira_projects') }}

),

membership as (

    select * from {{ ref('int_work__sprint_membership') }} where not was_completed_in_earlier_sprint

),

scope as (

    select
        sprint_id,
        count(*) filter (where is_committed) as committed_items,
        coalesce({{ sum_exact('points_at_start', 'is_committed') }}, 0) as committed_points,
        count(*) filter (where is_committed and points_at_start is null) as committed_unestimated_items,
        count(*) filter (where is_added_after_start) as added_items,
        coalesce({{ sum_exact('points_at_end', 'is_added_after_start') }}, 0) as added_points,
        count(*) filter (where is_removed_during_sprint) as removed_items,
        coalesce({{ sum_exact('points_at_end', 'is_removed_during_sprint') }}, 0) as removed_points,
        count(*) filter (where is_done_at_sprint_end) as completed_items,
        coalesce({{ sum_exact('points_at_end', 'is_done_at_sprint_end') }}, 0) as completed_points,
        count(*) filter (where is_committed and is_done_at_sprint_end) as committed_completed_items,
        coalesce({{ sum_exact('points_at_start', 'is_committed and is_done_at_sprint_end') }}, 0)
            as committed_completed_points

    from membership
    group by sprint_id

),

final as (

    select
        -- ids
        sprints.sprint_id,
        sprints.sprint_name,
        sprints.board_id,
        boards.project_key,
        jira_projects.team_key,

        -- when (UTC)
        sprints.sprint_state,
        sprints.start_at,
        sprints.end_at,
        sprints.complete_at,
        {{ utc_period_start('week', 'sprints.end_at') }} as end_week_start,

        -- scope
        coalesce(scope.committed_items, 0) as committed_items,
        coalesce(scope.committed_points, 0) as committed_points,
        coalesce(scope.committed_unestimated_items, 0) as committed_unestimated_items,
        coalesce(scope.added_items, 0) as added_items,
        coalesce(scope.added_points, 0) as added_points,
        coalesce(scope.removed_items, 0) as removed_items,
        coalesce(scope.removed_points, 0) as removed_points,

        -- outcome
        coalesce(scope.completed_items, 0) as completed_items,
        coalesce(scope.completed_points, 0) as velocity_points,
        coalesce(scope.committed_completed_items, 0) as committed_completed_items,
        coalesce(scope.committed_completed_points, 0) as committed_completed_points,
        scope.committed_completed_points / nullif(scope.committed_points, 0) as say_do_ratio,
        scope.committed_completed_items / nullif(scope.committed_items, 0) as say_do_items_ratio

    from sprints
    left join boards on sprints.board_id = boards.board_id
    left join jira_projects on boards.project_key = jira_projects.project_key
    left join scope on sprints.sprint_id = scope.sprint_id

)

select * from final
