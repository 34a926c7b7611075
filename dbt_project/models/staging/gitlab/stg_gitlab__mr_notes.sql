-- One row per note (comment or system event) on a merge request (REST `GET /merge_requests/:iid/notes`).
-- Grain: note_id. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('gitlab', 'mr_notes') }}

),

renamed as (

    select
        id as note_id,
        mr_id as merge_request_id,
        mr_iid as merge_request_iid,
        project as project_path,
        payload ->> '$.author.username' as author_username,
        system as is_system,
        payload ->> '$.type' as note_type,
        payload ->> '$.body' as body,
        created_at,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
