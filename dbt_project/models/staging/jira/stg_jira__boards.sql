-- One row per agile board of the configured projects (scrum boards have sprints, kanban boards do not).
with

source as (

    select * from {{ source('jira', 'boards') }}

),

renamed as (

    select
        id as board_id,
        name as board_name,
        type as board_type,
        project_key,
        _ingested_at,
        _sync_id

    from source

)

select * from renamed
