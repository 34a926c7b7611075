-- One row per occurrence of a problem: an incident, a bug, a failed CI job or a rollback / revert deployment,
-- with the fingerprint that says which problem it is an occurrence of and what that occurrence cost. The
-- definitions (fingerprints, impact per kind, defaults) are in the YAML next to this file.
with

incidents as (

    select * from {{ ref('fct_incidents') }}

),

work_items as (

    select * from {{ ref('fct_work_items') }} where is_work_item

),

work_issues as (

    select issue_id, components from {{ ref('int_work__issues') }}

),

engineering as (

    select * from {{ ref('int_priorities__work_item_engineering_hours') }}

),

github_bugs as (

    select * from {{ ref('stg_github__issues') }} where is_bug and not is_incident

),

ci_jobs as (

    select * from {{ ref('fct_ci_jobs') }}

),

deployments as (

    select * from {{ ref('fct_deployments') }}

),

services as (

    select * from {{ ref('services') }}

),

teams as (

    select * from {{ ref('teams') }}

),

severity_weights as (

    select * from {{ ref('incident_severity_weights') }}

),

default_severity as (

    select weight, usd_per_weighted_hour from severity_weights where severity = 'default'

),

-- incidents ------------------------------------------------------------------------------------------------

incident_rows as (

    select
        incidents.incident_id,
        incidents.source_system,
        case
            -- the cause is known: the deployment it names (by id, PR or commit) or its root-cause commits
            when incidents.attribution_method in ('deployment_reference', 'pull_request_reference', 'commit_reference')
                then 'incident|' || coalesce(incidents.service, 'team:' || incidents.team_key, 'unknown')
                    || '|caused by deployment ' || incidents.attributed_deployment_id
            when len(coalesce(incidents.root_cause_shas, [])) > 0
                then 'incident|' || coalesce(incidents.service, 'team:' || incidents.team_key, 'unknown')
                    || '|root cause ' || array_to_string(list_sort(list_distinct(incidents.root_cause_shas)), ',')
            else 'incident|' || coalesce(incidents.service, 'team:' || incidents.team_key, 'unknown')
                || '|' || {{ normalise_problem_text('incidents.title') }}
        end as fingerprint,
        coalesce(incidents.service, incidents.team_key, 'unknown') || ': ' || coalesce(incidents.title, '')
            || case
                when incidents.attribution_method in ('deployment_reference', 'pull_request_reference', 'commit_reference')
                    then ' (caused by deployment ' || incidents.attributed_deployment_id || ')'
                else ''
            end as label,
        incidents.started_at,
        incidents.resolved_at,
        incidents.team_key,
        incidents.service,
        coalesce(work_items.business_category, teams.business_category) as business_category,
        incidents.severity,
        coalesce(weights.weight, default_severity.weight) as severity_weight,
        coalesce(weights.usd_per_weighted_hour, default_severity.usd_per_weighted_hour) as usd_per_weighted_hour,
        engineering.engineering_hours,
        regexp_matches(incidents.source_system, '{{ metric_var("incident_outage_source_pattern") }}')
            as is_outage_measured

    from incidents
    cross join default_severity
    left join severity_weights as weights
        on weights.severity = lower(regexp_replace(incidents.severity, '[^A-Za-z0-9]', '', 'g'))
    left join teams on incidents.team_key = teams.team_key
    -- a Jira incident is also a work item: its engineering time and business category
    left join work_items
        on incidents.source_system = 'jira' and incidents.source_incident_id = cast(work_items.issue_id as varchar)
    left join engineering on work_items.issue_id = engineering.issue_id

),

incident_episodes as (

    -- an outage that starts while another of the same problem is still open is the same occurrence (one outage
    -- paged twice); tickets (non-outage sources) are each an occurrence of their own
    select
        *,
        sum(case when starts_episode then 1 else 0 end) over (
            partition by fingerprint, is_outage_measured order by started_at, incident_id
        ) as episode_seq

    from (
        select
            *,
            not is_outage_measured
            or coalesce(
                started_at >= max(coalesce(resolved_at, cast('infinity' as timestamptz))) over (
                    partition by fingerprint, is_outage_measured
                    order by started_at, incident_id
                    rows between unbounded preceding and 1 preceding
                ),
                true
            ) as starts_episode

        from incident_rows
    ) as flagged

),

incident_occurrences as (

    select
        'incident' as problem_kind,
        arg_min(incident_id, started_at) as occurrence_id,
        arg_min(source_system, started_at) as source_system,
        fingerprint,
        arg_min(label, started_at) as label,
        min(started_at) as occurred_at,
        arg_min(team_key, started_at) as team_key,
        arg_min(service, started_at) as service,
        arg_min(business_category, started_at) as business_category,
        arg_max(severity, severity_weight) as severity,
        max(severity_weight) as severity_weight,
        count(*) as incident_count,
        -- the episode lasts from its first start to its last resolution; null while any of it is open
        case
            when count(resolved_at) = count(*) then epoch(max(resolved_at) - min(started_at)) / 3600.0
        end as restore_hours,
        is_outage_measured,
        {{ sum_exact('engineering_hours') }} as engineering_hours,
        cast(null as double) as runner_minutes,
        cast(null as double) as runner_cost_usd,
        cast(null as double) as waiting_minutes,
        cast(null as boolean) as is_flaky,
        case
            when is_outage_measured
                then
                    case when count(resolved_at) = count(*) then epoch(max(resolved_at) - min(started_at)) / 3600.0 end
                    * max(severity_weight)
            else {{ sum_exact('engineering_hours') }}
        end as impact_hours,
        case
            when is_outage_measured
                then
                    case when count(resolved_at) = count(*) then epoch(max(resolved_at) - min(started_at)) / 3600.0 end
                    * max(severity_weight) * arg_max(usd_per_weighted_hour, severity_weight)
            else {{ sum_exact('engineering_hours') }} * {{ metric_var('engineer_hourly_cost_usd') }}
        end as impact_usd

    from incident_episodes
    group by fingerprint, is_outage_measured, episode_seq

),

-- bugs -----------------------------------------------------------------------------------------------------

jira_bug_services as (

    -- a component naming a service (services seed) says which service the bug is in
    select work_issues.issue_id, min(services.service) as service
    from work_issues, unnest(work_issues.components) as c(component)
    inner join services on lower(c.component) = lower(services.service)
    group by work_issues.issue_id

),

jira_bug_occurrences as (

    select
        'bug' as problem_kind,
        'jira:' || work_items.issue_id as occurrence_id,
        'jira' as source_system,
        'bug|' || coalesce(jira_bug_services.service, 'project:' || work_items.project_key)
            || '|' || coalesce(
                array_to_string(list_sort(list_transform(work_issues.components, x -> lower(x))), ','), ''
            )
            || '|' || {{ normalise_problem_text('work_items.summary') }} as fingerprint,
        work_items.project_key || ': ' || coalesce(work_items.summary, '') as label,
        work_items.created_at as occurred_at,
        work_items.team_key,
        jira_bug_services.service,
        work_items.business_category,
        work_items.priority_name as severity,
        cast(null as double) as severity_weight,
        cast(null as double) as restore_hours,
        engineering.engineering_hours,
        cast(null as double) as runner_minutes,
        cast(null as double) as runner_cost_usd,
        cast(null as double) as waiting_minutes,
        cast(null as boolean) as is_flaky,
        false as is_outage_measured,
        engineering.engineering_hours as impact_hours,
        engineering.engineering_hours * {{ metric_var('engineer_hourly_cost_usd') }} as impact_usd

    from work_items
    left join work_issues on work_items.issue_id = work_issues.issue_id
    left join jira_bug_services on work_items.issue_id = jira_bug_services.issue_id
    left join engineering on work_items.issue_id = engineering.issue_id
    where work_items.is_bug and not work_items.is_incident

),

github_bug_occurrences as (

    -- GitHub issues record no work time: the impact of an occurrence is unknown (null), not zero
    select
        'bug' as problem_kind,
        'github:' || github_bugs.issue_id as occurrence_id,
        'github' as source_system,
        'bug|' || coalesce(services.service, github_bugs.repo_full_name)
            || '||' || {{ normalise_problem_text('github_bugs.title') }} as fingerprint,
        coalesce(services.service, github_bugs.repo_full_name) || ': ' || coalesce(github_bugs.title, '') as label,
        github_bugs.created_at as occurred_at,
        services.team_key,
        services.service,
        teams.business_category,
        cast(null as varchar) as severity,
        cast(null as double) as severity_weight,
        cast(null as double) as restore_hours,
        cast(null as double) as engineering_hours,
        cast(null as double) as runner_minutes,
        cast(null as double) as runner_cost_usd,
        cast(null as double) as waiting_minutes,
        cast(null as boolean) as is_flaky,
        false as is_outage_measured,
        cast(null as double) as impact_hours,
        cast(null as double) as impact_usd

    from github_bugs
    left join services on github_bugs.repo_full_name = services.repo
    left join teams on services.team_key = teams.team_key

),

-- CI failures ----------------------------------------------------------------------------------------------

ci_jobs_with_rerun as (

    -- the next try of the same job on the same commit (a re-run attempt, a GitLab retry, a new run or build)
    select
        *,
        case when head_sha is not null then
            lead(finished_at) over (
                partition by repo, workflow_name, job_name, head_sha
                order by coalesce(started_at, created_at), ci_job_key
            )
        end as next_try_finished_at

    from ci_jobs
    where not is_deployment

),

ci_failure_occurrences as (

    select
        'ci_failure' as problem_kind,
        ci_job_key as occurrence_id,
        provider as source_system,
        'ci_failure|' || coalesce(repo, 'unknown') || '|' || lower(coalesce(workflow_name, ''))
            || '|' || lower(job_name) || '|' || {{ normalise_problem_text('failed_step_name') }} as fingerprint,
        coalesce(repo, 'unknown') || ' ' || coalesce(workflow_name, '') || ' / ' || job_name
            || coalesce(' / ' || failed_step_name, '') as label,
        coalesce(finished_at, started_at, created_at) as occurred_at,
        team_key,
        service,
        teams.business_category,
        cast(null as varchar) as severity,
        cast(null as double) as severity_weight,
        cast(null as double) as restore_hours,
        cast(null as double) as engineering_hours,
        runner_minutes,
        ci_cost_usd as runner_cost_usd,
        -- waiting: the failed job's run time, then until its next try on the same commit finished (capped)
        coalesce(duration_minutes, 0) + coalesce(
            least(
                greatest(epoch(next_try_finished_at - finished_at) / 60.0, 0),
                {{ metric_var('ci_rerun_wait_cap_minutes') }}
            ),
            0
        ) as waiting_minutes,
        is_flaky,
        false as is_outage_measured

    from ci_jobs_with_rerun
    left join teams using (team_key)
    where result = 'failure'

),

ci_failure_costed as (

    select
        *,
        waiting_minutes / 60.0 as impact_hours,
        waiting_minutes / 60.0 * {{ metric_var('engineer_hourly_cost_usd') }} + coalesce(runner_cost_usd, 0)
            as impact_usd

    from ci_failure_occurrences

),

-- rollbacks and reverts ------------------------------------------------------------------------------------

rollback_occurrences as (

    -- the incident a rollback ends is costed on the incident; the rollback itself costs an engineer its duration
    select
        'rollback' as problem_kind,
        deployments.deployment_id as occurrence_id,
        deployments.source_system,
        'rollback|' || coalesce(deployments.service, deployments.repo_full_name, 'unknown') as fingerprint,
        coalesce(deployments.service, deployments.repo_full_name, 'unknown') || ': rollback / revert' as label,
        coalesce(deployments.finished_at, deployments.started_at, deployments.created_at) as occurred_at,
        deployments.team_key,
        deployments.service,
        teams.business_category,
        cast(null as varchar) as severity,
        cast(null as double) as severity_weight,
        cast(null as double) as restore_hours,
        cast(null as double) as engineering_hours,
        cast(null as double) as runner_minutes,
        cast(null as double) as runner_cost_usd,
        cast(null as double) as waiting_minutes,
        cast(null as boolean) as is_flaky,
        false as is_outage_measured,
        deployments.duration_minutes / 60.0 as impact_hours,
        deployments.duration_minutes / 60.0 * {{ metric_var('engineer_hourly_cost_usd') }} as impact_usd

    from deployments
    left join teams on deployments.team_key = teams.team_key
    where deployments.is_rework and deployments.kind in ('rollback', 'revert')

),

unioned as (

    select * from incident_occurrences
    union all by name
    select * from jira_bug_occurrences
    union all by name
    select * from github_bug_occurrences
    union all by name
    select * from ci_failure_costed
    union all by name
    select * from rollback_occurrences

),

final as (

    select
        problem_kind,
        occurrence_id,
        source_system,
        fingerprint,
        md5(fingerprint) as problem_key,
        label,
        occurred_at,
        team_key,
        service,
        business_category,
        severity,
        severity_weight,
        restore_hours,
        is_outage_measured,
        engineering_hours,
        runner_minutes,
        runner_cost_usd,
        waiting_minutes,
        is_flaky,
        incident_count,
        impact_hours,
        impact_usd

    from unioned

)

select * from final
