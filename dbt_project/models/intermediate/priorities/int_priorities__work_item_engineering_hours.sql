-- Engineering time each Jira work item received: its hours in active statuses, cut by assignee
-- (int_work__assignee_active_time), where each assignee's working time is shared equally among the items they
-- had in an active status at the same moment, and a calendar hour holds engineer_weekly_hours / 168 working
-- hours. Unassigned active time has no one to share with: it counts at the working-time ratio alone.
with

issues as (

    select * from {{ ref('int_work__issues') }} where is_work_item

),

pieces as (

    -- active time of a work item, cut by assignee
    select * from {{ ref('int_work__assignee_active_time') }}

),

assigned_pieces as (

    select * from pieces where assignee_account_id is not null

),

boundary_deltas as (

    -- +1 when one of a person's items enters active work, -1 when it leaves
    select assignee_account_id, boundary_at, sum(delta) as delta
    from (
        select assignee_account_id, piece_start as boundary_at, 1 as delta from assigned_pieces
        union all
        select assignee_account_id, piece_end as boundary_at, -1 as delta from assigned_pieces
    ) as boundaries
    group by assignee_account_id, boundary_at

),

segments as (

    -- between two consecutive boundaries the number of a person's items in active work is constant
    select
        assignee_account_id,
        boundary_at as segment_start,
        lead(boundary_at) over (partition by assignee_account_id order by boundary_at) as segment_end,
        sum(delta) over (
            partition by assignee_account_id order by boundary_at rows between unbounded preceding and current row
        ) as concurrent_items

    from boundary_deltas

),

attention as (

    -- each piece's share of its assignee's attention, in calendar hours
    select
        assigned_pieces.issue_id,
        {{ sum_exact(
            'epoch(least(assigned_pieces.piece_end, segments.segment_end)
                - greatest(assigned_pieces.piece_start, segments.segment_start)) / 3600.0 / segments.concurrent_items'
        ) }} as attention_hours

    from assigned_pieces
    inner join segments
        on assigned_pieces.assignee_account_id = segments.assignee_account_id
        and segments.segment_start < assigned_pieces.piece_end
        and segments.segment_end > assigned_pieces.piece_start
        and segments.concurrent_items > 0
    group by assigned_pieces.issue_id

),

per_issue as (

    select
        issue_id,
        {{ sum_exact('epoch(piece_end - piece_start) / 3600.0') }} as active_hours,
        coalesce({{ sum_exact('epoch(piece_end - piece_start) / 3600.0', 'assignee_account_id is null') }}, 0)
            as unassigned_active_hours,
        min(piece_start) as first_active_at,
        max(piece_end) as last_active_at

    from pieces
    group by issue_id

),

final as (

    select
        issues.issue_id,
        issues.issue_key,
        coalesce(per_issue.active_hours, 0) as active_hours,
        coalesce(per_issue.unassigned_active_hours, 0) as unassigned_active_hours,
        coalesce(attention.attention_hours, 0) + coalesce(per_issue.unassigned_active_hours, 0) as attention_hours,
        (coalesce(attention.attention_hours, 0) + coalesce(per_issue.unassigned_active_hours, 0))
            * {{ metric_var('engineer_weekly_hours') }} / 168.0 as engineering_hours,
        per_issue.first_active_at,
        per_issue.last_active_at

    from issues
    left join per_issue on issues.issue_id = per_issue.issue_id
    left join attention on issues.issue_id = attention.issue_id

)

select * from final
