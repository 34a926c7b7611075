-- One row per deployment attempt of any environment: service, team, environment, kind, result, finish time,
-- what it shipped (commits by the commit graph, pull requests it deployed first), whether it caused an incident,
-- whether it is rework, and how long recovery took when it was a change failure.
with

deployments as (

    select * from {{ ref('int_delivery__deployments') }}

),

deployment_commits as (

    select * from {{ ref('int_delivery__deployment_commits') }}

),

pull_requests as (

    select * from {{ ref('fct_pull_requests') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}

),

shipped_commits as (

    select deployment_id, count(*) as commits_shipped_count
    from deployment_commits
    group by deployment_id

),

shipped_changes as (

    select
        deployment_id,
        count(*) as changes_shipped_count,
        quantile_cont(lead_time_for_changes_hours, 0.5) as lead_time_hours_p50,
        quantile_cont(lead_time_for_changes_hours, 0.85) as lead_time_hours_p85,
        max(lead_time_for_changes_hours) as lead_time_hours_max
    from pull_requests
    where deployment_id is not null
    group by deployment_id

),

caused as (

    select
        attributed_deployment_id as deployment_id,
        count(*) as incidents_caused_count,
        min(started_at) as first_incident_started_at,
        -- recovery ends when the last incident it caused is resolved (null while one is still open)
        case when count(resolved_at) = count(*) then max(resolved_at) end as last_incident_resolved_at
    from incidents
    where attributed_deployment_id is not null
    group by attributed_deployment_id

),

-- the next successful deployment of the same service and environment: a failed deployment's recovery
sequenced as (

    select
        *,
        lag(case when result = 'success' then deployment_id end ignore nulls) over (
            partition by coalesce(service, repo_full_name), environment
            order by finished_at nulls last, created_at, deployment_id
        ) as previous_success_deployment_id,
        first_value(case when result = 'success' then finished_at end ignore nulls) over (
            partition by coalesce(service, repo_full_name), environment
            order by finished_at nulls last, created_at, deployment_id
            rows between 1 following and unbounded following
        ) as next_success_finished_at
    from deployments

),

final as (

    select
        d.deployment_id,
        d.source_system,
        d.source_deployment_id,
        d.repo_full_name,
        d.service,
        d.team_key,
        d.environment,
        d.is_production,
        d.commit_sha,
        d.ref,
        d.kind,
        d.kind_source,
        d.is_retry,
        d.is_rework,
        d.rework_reason,
        d.recovering_incident_id,
        d.creator,
        d.created_at,
        d.started_at,
        d.finished_at,
        case when d.finished_at >= d.started_at then epoch(d.finished_at - d.started_at) / 60.0 end
            as duration_minutes,
        d.result,
        d.previous_success_deployment_id,

        -- what it shipped (successful production deployments only)
        case when d.is_production and d.result = 'success' then coalesce(sc.commits_shipped_count, 0) end
            as commits_shipped_count,
        case when d.is_production and d.result = 'success' then coalesce(ch.changes_shipped_count, 0) end
            as changes_shipped_count,
        ch.lead_time_hours_p50,
        ch.lead_time_hours_p85,
        ch.lead_time_hours_max,

        -- stability
        coalesce(c.incidents_caused_count, 0) > 0 as caused_incident,
        coalesce(c.incidents_caused_count, 0) as incidents_caused_count,
        c.first_incident_started_at,
        d.is_production and (d.result = 'failure' or coalesce(c.incidents_caused_count, 0) > 0)
            as is_change_failure,
        case
            when not d.is_production then null
            when d.result = 'failure' then d.next_success_finished_at
            when c.incidents_caused_count > 0 then c.last_incident_resolved_at
        end as recovered_at,
        case
            when not d.is_production then null
            when d.result = 'failure' and d.next_success_finished_at >= d.finished_at
                then epoch(d.next_success_finished_at - d.finished_at) / 3600.0
            when c.incidents_caused_count > 0 and c.last_incident_resolved_at >= c.first_incident_started_at
                then epoch(c.last_incident_resolved_at - c.first_incident_started_at) / 3600.0
        end as recovery_hours

    from sequenced as d
    left join shipped_commits as sc on sc.deployment_id = d.deployment_id
    left join shipped_changes as ch on ch.deployment_id = d.deployment_id
    left join caused as c on c.deployment_id = d.deployment_id

)

select * from final
