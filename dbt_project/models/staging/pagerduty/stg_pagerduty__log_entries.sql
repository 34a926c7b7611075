-- One row per PagerDuty incident log entry. Grain: log_entry_id. Typed from the raw JSON payload; no joins.
-- The first acknowledge_log_entry of an incident is its acknowledgement time (time to acknowledge).
with

source as (

    select * from {{ source('pagerduty', 'log_entries') }}

),

renamed as (

    select
        id as log_entry_id,
        incident_id,
        type as entry_type,
        replace(type, '_log_entry', '') as action,
        payload ->> '$.summary' as summary,
        payload ->> '$.channel.type' as channel_type,
        payload ->> '$.agent.summary' as agent_summary,
        created_at,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
