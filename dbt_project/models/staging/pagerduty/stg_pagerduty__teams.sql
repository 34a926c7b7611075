-- One row per PagerDuty team. Grain: team_id. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('pagerduty', 'teams') }}

),

renamed as (

    select
        id as team_id,
        name as team_name,
        payload ->> '$.description' as description,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
