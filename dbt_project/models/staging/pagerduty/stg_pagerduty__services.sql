-- One row per PagerDuty service. Grain: service_id. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('pagerduty', 'services') }}

),

renamed as (

    select
        id as service_id,
        name as service_name,
        status,
        payload ->> '$.description' as description,
        payload ->> '$.teams[0].id' as team_id,
        payload ->> '$.escalation_policy.id' as escalation_policy_id,
        cast(payload ->> '$.created_at' as timestamptz) as created_at,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
