-- One row per GitHub issue (pull requests excluded at ingestion), labels kept for incident/bug classification.
-- Grain: issue_id. Typed from the raw JSON payload; no joins.
with

source as (

    select * from {{ source('github', 'issues') }}

),

renamed as (

    select
        id as issue_id,
        repo as repo_full_name,
        number as issue_number,
        payload ->> '$.title' as title,
        payload ->> '$.body' as body,
        list_transform(coalesce(payload ->> '$.labels[*].name', []), x -> lower(x)) as labels,
        -- classification by label, with the rules in techledger.yaml (any label matching counts)
        {{ matches_rule("array_to_string(coalesce(payload ->> '$.labels[*].name', []), chr(10))", 'github', 'incident_pattern') }}
            as is_incident,
        {{ matches_rule("array_to_string(coalesce(payload ->> '$.labels[*].name', []), chr(10))", 'github', 'bug_pattern') }}
            as is_bug,
        regexp_extract(payload ->> '$.body', 'root cause: ([0-9a-f]{7,40})', 1) as root_cause_sha,
        payload ->> '$.user.login' as author_login,
        state,
        created_at,
        cast(payload ->> '$.closed_at' as timestamptz) as closed_at,
        updated_at,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
