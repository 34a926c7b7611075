-- One row per sprint of the configured projects' scrum boards.
with

source as (

    select * from {{ source('jira', 'sprints') }}

),

renamed as (

    select
        id as sprint_id,
        board_id,
        payload ->> '$.name' as sprint_name,
        state as sprint_state,
        payload ->> '$.goal' as sprint_goal,
        start_at,
        end_at,
        complete_at,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
