-- One row per issue the deletion census looked at and found missing (or found again after a miss).
with

source as (

    select * from {{ source('jira', 'issue_deletions') }}

),

renamed as (

    select
        issue_id,
        issue_key,
        project_key,
        is_deleted,
        checked_at,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
