-- One row per merge request with its approval state (REST `GET /merge_requests/:iid/approvals`).
-- Grain: merge_request_id. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('gitlab', 'mr_approvals') }}

),

renamed as (

    select
        mr_id as merge_request_id,
        mr_iid as merge_request_iid,
        project as project_path,
        approved as is_approved,
        (payload ->> '$.approvals_required')::integer as approvals_required,
        (payload ->> '$.approvals_left')::integer as approvals_left,
        cast(json_extract_string(payload, '$.approved_by[*].user.username') as varchar[]) as approved_by_usernames,
        updated_at,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
