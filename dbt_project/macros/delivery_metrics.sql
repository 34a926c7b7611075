{#- The DORA and PR-cycle metrics of metrics_delivery_weekly / metrics_delivery_monthly (grain: scope_type x
    scope_key x period_start, `grain` = 'week' or 'month'). One definition, two period lengths; the definitions
    are written in the models' YAML. Periods and days are UTC whatever the session time zone. Percentiles and
    rates are rounded to 4 decimals (hours: a third of a second). -#}
{% macro delivery_metrics(grain) %}
{%- set period_days = "7.0" if grain == "week" else "(date_diff('day', s.period_start, s.period_start + interval 1 month))" -%}
with

deployments as (

    select * from {{ ref('fct_deployments') }}
    where is_production and result in ('success', 'failure') and finished_at is not null

),

pull_requests as (

    select * from {{ ref('fct_pull_requests') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}
    where service is not null

),

services as (

    select * from {{ ref('services') }}

),

teams as (

    select * from {{ ref('teams') }}

),

benchmarks as (

    select * from {{ ref('dora_benchmarks') }}
    where edition_year = {{ metric_var('dora_benchmark_edition') }}

),

scope_types as (

    select * from (values ('org'), ('team'), ('service')) as t (scope_type)

),

-- every fact once per scope it counts in: the whole org, its team, its service
scoped_deployments as (

    select
        st.scope_type,
        case st.scope_type when 'org' then 'org' when 'team' then d.team_key else d.service end as scope_key,
        cast(date_trunc('{{ grain }}', d.finished_at at time zone 'UTC') as date) as period_start,
        d.*
    from deployments as d
    cross join scope_types as st

),

merged_pull_requests as (

    select
        st.scope_type,
        case st.scope_type when 'org' then 'org' when 'team' then p.team_key else p.service end as scope_key,
        cast(date_trunc('{{ grain }}', p.merged_at at time zone 'UTC') as date) as period_start,
        p.*
    from pull_requests as p
    cross join scope_types as st
    where p.merged_at is not null and not p.is_author_bot

),

deployed_pull_requests as (

    select
        st.scope_type,
        case st.scope_type when 'org' then 'org' when 'team' then p.team_key else p.service end as scope_key,
        cast(date_trunc('{{ grain }}', p.deployed_at at time zone 'UTC') as date) as period_start,
        p.*
    from pull_requests as p
    cross join scope_types as st
    where p.deployed_at is not null

),

scoped_incidents as (

    select
        st.scope_type,
        case st.scope_type when 'org' then 'org' when 'team' then i.team_key else i.service end as scope_key,
        cast(date_trunc('{{ grain }}', i.started_at at time zone 'UTC') as date) as period_start,
        i.*
    from incidents as i
    cross join scope_types as st

),

deployment_metrics as (

    select
        scope_type,
        scope_key,
        period_start,
        count(*) as production_deployments_count,
        count(*) filter (where result = 'success') as deployments_count,
        count(distinct cast(finished_at at time zone 'UTC' as date)) filter (where result = 'success') as deploy_days,
        count(*) filter (where result = 'failure') as failed_deployments_count,
        count(*) filter (where caused_incident) as incident_causing_deployments_count,
        count(*) filter (where is_change_failure) as change_failures_count,
        count(*) filter (where is_rework) as rework_deployments_count,
        quantile_cont(recovery_hours, 0.5) filter (where is_change_failure) as failed_deployment_recovery_hours_p50,
        count(recovery_hours) filter (where is_change_failure) as recovery_sample_size
    from scoped_deployments
    where scope_key is not null
    group by scope_type, scope_key, period_start

),

merge_metrics as (

    select
        scope_type,
        scope_key,
        period_start,
        count(*) as merged_pull_requests_count,
        quantile_cont(coding_hours, 0.5) as coding_hours_p50,
        quantile_cont(coding_hours, 0.85) as coding_hours_p85,
        count(coding_hours) as coding_sample_size,
        quantile_cont(pickup_hours, 0.5) as pickup_hours_p50,
        quantile_cont(pickup_hours, 0.85) as pickup_hours_p85,
        count(pickup_hours) as pickup_sample_size,
        quantile_cont(review_hours, 0.5) as review_hours_p50,
        quantile_cont(review_hours, 0.85) as review_hours_p85,
        count(review_hours) as review_sample_size
    from merged_pull_requests
    where scope_key is not null
    group by scope_type, scope_key, period_start

),

deploy_metrics as (

    select
        scope_type,
        scope_key,
        period_start,
        count(*) as deployed_pull_requests_count,
        quantile_cont(lead_time_for_changes_hours, 0.5) as lead_time_hours_p50,
        quantile_cont(lead_time_for_changes_hours, 0.85) as lead_time_hours_p85,
        count(lead_time_for_changes_hours) as lead_time_sample_size,
        quantile_cont(deploy_hours, 0.5) filter (where not is_author_bot) as deploy_hours_p50,
        quantile_cont(deploy_hours, 0.85) filter (where not is_author_bot) as deploy_hours_p85,
        count(deploy_hours) filter (where not is_author_bot) as deploy_sample_size
    from deployed_pull_requests
    where scope_key is not null
    group by scope_type, scope_key, period_start

),

incident_metrics as (

    select
        scope_type,
        scope_key,
        period_start,
        count(*) as incidents_count,
        quantile_cont(restore_hours, 0.5) as time_to_restore_hours_p50,
        count(restore_hours) as restore_sample_size
    from scoped_incidents
    where scope_key is not null
    group by scope_type, scope_key, period_start

),

-- every scope in every period between the first and the last activity, so a quiet week reads 0, not missing
periods as (

    select cast(range as date) as period_start
    from range(
        (
            select date_trunc('{{ grain }}', min(period_start))
            from (
                select period_start from deployment_metrics
                union all select period_start from merge_metrics
                union all select period_start from deploy_metrics
                union all select period_start from incident_metrics
            )
        ),
        (
            select date_trunc('{{ grain }}', max(period_start)) + interval 1 {{ grain }}
            from (
                select period_start from deployment_metrics
                union all select period_start from merge_metrics
                union all select period_start from deploy_metrics
                union all select period_start from incident_metrics
            )
        ),
        interval 1 {{ grain }}
    )

),

scopes as (

    select 'org' as scope_type, 'org' as scope_key, cast(null as varchar) as team_key
    union
    select 'team', team_key, team_key from teams
    union
    select 'service', service, team_key from services
    union
    select distinct scope_type, scope_key, case when scope_type = 'team' then scope_key end
    from (
        select scope_type, scope_key from deployment_metrics
        union all select scope_type, scope_key from merge_metrics
        union all select scope_type, scope_key from deploy_metrics
        union all select scope_type, scope_key from incident_metrics
    )
    where scope_type <> 'service' or scope_key not in (select service from services)

),

spine as (

    select s.scope_type, s.scope_key, s.team_key, p.period_start
    from scopes as s
    cross join periods as p

),

combined as (

    select
        s.scope_type,
        s.scope_key,
        s.team_key,
        s.period_start,
        coalesce(d.deployments_count, 0) as deployments_count,
        coalesce(d.deploy_days, 0) as deploy_days,
        round(coalesce(d.deployments_count, 0) * 7.0 / {{ period_days }}, 4) as deployments_per_week,
        coalesce(d.production_deployments_count, 0) as production_deployments_count,
        coalesce(d.failed_deployments_count, 0) as failed_deployments_count,
        coalesce(d.incident_causing_deployments_count, 0) as incident_causing_deployments_count,
        coalesce(d.change_failures_count, 0) as change_failures_count,
        round(d.change_failures_count / nullif(d.production_deployments_count, 0), 4) as change_failure_rate,
        round(d.failed_deployment_recovery_hours_p50, 4) as failed_deployment_recovery_hours_p50,
        coalesce(d.recovery_sample_size, 0) as recovery_sample_size,
        coalesce(d.rework_deployments_count, 0) as rework_deployments_count,
        round(d.rework_deployments_count / nullif(d.production_deployments_count, 0), 4) as rework_rate,
        round(dp.lead_time_hours_p50, 4) as lead_time_hours_p50,
        round(dp.lead_time_hours_p85, 4) as lead_time_hours_p85,
        coalesce(dp.lead_time_sample_size, 0) as lead_time_sample_size,
        coalesce(dp.deployed_pull_requests_count, 0) as deployed_pull_requests_count,
        coalesce(i.incidents_count, 0) as incidents_count,
        round(i.time_to_restore_hours_p50, 4) as time_to_restore_hours_p50,
        coalesce(i.restore_sample_size, 0) as restore_sample_size,
        coalesce(m.merged_pull_requests_count, 0) as merged_pull_requests_count,
        round(m.coding_hours_p50, 4) as coding_hours_p50,
        round(m.coding_hours_p85, 4) as coding_hours_p85,
        coalesce(m.coding_sample_size, 0) as coding_sample_size,
        round(m.pickup_hours_p50, 4) as pickup_hours_p50,
        round(m.pickup_hours_p85, 4) as pickup_hours_p85,
        coalesce(m.pickup_sample_size, 0) as pickup_sample_size,
        round(m.review_hours_p50, 4) as review_hours_p50,
        round(m.review_hours_p85, 4) as review_hours_p85,
        coalesce(m.review_sample_size, 0) as review_sample_size,
        round(dp.deploy_hours_p50, 4) as deploy_hours_p50,
        round(dp.deploy_hours_p85, 4) as deploy_hours_p85,
        coalesce(dp.deploy_sample_size, 0) as deploy_sample_size
    from spine as s
    left join deployment_metrics as d
        on d.scope_type = s.scope_type and d.scope_key = s.scope_key and d.period_start = s.period_start
    left join merge_metrics as m
        on m.scope_type = s.scope_type and m.scope_key = s.scope_key and m.period_start = s.period_start
    left join deploy_metrics as dp
        on dp.scope_type = s.scope_type and dp.scope_key = s.scope_key and dp.period_start = s.period_start
    left join incident_metrics as i
        on i.scope_type = s.scope_type and i.scope_key = s.scope_key and i.period_start = s.period_start

),

-- the best-ranked tier whose band holds the value (see seed dora_benchmarks)
tiered as (

    select
        c.*,
        {{ metric_var('dora_benchmark_edition') }} as dora_edition,
        (
            select b.tier from benchmarks as b
            where b.metric = 'deployment_frequency'
                and c.deployments_per_week >= coalesce(b.lower_bound, '-infinity'::double)
                and c.deployments_per_week < coalesce(b.upper_bound, 'infinity'::double)
            order by b.tier_rank limit 1
        ) as deployment_frequency_tier,
        (
            select b.tier from benchmarks as b
            where b.metric = 'change_lead_time'
                and c.lead_time_hours_p50 >= coalesce(b.lower_bound, '-infinity'::double)
                and c.lead_time_hours_p50 < coalesce(b.upper_bound, 'infinity'::double)
            order by b.tier_rank limit 1
        ) as lead_time_tier,
        (
            select b.tier from benchmarks as b
            where b.metric = 'change_failure_rate'
                and c.change_failure_rate >= coalesce(b.lower_bound, '-infinity'::double)
                and c.change_failure_rate < coalesce(b.upper_bound, 'infinity'::double)
            order by b.tier_rank limit 1
        ) as change_failure_rate_tier,
        (
            select b.tier from benchmarks as b
            where b.metric = 'failed_deployment_recovery_time'
                and c.failed_deployment_recovery_hours_p50 >= coalesce(b.lower_bound, '-infinity'::double)
                and c.failed_deployment_recovery_hours_p50 < coalesce(b.upper_bound, 'infinity'::double)
            order by b.tier_rank limit 1
        ) as recovery_time_tier
    from combined as c

),

final as (

    select * from tiered

)

select * from final
{% endmacro %}
