-- One row per incident (PagerDuty, GitHub issues and Jira issues classified as incidents; a GitHub issue that
-- mirrors a PagerDuty incident is the same incident) with its restore time and the production deployment it is
-- attributed to:
--   1. an explicit reference, in this order: a deployment id, a pull request / merge request number (the
--      deployment that shipped it), a commit ("root cause: <sha>" first, then any full sha in the text): the
--      latest successful production deployment of the incident's service finished before the incident started
--      that shipped that commit or redeployed exactly it (a configuration-only redeploy of the culprit), else
--      the first one that did;
--   2. else time: the latest successful production deployment of the *same service* finished before the incident
--      started and at most incident_attribution_window_hours earlier;
--   3. else unattributed (an incident nothing changed, e.g. an infrastructure failure or a recurring problem).
with

incidents as (

    select * from {{ ref('int_delivery__incidents') }}

),

deployments as (

    select * from {{ ref('int_delivery__deployments') }}

),

deployment_commits as (

    select * from {{ ref('int_delivery__deployment_commits') }}

),

pull_requests as (

    select * from {{ ref('int_delivery__pull_requests') }}

),

successful_production as (

    select * from deployments
    where is_production and result = 'success' and finished_at is not null

),

by_deployment_reference as (

    select i.incident_id, d.deployment_id, 1 as priority
    from incidents as i, unnest(i.referenced_deployment_ids) as r(reference)
    inner join successful_production as d
        on d.source_deployment_id = r.reference
        and (i.service is null or d.service = i.service)
    qualify row_number() over (partition by i.incident_id order by d.finished_at desc, d.deployment_id) = 1

),

by_pull_request_reference as (

    select i.incident_id, p.deployment_id, 2 as priority
    from incidents as i, unnest(i.referenced_pull_request_numbers) as r(number)
    inner join pull_requests as p
        on p.pull_request_number = r.number
        and p.service = i.service
    where p.deployment_id is not null
    qualify row_number() over (partition by i.incident_id order by p.deployed_at desc, p.deployment_id) = 1

),

referenced_commits as (

    select i.incident_id, i.service, i.started_at, r.sha, 0 as strength
    from incidents as i, unnest(i.root_cause_shas) as r(sha)
    union all
    select i.incident_id, i.service, i.started_at, r.sha, 1 as strength
    from incidents as i, unnest(i.referenced_commit_shas) as r(sha)

),

commit_candidates as (

    -- deployments that shipped the commit (a short sha matches as a prefix)
    select c.incident_id, c.started_at, c.strength, d.deployment_id, d.finished_at
    from referenced_commits as c
    inner join deployment_commits as dc on starts_with(dc.commit_sha, c.sha)
    inner join successful_production as d on d.deployment_id = dc.deployment_id
    where c.service is null or d.service = c.service
    union all
    -- deployments of exactly that commit (a redeploy ships nothing new but changes production)
    select c.incident_id, c.started_at, c.strength, d.deployment_id, d.finished_at
    from referenced_commits as c
    inner join successful_production as d on starts_with(d.commit_sha, c.sha)
    where c.service is null or d.service = c.service

),

by_commit_reference as (

    select incident_id, deployment_id, 3 as priority
    from commit_candidates
    qualify row_number() over (
        partition by incident_id
        order by
            strength,
            -- before the incident: the latest; otherwise the first one
            (finished_at <= started_at) desc,
            case when finished_at <= started_at then epoch(started_at - finished_at) end,
            finished_at,
            deployment_id
    ) = 1

),

by_time as (

    select i.incident_id, d.deployment_id, 4 as priority
    from incidents as i
    inner join successful_production as d
        on d.service = i.service
        and d.finished_at <= i.started_at
        and d.finished_at >= i.started_at - to_hours({{ metric_var('incident_attribution_window_hours') }})
    qualify row_number() over (partition by i.incident_id order by d.finished_at desc, d.deployment_id) = 1

),

attributed as (

    select *
    from (
        select * from by_deployment_reference
        union all
        select * from by_pull_request_reference
        union all
        select * from by_commit_reference
        union all
        select * from by_time
    )
    qualify row_number() over (partition by incident_id order by priority, deployment_id) = 1

),

final as (

    select
        i.incident_id,
        i.source_system,
        i.source_incident_id,
        i.incident_number,
        i.title,
        i.service,
        i.team_key,
        i.severity,
        i.status,
        i.started_at,
        i.resolved_at,
        i.restore_hours,
        i.mirrored_by,
        i.root_cause_shas,
        a.deployment_id as attributed_deployment_id,
        case a.priority
            when 1 then 'deployment_reference'
            when 2 then 'pull_request_reference'
            when 3 then 'commit_reference'
            when 4 then 'time_window'
            else 'unattributed'
        end as attribution_method,
        case when d.finished_at <= i.started_at then epoch(i.started_at - d.finished_at) / 3600.0 end
            as hours_after_deployment
    from incidents as i
    left join attributed as a on a.incident_id = i.incident_id
    left join deployments as d on d.deployment_id = a.deployment_id

)

select * from final
