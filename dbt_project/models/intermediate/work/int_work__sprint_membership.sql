-- One row per Jira issue × sprint it was ever in: when it joined, whether it was in the sprint when the sprint
-- started (committed) or added later, whether it was removed, and its story points and status at the sprint's
-- start and end. Membership comes from the sprint field's change history (each change lists the sprint ids
-- before and after); a sprint the issue lists today with no history of joining it (created straight into the
-- sprint, or carried over by a site that does not log carry-overs) is taken as joined at the later of the
-- issue's creation and the sprint's start.
with

issues as (

    select issue_id, project_key, created_at, story_points, sprint_ids from {{ ref('int_work__issues') }}

),

sprints as (

    select * from {{ ref('stg_jira__sprints') }}

),

field_changes as (

    select * from {{ ref('int_work__field_changes') }} where field_role in ('sprint', 'story_points')

),

status_periods as (

    select issue_id, status_category, entered_at, left_at from {{ ref('int_work__status_periods') }}

),

as_of as (

    select max(measured_until) as data_as_of from {{ ref('int_work__status_periods') }}

),

sprint_changes as (

    select
        issue_id,
        changed_at,
        history_id,
        item_index,
        list_filter(
            list_transform(string_split(coalesce(from_value, ''), ','), x -> try_cast(trim(x) as bigint)),
            x -> x is not null
        ) as from_ids,
        list_filter(
            list_transform(string_split(coalesce(to_value, ''), ','), x -> try_cast(trim(x) as bigint)),
            x -> x is not null
        ) as to_ids

    from field_changes
    where field_role = 'sprint'

),

logged_events as (

    select
        issue_id, changed_at, history_id, item_index,
        unnest(list_filter(to_ids, x -> not list_contains(from_ids, x))) as sprint_id,
        'added' as event
    from sprint_changes
    union all
    select
        issue_id, changed_at, history_id, item_index,
        unnest(list_filter(from_ids, x -> not list_contains(to_ids, x))) as sprint_id,
        'removed' as event
    from sprint_changes

),

pairs as (

    select issue_id, sprint_id from logged_events
    union
    select issue_id, unnest(sprint_ids) as sprint_id from issues

),

first_logged as (

    select issue_id, sprint_id, (list(event order by changed_at, history_id, item_index, event))[1] as first_event
    from logged_events
    group by issue_id, sprint_id

),

implicit_joins as (

    -- listed today without a logged join: in the sprint since its start (or the issue's creation, if later);
    -- first seen being removed: in the sprint since the issue's creation
    select
        pairs.issue_id,
        pairs.sprint_id,
        case
            when first_logged.first_event = 'removed' then issues.created_at
            else greatest(issues.created_at, coalesce(sprints.start_at, issues.created_at))
        end as changed_at,
        cast(null as bigint) as history_id,
        0 as item_index,
        'added' as event

    from pairs
    inner join issues on pairs.issue_id = issues.issue_id
    left join sprints on pairs.sprint_id = sprints.sprint_id
    left join first_logged on pairs.issue_id = first_logged.issue_id and pairs.sprint_id = first_logged.sprint_id
    where
        (first_logged.first_event is null and list_contains(issues.sprint_ids, pairs.sprint_id))
        or first_logged.first_event = 'removed'

),

events as (

    select issue_id, sprint_id, changed_at, history_id, item_index, event from logged_events
    union all
    select issue_id, sprint_id, changed_at, history_id, item_index, event from implicit_joins

),

points_changes as (

    select
        issue_id,
        changed_at,
        history_id,
        try_cast(from_string as double) as from_points,
        try_cast(to_string as double) as to_points

    from field_changes
    where field_role = 'story_points'

),

spans as (

    -- the two instants each pair is measured at: the sprint's start and its end (closed sprints: when it was
    -- completed; the running sprint: the data's as-of time)
    select
        pairs.issue_id,
        pairs.sprint_id,
        sprints.start_at as sprint_start_at,
        case
            when sprints.sprint_state = 'closed' then coalesce(sprints.complete_at, sprints.end_at)
            when sprints.sprint_state = 'active' then least(as_of.data_as_of, sprints.end_at)
        end as sprint_measured_at

    from pairs
    inner join issues on pairs.issue_id = issues.issue_id
    inner join sprints on pairs.sprint_id = sprints.sprint_id
    cross join as_of

),

membership as (

    select
        spans.issue_id,
        spans.sprint_id,
        spans.sprint_start_at,
        spans.sprint_measured_at,
        min(events.changed_at) filter (where events.event = 'added') as first_joined_at,
        max(events.changed_at) filter (where events.event = 'removed') as last_removed_at,
        -- the last membership event at or before each instant (a removal logged at the same instant wins)
        (list(events.event order by events.changed_at desc, events.event desc, events.history_id desc nulls last)
            filter (where events.changed_at <= spans.sprint_start_at))[1] as event_at_start,
        (list(events.event order by events.changed_at desc, events.event desc, events.history_id desc nulls last)
            filter (where events.changed_at <= spans.sprint_measured_at))[1] as event_at_end,
        count(*) filter (
            where events.event = 'added'
            and events.changed_at > spans.sprint_start_at
            and events.changed_at <= spans.sprint_measured_at
        ) as joins_during_sprint

    from spans
    left join events on spans.issue_id = events.issue_id and spans.sprint_id = events.sprint_id
    group by all

),

points as (

    select
        membership.issue_id,
        membership.sprint_id,
        -- points as of an instant: the last change before it, else the value before the first change, else today's
        coalesce(
            (list(points_changes.to_points order by points_changes.changed_at desc, points_changes.history_id desc)
                filter (where points_changes.changed_at <= membership.sprint_start_at))[1],
            (list(points_changes.from_points order by points_changes.changed_at, points_changes.history_id))[1],
            any_value(issues.story_points)
        ) as points_at_start,
        coalesce(
            (list(points_changes.to_points order by points_changes.changed_at desc, points_changes.history_id desc)
                filter (where points_changes.changed_at <= membership.sprint_measured_at))[1],
            (list(points_changes.from_points order by points_changes.changed_at, points_changes.history_id))[1],
            any_value(issues.story_points)
        ) as points_at_end

    from membership
    inner join issues on membership.issue_id = issues.issue_id
    left join points_changes on membership.issue_id = points_changes.issue_id
    group by membership.issue_id, membership.sprint_id

),

status_at_end as (

    select
        membership.issue_id,
        membership.sprint_id,
        any_value(status_periods.status_category) as status_category_at_end

    from membership
    inner join status_periods
        on membership.issue_id = status_periods.issue_id
        and status_periods.entered_at <= membership.sprint_measured_at
        and (status_periods.left_at is null or status_periods.left_at > membership.sprint_measured_at)
    group by membership.issue_id, membership.sprint_id

),

outcomes as (

    select
        membership.*,
        points.points_at_start,
        points.points_at_end,
        status_at_end.status_category_at_end,
        coalesce(membership.event_at_end = 'added' and status_at_end.status_category_at_end = 'done', false)
            as is_done_at_sprint_end

    from membership
    left join points on membership.issue_id = points.issue_id and membership.sprint_id = points.sprint_id
    left join status_at_end
        on membership.issue_id = status_at_end.issue_id and membership.sprint_id = status_at_end.sprint_id

),

final as (

    select
        -- grain
        issue_id,
        sprint_id,

        -- membership
        first_joined_at,
        last_removed_at,
        coalesce(event_at_start = 'added', false) as is_committed,
        not coalesce(event_at_start = 'added', false) and joins_during_sprint > 0 as is_added_after_start,
        coalesce(event_at_end = 'added', false) as is_in_sprint_at_end,
        (coalesce(event_at_start = 'added', false) or joins_during_sprint > 0)
        and not coalesce(event_at_end = 'added', false) as is_removed_during_sprint,

        -- size and outcome
        points_at_start,
        points_at_end,
        status_category_at_end,
        is_done_at_sprint_end,
        -- done at the end of an earlier sprint: its points were completed there and do not count again here
        coalesce(
            bool_or(is_done_at_sprint_end) over (
                partition by issue_id order by sprint_start_at, sprint_id
                rows between unbounded preceding and 1 preceding
            ),
            false
        ) as was_completed_in_earlier_sprint,

        -- the instants measured at (UTC)
        sprint_start_at,
        sprint_measured_at

    from outcomes

)

select * from final
