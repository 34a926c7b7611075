-- One row per Jira issue × status period: the status the issue was created in (period 0, from creation to
-- the first status change) and every status it moved to since, with when it entered and left, the status
-- category, and whether the time counts as active work, waiting or done (seed workflow_statuses, else the
-- category's default). The last period of an issue is open (left_at null) and is measured up to the data's
-- as-of time: the latest update seen in Jira, not the wall clock, so a rebuild of old data gives the same hours.
with

issues as (

    select issue_id, issue_key, project_key, status_id, status_name, created_at, updated_at
    from {{ ref('int_work__issues') }}

),

status_changes as (

    select * from {{ ref('int_work__field_changes') }} where field_role = 'status'

),

statuses as (

    select * from {{ ref('stg_jira__statuses') }}

),

workflow_statuses as (

    select * from {{ ref('workflow_statuses') }}

),

as_of as (

    select max(updated_at) as data_as_of from issues

),

ordered_changes as (

    select
        *,
        row_number() over (partition by issue_id order by changed_at, history_id, item_index) as change_seq

    from status_changes

),

initial_periods as (

    -- before its first status change an issue was in that change's "from" status; never changed = current status
    select
        issues.issue_id,
        0 as period_seq,
        coalesce(first_change.from_value, issues.status_id) as status_id,
        coalesce(first_change.from_string, issues.status_name) as status_name_as_logged,
        issues.created_at as entered_at,
        cast(null as bigint) as entered_by_history_id

    from issues
    left join ordered_changes as first_change
        on issues.issue_id = first_change.issue_id and first_change.change_seq = 1

),

move_periods as (

    select
        ordered_changes.issue_id,
        ordered_changes.change_seq as period_seq,
        ordered_changes.to_value as status_id,
        ordered_changes.to_string as status_name_as_logged,
        ordered_changes.changed_at as entered_at,
        ordered_changes.history_id as entered_by_history_id

    from ordered_changes
    inner join issues on ordered_changes.issue_id = issues.issue_id

),

periods as (

    select * from initial_periods
    union all
    select * from move_periods

),

classified as (

    select
        periods.*,
        coalesce(statuses.status_name, periods.status_name_as_logged) as status_name,
        statuses.status_category,
        coalesce(
            workflow_statuses.flow_state,
            case statuses.status_category
                when 'new' then 'waiting'
                when 'indeterminate' then 'active'
                when 'done' then 'done'
            end
        ) as flow_state,
        case when workflow_statuses.status_name is not null then 'seed' else 'category_default' end
            as flow_state_source,
        case
            when workflow_statuses.status_name is not null then workflow_statuses.workflow_rank
            when statuses.status_category = 'new' then 0
            when statuses.status_category = 'indeterminate' then 50
            when statuses.status_category = 'done' then 100
        end as workflow_rank,
        lead(periods.entered_at) over (partition by periods.issue_id order by periods.period_seq) as left_at

    from periods
    left join statuses on periods.status_id = statuses.status_id
    left join workflow_statuses
        on lower(coalesce(statuses.status_name, periods.status_name_as_logged)) = lower(workflow_statuses.status_name)

),

with_previous as (

    select
        *,
        lag(status_category) over (partition by issue_id order by period_seq) as previous_status_category,
        lag(workflow_rank) over (partition by issue_id order by period_seq) as previous_workflow_rank

    from classified

),

final as (

    select
        -- grain
        with_previous.issue_id,
        with_previous.period_seq,
        issues.issue_key,
        issues.project_key,

        -- the status
        with_previous.status_id,
        with_previous.status_name,
        with_previous.status_category,
        with_previous.flow_state,
        with_previous.flow_state_source,
        with_previous.flow_state = 'active' as is_active,
        with_previous.flow_state = 'waiting' as is_waiting,
        with_previous.workflow_rank,

        -- how it was entered
        with_previous.entered_by_history_id,
        with_previous.previous_status_category,
        coalesce(with_previous.previous_status_category = 'done' and with_previous.status_category != 'done', false)
            as is_reopen,
        coalesce(
            with_previous.previous_status_category != 'done'
            and with_previous.workflow_rank < with_previous.previous_workflow_rank,
            false
        ) as is_move_back,

        -- when (UTC); the open period is measured up to the data's as-of time
        with_previous.entered_at,
        with_previous.left_at,
        with_previous.left_at is null as is_current,
        coalesce(with_previous.left_at, greatest(as_of.data_as_of, with_previous.entered_at)) as measured_until,
        epoch(
            coalesce(with_previous.left_at, greatest(as_of.data_as_of, with_previous.entered_at))
            - with_previous.entered_at
        ) / 3600.0 as hours

    from with_previous
    inner join issues on with_previous.issue_id = issues.issue_id
    cross join as_of

)

select * from final
