-- One row per field change of a Jira issue (one item of one change history), with the role of the field:
-- status, sprint, story_points, priority, assignee, resolution or other. Sprint and story-point fields are
-- custom fields whose ids differ per site; they are recognised by the field ids the connector discovered
-- (stg_jira__issues.sprint_field / story_points_field), so no customfield id is hard-coded.
with

changelogs as (

    select * from {{ ref('stg_jira__changelogs') }}

),

issues as (

    select issue_id, sprint_field, story_points_field from {{ ref('stg_jira__issues') }}

),

parsed as (

    select
        issue_id,
        history_id,
        changed_at,
        author_account_id,
        from_json(
            coalesce(items, '[]'::json),
            '[{"field": "VARCHAR", "fieldId": "VARCHAR", "from": "VARCHAR", "fromString": "VARCHAR",'
            || ' "to": "VARCHAR", "toString": "VARCHAR"}]'
        ) as parsed_items

    from changelogs

),

unnested as (

    select
        parsed.issue_id,
        parsed.history_id,
        parsed.changed_at,
        parsed.author_account_id,
        item_index,
        parsed.parsed_items[item_index] as item

    from parsed, unnest(generate_series(1, len(parsed.parsed_items))) as positions(item_index)

),

final as (

    select
        unnested.issue_id,
        unnested.history_id,
        unnested.item_index,
        unnested.changed_at,
        unnested.author_account_id,
        case
            when unnested.item.fieldId = 'status' then 'status'
            when unnested.item.fieldId = issues.sprint_field then 'sprint'
            when unnested.item.fieldId = issues.story_points_field then 'story_points'
            when unnested.item.fieldId = 'priority' then 'priority'
            when unnested.item.fieldId = 'assignee' then 'assignee'
            when unnested.item.fieldId = 'resolution' then 'resolution'
            else 'other'
        end as field_role,
        unnested.item.fieldId as field_id,
        unnested.item.field as field_name,
        unnested.item."from" as from_value,
        unnested.item.fromString as from_string,
        unnested.item."to" as to_value,
        unnested.item.toString as to_string

    from unnested
    left join issues on unnested.issue_id = issues.issue_id

)

select * from final
