-- One row per Jira issue, typed from the raw search payload.
-- Story points and sprints come from the typed columns the connector filled with the custom field ids it
-- discovered on the site (raw_jira.fields.role), so no customfield id is hard-coded here.
with

source as (

    select * from {{ source('jira', 'issues') }}

),

renamed as (

    select
        -- ids
        id as issue_id,
        key as issue_key,
        project_key,
        cast(payload ->> '$.fields.project.id' as bigint) as project_id,
        cast(payload ->> '$.fields.parent.id' as bigint) as parent_issue_id,
        payload ->> '$.fields.parent.key' as parent_issue_key,
        payload ->> '$.fields.parent.fields.issuetype.name' as parent_issue_type,

        -- descriptive
        payload ->> '$.fields.summary' as summary,
        payload ->> '$.fields.issuetype.name' as issue_type,
        {{ matches_rule("payload ->> '$.fields.issuetype.name'", 'jira', 'incident_pattern') }} as is_incident,
        {{ matches_rule("payload ->> '$.fields.issuetype.name'", 'jira', 'bug_pattern') }} as is_bug,
        cast(payload ->> '$.fields.issuetype.hierarchyLevel' as integer) as hierarchy_level,
        coalesce(cast(payload ->> '$.fields.issuetype.subtask' as boolean), false) as is_subtask,
        payload ->> '$.fields.status.id' as status_id,
        payload ->> '$.fields.status.name' as status_name,
        payload ->> '$.fields.status.statusCategory.key' as status_category,
        payload ->> '$.fields.priority.id' as priority_id,
        payload ->> '$.fields.priority.name' as priority_name,
        payload ->> '$.fields.resolution.name' as resolution_name,
        list_transform(coalesce(payload ->> '$.fields.labels[*]', []), x -> lower(x)) as labels,
        coalesce(payload ->> '$.fields.components[*].name', []) as components,

        -- people
        payload ->> '$.fields.assignee.accountId' as assignee_account_id,
        payload ->> '$.fields.reporter.accountId' as reporter_account_id,

        -- planning (custom fields resolved at load time)
        story_points,
        cast(coalesce(sprint_ids, '[]') as bigint[]) as sprint_ids,
        story_points_field,
        sprint_field,

        -- timestamps (UTC; Jira serves them in the API user's timezone with an offset)
        created_at,
        updated_at,
        cast(payload ->> '$.fields.resolutiondate' as timestamptz) as resolved_at,

        -- lineage
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
