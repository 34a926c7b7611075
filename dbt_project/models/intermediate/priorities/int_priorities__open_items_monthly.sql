-- Every Jira work item that was open at the end of a calendar month (UTC), with the priority it had then and its
-- age: the item-level record behind the priority-hygiene columns of work_mix_monthly, and where a Jira project's
-- priority hygiene can be read (priority schemes are per project; work_mix_monthly is per team).
with

work_items as (

    select * from {{ ref('fct_work_items') }} where is_work_item

),

status_periods as (

    select * from {{ ref('int_work__status_periods') }}

),

priority_changes as (

    select * from {{ ref('int_work__field_changes') }} where field_role = 'priority'

),

as_of as (

    select max(measured_until) as data_as_of from status_periods

),

months as (

    select
        cast(month_start as date) as month_start,
        -- the month's end instant; for the running month, the data's as-of time
        least({{ utc_midnight('cast(month_start as date) + interval 1 month') }}, as_of.data_as_of) as snapshot_at,
        {{ utc_midnight('cast(month_start as date) + interval 1 month') }} > as_of.data_as_of as is_partial_month

    from as_of,
        range(
            cast((select {{ utc_period_start('month', 'min(created_at)') }} from work_items) as timestamp),
            cast({{ utc_period_start('month', 'as_of.data_as_of') }} as timestamp) + interval 1 month,
            interval 1 month
        ) as spine(month_start)

),

open_at_snapshot as (

    -- created by the snapshot, and in a status that is not done at it (the period covering the instant)
    select
        months.month_start,
        months.snapshot_at,
        months.is_partial_month,
        work_items.issue_id,
        work_items.issue_key,
        work_items.project_key,
        work_items.team_key,
        work_items.created_at,
        work_items.initial_priority_name,
        status_periods.status_name

    from months
    inner join work_items on work_items.created_at <= months.snapshot_at
    inner join status_periods
        on status_periods.issue_id = work_items.issue_id
        and status_periods.entered_at <= months.snapshot_at
        and (status_periods.left_at is null or status_periods.left_at > months.snapshot_at)
    where status_periods.flow_state <> 'done'

),

priority_at_snapshot as (

    -- the last priority change at or before the snapshot; none yet: the priority it was created with
    select
        open_at_snapshot.issue_id,
        open_at_snapshot.month_start,
        (list(
            priority_changes.to_string
            order by priority_changes.changed_at desc, priority_changes.history_id desc, priority_changes.item_index desc
        ))[1] as priority_name

    from open_at_snapshot
    inner join priority_changes
        on priority_changes.issue_id = open_at_snapshot.issue_id
        and priority_changes.changed_at <= open_at_snapshot.snapshot_at
    group by open_at_snapshot.issue_id, open_at_snapshot.month_start

),

final as (

    select
        open_at_snapshot.issue_id,
        open_at_snapshot.issue_key,
        open_at_snapshot.project_key,
        open_at_snapshot.team_key,
        open_at_snapshot.month_start,
        open_at_snapshot.snapshot_at,
        open_at_snapshot.is_partial_month,
        open_at_snapshot.status_name,
        coalesce(priority_at_snapshot.priority_name, open_at_snapshot.initial_priority_name) as priority_name,
        coalesce(
            regexp_matches(
                coalesce(priority_at_snapshot.priority_name, open_at_snapshot.initial_priority_name),
                '{{ metric_var("work_top_priority_pattern") }}'
            ),
            false
        ) as is_top_priority,
        open_at_snapshot.created_at,
        epoch(open_at_snapshot.snapshot_at - open_at_snapshot.created_at) / 86400.0 as age_days

    from open_at_snapshot
    left join priority_at_snapshot
        on open_at_snapshot.issue_id = priority_at_snapshot.issue_id
        and open_at_snapshot.month_start = priority_at_snapshot.month_start

)

select * from final
