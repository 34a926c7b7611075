-- One row per (tool, identity, activity): every account seen doing something in the delivery tools, whether it
-- is a bot, and which person (people seed, through int_identity_map, on the login or on the e-mail) it is.
-- Delivery models read is_bot from here; int_unresolved_identities lists the people nobody mapped.
with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}

),

pr_reviews as (

    select * from {{ ref('stg_github__pr_reviews') }}

),

pr_commits as (

    select * from {{ ref('stg_github__pr_commits') }}

),

commits as (

    select * from {{ ref('stg_github__commits') }}

),

github_deployments as (

    select * from {{ ref('stg_github__deployments') }}

),

github_issues as (

    select * from {{ ref('stg_github__issues') }}

),

merge_requests as (

    select * from {{ ref('stg_gitlab__merge_requests') }}

),

mr_notes as (

    select * from {{ ref('stg_gitlab__mr_notes') }}

),

mr_commits as (

    select * from {{ ref('stg_gitlab__mr_commits') }}

),

gitlab_deployments as (

    select * from {{ ref('stg_gitlab__deployments') }}

),

jenkins_builds as (

    select * from {{ ref('stg_jenkins__builds') }}

),

jira_issues as (

    select * from {{ ref('stg_jira__issues') }}

),

identity_map as (

    select * from {{ ref('int_identity_map') }}

),

-- one row per event: (tool, identity as the tool shows it, e-mail when the event carries one, activity, time)
events as (

    select 'github' as tool, author_login as identity, null as email, 'pr_author' as activity, created_at as seen_at
    from pull_requests
    union all
    select 'github', reviewer_login, null, 'pr_reviewer', submitted_at
    from pr_reviews
    union all
    select 'github', coalesce(author_login, author_email), author_email, 'commit_author', authored_at
    from pr_commits
    union all
    select 'github', author_login, null, 'commit_author', committed_at
    from commits
    union all
    select 'github', creator_login, null, 'deployment_creator', created_at
    from github_deployments
    union all
    select 'github', author_login, null, 'issue_author', created_at
    from github_issues
    union all
    select 'gitlab', author_username, null, 'mr_author', created_at
    from merge_requests
    union all
    select 'gitlab', author_username, null, 'mr_note_author', created_at
    from mr_notes
    union all
    -- GitLab MR commits carry a name and an e-mail, no username: the e-mail is the identity
    select 'gitlab', author_email, author_email, 'commit_author', authored_at
    from mr_commits
    union all
    select 'gitlab', deployer_username, null, 'deployment_creator', created_at
    from gitlab_deployments
    union all
    -- Jenkins user ids are resolved against every tool's logins (Jenkins usually authenticates through the
    -- code host or SSO, so its ids are GitHub/GitLab logins)
    select 'jenkins', triggered_by, null, 'deployment_creator', started_at
    from jenkins_builds
    where is_deployment_job
    union all
    select 'jira', assignee_account_id, null, 'issue_assignee', created_at
    from jira_issues
    union all
    select 'jira', reporter_account_id, null, 'issue_reporter', created_at
    from jira_issues

),

-- one row per account whatever the case it was written in (logins and e-mails are case-insensitive; Jira
-- account ids are not)
grouped as (

    select
        tool,
        case when tool = 'jira' then identity else lower(identity) end as identity_key,
        activity,
        min(identity) as identity,
        min(email) as email,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        count(*) as activity_count
    from events
    where identity is not null and identity <> ''
    group by all

),

keyed as (

    select *, lower(email) as email_key
    from grouped

),

resolved as (

    select
        keyed.*,
        coalesce(
            by_login.person_key,
            by_email.person_key,
            by_identity_email.person_key,
            by_any_login.person_key
        ) as person_key
    from keyed
    -- the tool's own login / username / account id
    left join (select distinct tool, identity, person_key from identity_map) as by_login
        on by_login.tool = keyed.tool and by_login.identity = keyed.identity_key
    -- the e-mail the event carries
    left join (select distinct identity, person_key from identity_map where tool = 'email') as by_email
        on by_email.identity = keyed.email_key
    -- an identity that is itself an e-mail address
    left join (select distinct identity, person_key from identity_map where tool = 'email') as by_identity_email
        on by_identity_email.identity = keyed.identity_key
    -- Jenkins: any code-host login
    left join (
        select identity, min(person_key) as person_key
        from identity_map
        where tool in ('github', 'gitlab')
        group by identity
    ) as by_any_login
        on keyed.tool = 'jenkins' and by_any_login.identity = keyed.identity_key

),

final as (

    select
        tool,
        identity,
        activity,
        email,
        -- a bot by login, or by the local part of its e-mail (49699333+dependabot[bot]@users.noreply...)
        regexp_matches(identity, '{{ metric_var("bot_pattern") }}')
            or coalesce(regexp_matches(split_part(coalesce(email, identity), '@', 1), '{{ metric_var("bot_pattern") }}'), false)
            as is_bot,
        person_key,
        first_seen_at,
        last_seen_at,
        activity_count
    from resolved

)

select * from final
