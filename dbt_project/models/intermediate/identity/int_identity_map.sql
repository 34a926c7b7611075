-- One row per (tool, identity): which person and team an account in a tool belongs to.
-- Unpivots the people seed so every model resolves identities with one join on (tool, lower(identity)).
with

people as (

    select * from {{ ref('people') }}

),

identities as (

    select 'github' as tool, lower(github_login) as identity, person_key, team_key, valid_from, valid_to
    from people where github_login is not null
    union all
    select 'gitlab', lower(gitlab_username), person_key, team_key, valid_from, valid_to
    from people where gitlab_username is not null
    union all
    select 'jira', jira_account_id, person_key, team_key, valid_from, valid_to
    from people where jira_account_id is not null
    union all
    select 'email', lower(email), person_key, team_key, valid_from, valid_to
    from people where email is not null

)

select * from identities
