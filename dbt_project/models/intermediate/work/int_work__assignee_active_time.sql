-- Active time of Jira work items cut by assignee: one row per (active status period × assignee interval) that
-- overlap. The hours belong to whoever was assigned at the time; both the effort record (int_work__effort_monthly)
-- and the engineering-time estimate (int_priorities__work_item_engineering_hours) start from these pieces.
with

issues as (

    select * from {{ ref('int_work__issues') }} where is_work_item

),

status_periods as (

    select * from {{ ref('int_work__status_periods') }} where is_active

),

assignee_changes as (

    select * from {{ ref('int_work__field_changes') }} where field_role = 'assignee'

),

ordered_assignee_changes as (

    select
        *,
        row_number() over (partition by issue_id order by changed_at, history_id, item_index) as change_seq,
        lead(changed_at) over (partition by issue_id order by changed_at, history_id, item_index) as next_changed_at

    from assignee_changes

),

assignee_intervals as (

    -- before the first assignee change: that change's "from"; never changed: today's assignee
    select
        issues.issue_id,
        case when first_change.issue_id is null then issues.assignee_account_id else first_change.from_value end
            as assignee_account_id,
        cast('-infinity' as timestamptz) as valid_from,
        coalesce(first_change.changed_at, cast('infinity' as timestamptz)) as valid_to

    from issues
    left join ordered_assignee_changes as first_change
        on issues.issue_id = first_change.issue_id and first_change.change_seq = 1

    union all

    select
        issue_id,
        to_value as assignee_account_id,
        changed_at as valid_from,
        coalesce(next_changed_at, cast('infinity' as timestamptz)) as valid_to

    from ordered_assignee_changes

),

final as (

    select
        status_periods.issue_id,
        assignee_intervals.assignee_account_id,
        greatest(status_periods.entered_at, assignee_intervals.valid_from) as piece_start,
        least(status_periods.measured_until, assignee_intervals.valid_to) as piece_end

    from status_periods
    inner join issues on status_periods.issue_id = issues.issue_id
    inner join assignee_intervals
        on status_periods.issue_id = assignee_intervals.issue_id
        and assignee_intervals.valid_from < status_periods.measured_until
        and assignee_intervals.valid_to > status_periods.entered_at
    where least(status_periods.measured_until, assignee_intervals.valid_to)
        > greatest(status_periods.entered_at, assignee_intervals.valid_from)

)

select * from final
