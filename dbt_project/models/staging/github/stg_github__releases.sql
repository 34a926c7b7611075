-- One row per GitHub release (REST `GET /releases`).
-- Grain: release_id. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('github', 'releases') }}

),

renamed as (

    select
        id as release_id,
        repo as repo_full_name,
        tag_name,
        payload ->> '$.target_commitish' as target_commitish,
        payload ->> '$.name' as release_name,
        coalesce((payload ->> '$.draft')::boolean, false) as is_draft,
        coalesce((payload ->> '$.prerelease')::boolean, false) as is_prerelease,
        created_at,
        published_at,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
