-- One row per live Jira issue (deleted ones dropped), resolved against the mapping seeds: the owning team
-- (jira_projects), the epic it rolls up to, that epic's initiative, business category and initiative type
-- (epic_categories, else the team's category), the assignee as a person (int_identity_map), and the
-- classification flags planned/unplanned work and priority hygiene build on.
with

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

deletions as (

    select issue_id from {{ ref('stg_jira__issue_deletions') }} where is_deleted

),

jira_projects as (

    select * from {{ ref('jira_projects') }}

),

teams as (

    select * from {{ ref('teams') }}

),

epic_categories as (

    select * from {{ ref('epic_categories') }}

),

jira_identities as (

    select
        identity as account_id,
        arg_max(person_key, valid_from) as person_key

    from {{ ref('int_identity_map') }}
    where tool = 'jira'
    group by identity

),

priority_changes as (

    select * from {{ ref('int_work__field_changes') }} where field_role = 'priority'

),

live as (

    select issues.*
    from issues
    anti join deletions on issues.issue_id = deletions.issue_id

),

initial_priority as (

    -- the priority before the first priority change is the one the issue was created with
    select
        issue_id,
        (list(from_string order by changed_at, history_id, item_index))[1] as initial_priority_name

    from priority_changes
    group by issue_id

),

levels as (

    select
        *,
        coalesce(hierarchy_level, case when is_subtask then -1 else 0 end) as level

    from live

),

with_epic as (

    -- an epic counts for itself; a standard issue rolls up to its epic parent, a subtask to its parent's epic
    select
        levels.*,
        case
            when levels.level = 1 then levels.issue_id
            when parent.level = 1 then parent.issue_id
            when grandparent.level = 1 then grandparent.issue_id
        end as epic_issue_id,
        case
            when levels.level = 1 then levels.issue_key
            when parent.level = 1 then parent.issue_key
            when grandparent.level = 1 then grandparent.issue_key
            when parent.issue_id is null and levels.parent_issue_type = 'Epic' then levels.parent_issue_key
        end as epic_key

    from levels
    left join levels as parent on levels.parent_issue_id = parent.issue_id
    left join levels as grandparent on parent.parent_issue_id = grandparent.issue_id

),

epics as (

    select
        issue_id as epic_issue_id,
        summary as epic_summary,
        substr(
            list_filter(labels, x -> starts_with(x, lower('{{ metric_var("work_epic_initiative_label_prefix") }}')))[1],
            length('{{ metric_var("work_epic_initiative_label_prefix") }}') + 1
        ) as initiative

    from levels
    where level = 1

),

classified as (

    select
        with_epic.*,
        epics.epic_summary,
        epics.initiative,
        jira_projects.team_key,
        teams.business_category as team_business_category,
        by_key.business_category as key_business_category,
        by_initiative.business_category as initiative_business_category,
        coalesce(by_key.initiative_type, by_initiative.initiative_type) as initiative_type,
        len(list_filter(with_epic.labels, x -> regexp_matches(x, '{{ metric_var("work_interrupt_label_pattern") }}')))
        > 0 as has_interrupt_label,
        coalesce(initial_priority.initial_priority_name, with_epic.priority_name) as initial_priority_name,
        assignee.person_key as assignee_person_key

    from with_epic
    left join epics on with_epic.epic_issue_id = epics.epic_issue_id
    left join jira_projects on with_epic.project_key = jira_projects.project_key
    left join teams on jira_projects.team_key = teams.team_key
    left join epic_categories as by_key on with_epic.epic_key = by_key.epic_key
    left join epic_categories as by_initiative
        on epics.initiative = lower(by_initiative.initiative) and by_initiative.epic_key is null
    left join initial_priority on with_epic.issue_id = initial_priority.issue_id
    left join jira_identities as assignee on with_epic.assignee_account_id = assignee.account_id

),

final as (

    select
        -- ids
        issue_id,
        issue_key,
        project_key,
        team_key,

        -- what it is
        summary,
        issue_type,
        level as hierarchy_level,
        level = 1 as is_epic,
        is_subtask,
        level = 0 as is_work_item,
        is_bug,
        is_incident,
        has_interrupt_label,
        is_incident or has_interrupt_label
        or (is_bug and {{ metric_var('work_bugs_are_unplanned') }}) as is_interrupt,
        labels,
        components,

        -- priority
        priority_id,
        priority_name,
        initial_priority_name,
        coalesce(regexp_matches(priority_name, '{{ metric_var("work_top_priority_pattern") }}'), false)
            as is_top_priority,
        coalesce(regexp_matches(initial_priority_name, '{{ metric_var("work_top_priority_pattern") }}'), false)
            as is_top_priority_at_creation,

        -- current status
        status_id,
        status_name,
        status_category,

        -- people
        assignee_account_id,
        assignee_person_key,
        reporter_account_id,

        -- planning
        story_points,
        sprint_ids,

        -- epic and what the work counts towards
        epic_issue_id,
        epic_key,
        epic_summary,
        initiative,
        initiative_type,
        coalesce(key_business_category, initiative_business_category, team_business_category) as business_category,
        case
            when key_business_category is not null then 'epic'
            when initiative_business_category is not null then 'initiative'
            when team_business_category is not null then 'team'
        end as business_category_source,

        -- timestamps (UTC)
        created_at,
        updated_at,
        resolved_at

    from classified

)

select * from final
