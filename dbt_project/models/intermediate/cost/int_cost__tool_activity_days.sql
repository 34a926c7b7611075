-- One row per tool, person and UTC day the person did something in the tool: the evidence that a paid seat is
-- used (savings_opportunities, unused SaaS seats). GitHub: authored a pull request or a commit, or submitted a
-- review; Jira: created an issue or changed one. Accounts resolve to people through int_identity_map
-- (unresolved accounts count as their own person, so seats are never under-counted); bots are left out.
with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}

),

reviews as (

    select * from {{ ref('stg_github__pr_reviews') }}

),

commits as (

    select * from {{ ref('stg_github__commits') }}

),

jira_changes as (

    select * from {{ ref('stg_jira__changelogs') }}

),

jira_issues as (

    select * from {{ ref('stg_jira__issues') }}

),

identities as (

    select * from {{ ref('int_identity_map') }}

),

events as (

    select 'github' as tool, lower(author_login) as identity, created_at as happened_at
    from pull_requests
    union all
    select 'github', lower(reviewer_login), submitted_at
    from reviews
    union all
    select 'github', lower(author_login), committed_at
    from commits
    union all
    select 'jira', author_account_id, changed_at
    from jira_changes
    union all
    select 'jira', reporter_account_id, created_at
    from jira_issues

),

days as (

    select distinct
        tool,
        identity,
        cast(timezone('UTC', happened_at) as date) as activity_date
    from events
    where identity is not null
        and happened_at is not null
        and not regexp_matches(identity, '{{ metric_var("bot_pattern") }}')

),

resolved as (

    select
        days.tool,
        days.activity_date,
        days.identity,
        identities.person_key,
        coalesce(identities.person_key, days.tool || ':' || days.identity) as actor_key
    from days
    left join identities
        on days.tool = identities.tool
        and days.identity = identities.identity
        and days.activity_date >= identities.valid_from
        and (identities.valid_to is null or days.activity_date < identities.valid_to)

),

final as (

    select distinct
        tool,
        actor_key,
        person_key,
        activity_date
    from resolved

)

select * from final
