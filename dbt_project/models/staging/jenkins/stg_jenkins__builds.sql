-- One row per Jenkins build (deploy jobs and CI jobs alike). Grain: build_key (job_full_name:build_number).
-- Typed from the raw JSON payload; no joins. Parameters, cause and git revision come from the build's actions.
with

source as (

    select * from {{ source('jenkins', 'builds') }}

),

renamed as (

    select
        job_full_name || ':' || cast(number as varchar) as build_key,
        job_full_name,
        {{ matches_rule('job_full_name', 'jenkins', 'deployment_pattern') }} as is_deployment_job,
        cast(number as bigint) as build_number,
        scope as top_level_item,
        building as is_building,
        result,
        started_at,
        case
            when not building then started_at + to_milliseconds(cast(payload ->> '$.duration' as bigint))
        end as finished_at,
        case when not building then cast(payload ->> '$.duration' as bigint) / 1000.0 end as duration_seconds,
        payload ->> '$.url' as build_url,
        list_filter(
            json_extract_string(payload, '$.actions[*].lastBuiltRevision.SHA1'), lambda x: x is not null
        )[1] as commit_sha,
        list_filter(
            json_extract(payload, '$.actions[*].parameters[*]'), lambda p: (p ->> '$.name') = 'ENVIRONMENT'
        )[1] ->> '$.value' as environment_parameter,
        list_filter(
            json_extract(payload, '$.actions[*].parameters[*]'), lambda p: (p ->> '$.name') = 'KIND'
        )[1] ->> '$.value' as kind_parameter,
        list_filter(
            json_extract_string(payload, '$.actions[*].remoteUrls[0]'), lambda x: x is not null
        )[1] as remote_url,
        list_filter(
            json_extract_string(payload, '$.actions[*].causes[0].shortDescription'), lambda x: x is not null
        )[1] as cause,
        list_filter(
            json_extract_string(payload, '$.actions[*].causes[0].userId'), lambda x: x is not null
        )[1] as triggered_by,
        json_extract_string(payload, '$.changeSets[*].items[*].commitId') as changed_commit_shas,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
