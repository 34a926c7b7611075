-- One row per PagerDuty incident. Grain: incident_id. Typed from the raw JSON payload; no joins.
-- The acknowledgement time is not here (PagerDuty drops `acknowledgements` once resolved): see stg_pagerduty__log_entries.
with

source as (

    select * from {{ source('pagerduty', 'incidents') }}

),

renamed as (

    select
        id as incident_id,
        cast(incident_number as bigint) as incident_number,
        payload ->> '$.title' as title,
        status,
        payload ->> '$.urgency' as urgency,
        payload ->> '$.priority.summary' as priority,
        service_id,
        payload ->> '$.service.summary' as service_name,
        payload ->> '$.teams[0].id' as team_id,
        payload ->> '$.incident_key' as incident_key,
        payload ->> '$.body.details' as details,
        regexp_extract(payload ->> '$.body.details', 'root cause: ([0-9a-f]{7,40})', 1) as root_cause_sha_raw,
        created_at,
        last_status_change_at,
        resolved_at,
        _ingested_at,
        _sync_id

    from source

),

final as (

    select
        * exclude (root_cause_sha_raw),
        nullif(root_cause_sha_raw, '') as root_cause_sha
    from renamed

)

select * from final
