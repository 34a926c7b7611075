-- One row per Jira change history (one edit of one issue, possibly several field changes), from the full
-- changelog (bulkfetch on Cloud), never the truncated embedded one. `items` keeps the field changes as JSON;
-- status_* columns are filled when the history changed the status.
with

source as (

    select * from {{ source('jira', 'changelogs') }}

),

renamed as (

    select
        -- ids
        history_id,
        issue_id,
        payload ->> '$.author.accountId' as author_account_id,

        -- changes
        payload -> '$.items' as items,
        json_array_length(coalesce(payload -> '$.items', '[]'::json)) as item_count,
        list_contains(coalesce(payload ->> '$.items[*].fieldId', []), 'status') as is_status_change,
        (list_filter(
            from_json(coalesce(payload -> '$.items', '[]'::json), '[{"fieldId":"VARCHAR","from":"VARCHAR"}]'),
            x -> x.fieldId = 'status'
        )[1]).from as from_status_id,
        (list_filter(
            from_json(coalesce(payload -> '$.items', '[]'::json), '[{"fieldId":"VARCHAR","to":"VARCHAR"}]'),
            x -> x.fieldId = 'status'
        )[1]).to as to_status_id,

        -- timestamps (UTC)
        created_at as changed_at,

        -- lineage
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
