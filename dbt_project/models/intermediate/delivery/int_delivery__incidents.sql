-- One row per incident, unified from PagerDuty incidents, GitHub issues and Jira issues classified as incidents
-- by the configured rules (is_incident in staging), with the service and team it hit and every explicit
-- reference to its cause found in its text. A GitHub issue that mirrors a PagerDuty incident (its body names
-- "PagerDuty incident #<number>", techledger_metrics.pagerduty_mirror_pattern) is the same incident: it is
-- folded into the PagerDuty row (its references kept), not counted twice.
-- Attribution to a deployment happens in fct_incidents (it needs the deployments, which need this model for
-- their incident-recovery rework flag).
with

pagerduty_incidents as (

    select * from {{ ref('stg_pagerduty__incidents') }}

),

pagerduty_teams as (

    select * from {{ ref('stg_pagerduty__teams') }}

),

github_issues as (

    select * from {{ ref('stg_github__issues') }}
    where is_incident

),

jira_issues as (

    select * from {{ ref('stg_jira__issues') }}
    where is_incident

),

services as (

    select * from {{ ref('services') }}

),

teams as (

    select * from {{ ref('teams') }}

),

jira_projects as (

    select * from {{ ref('jira_projects') }}

),

pagerduty as (

    select
        'pagerduty:' || i.incident_id as incident_id,
        'pagerduty' as source_system,
        i.incident_id as source_incident_id,
        i.incident_number,
        i.title,
        coalesce(by_pd.service, by_name.service) as service,
        coalesce(by_pd.team_key, by_name.team_key, team_by_name.team_key) as team_key,
        coalesce(i.priority, i.urgency) as severity,
        i.status,
        i.created_at as started_at,
        i.resolved_at,
        i.root_cause_sha,
        coalesce(i.title, '') || chr(10) || coalesce(i.details, '') as reference_text
    from pagerduty_incidents as i
    left join services as by_pd on by_pd.pagerduty_service = i.service_name
    left join services as by_name on by_name.service = i.service_name
    left join pagerduty_teams as pt on pt.team_id = i.team_id
    left join teams as team_by_name
        on lower(team_by_name.team_name) = lower(pt.team_name) or team_by_name.team_key = lower(pt.team_name)

),

github_parsed as (

    select
        g.*,
        try_cast(regexp_extract(g.body, '{{ metric_var("pagerduty_mirror_pattern") }}', 1) as bigint)
            as mirrored_incident_number
    from github_issues as g

),

-- GitHub issues mirroring a PagerDuty incident we have: their references join the PagerDuty row
mirrors as (

    select
        p.incident_id,
        string_agg(coalesce(g.title, '') || chr(10) || coalesce(g.body, ''), chr(10)) as mirror_text,
        min(nullif(g.root_cause_sha, '')) as mirror_root_cause_sha,
        list('github:' || g.issue_id order by g.issue_id) as mirror_ids
    from github_parsed as g
    inner join pagerduty as p on p.incident_number = g.mirrored_incident_number
    group by p.incident_id

),

github as (

    select
        'github:' || g.issue_id as incident_id,
        'github' as source_system,
        cast(g.issue_id as varchar) as source_incident_id,
        g.issue_number as incident_number,
        g.title,
        s.service,
        s.team_key,
        -- a severity label if the repository uses one (sev1, p1...)
        list_filter(g.labels, x -> regexp_matches(x, '^(sev|p)[0-9]'))[1] as severity,
        case when g.closed_at is not null then 'resolved' else 'open' end as status,
        g.created_at as started_at,
        g.closed_at as resolved_at,
        nullif(g.root_cause_sha, '') as root_cause_sha,
        coalesce(g.title, '') || chr(10) || coalesce(g.body, '') as reference_text
    from github_parsed as g
    left join services as s on s.repo = g.repo_full_name
    where g.mirrored_incident_number is null
        or g.mirrored_incident_number not in (select incident_number from pagerduty where incident_number is not null)

),

jira as (

    select
        'jira:' || j.issue_id as incident_id,
        'jira' as source_system,
        cast(j.issue_id as varchar) as source_incident_id,
        cast(null as bigint) as incident_number,
        j.summary as title,
        -- a component or label naming a service
        s.service,
        coalesce(s.team_key, p.team_key) as team_key,
        j.priority_name as severity,
        case when j.resolved_at is not null then 'resolved' else 'open' end as status,
        j.created_at as started_at,
        j.resolved_at,
        nullif(regexp_extract(j.summary, 'root cause: ([0-9a-f]{7,40})', 1), '') as root_cause_sha,
        coalesce(j.summary, '') as reference_text
    from jira_issues as j
    left join jira_projects as p on p.project_key = j.project_key
    left join services as s
        on list_contains(list_transform(j.components, x -> lower(x)), s.service) or list_contains(j.labels, s.service)
    qualify row_number() over (partition by j.issue_id order by s.service) = 1

),

unioned as (

    select p.*, m.mirror_text, m.mirror_root_cause_sha, m.mirror_ids
    from pagerduty as p
    left join mirrors as m on m.incident_id = p.incident_id
    union all
    select *, null, null, cast(null as varchar[]) from github
    union all
    select *, null, null, cast(null as varchar[]) from jira

),

final as (

    select
        incident_id,
        source_system,
        source_incident_id,
        incident_number,
        title,
        service,
        team_key,
        severity,
        status,
        started_at,
        resolved_at,
        case
            when resolved_at >= started_at then round(epoch(resolved_at - started_at) / 3600.0, 4)
        end as restore_hours,
        coalesce(mirror_ids, []) as mirrored_by,
        -- explicit references to the cause, from the incident and its mirrors
        list_sort(list_distinct(list_filter([root_cause_sha, mirror_root_cause_sha], x -> x is not null)))
            as root_cause_shas,
        -- any full commit sha the text names (a weaker reference than a "root cause:" line)
        list_sort(list_distinct(
            regexp_extract_all(reference_text || chr(10) || coalesce(mirror_text, ''), '\b([0-9a-f]{40})\b', 1)
        )) as referenced_commit_shas,
        list_sort(list_distinct(
            regexp_extract_all(
                reference_text || chr(10) || coalesce(mirror_text, ''),
                '{{ metric_var("incident_deployment_reference_pattern") }}',
                1
            )
        )) as referenced_deployment_ids,
        list_sort(list_distinct(
            list_transform(
                regexp_extract_all(
                    reference_text || chr(10) || coalesce(mirror_text, ''),
                    '{{ metric_var("incident_pull_request_reference_pattern") }}',
                    1
                ),
                x -> cast(x as bigint)
            )
        )) as referenced_pull_request_numbers
    from unioned

)

select * from final
