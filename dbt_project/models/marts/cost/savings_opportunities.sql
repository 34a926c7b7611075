-- One row per savings opportunity (kind x target) found in the last `cost_savings_window_days` days of billing
-- data: what it costs per 30-day month, what trimming it would save per month, and the evidence. Money is
-- EffectiveCost in the reporting currency. Each resource counts in one kind only (idle beats schedule beats
-- commit), so savings can be added up. Unallocated spend (of the bill) is listed as a risk with a saving of 0.
-- Flaky CI jobs (kind flaky_ci_minutes): the runner minutes thrown away when an attempt failed on a flaky job and
-- had to run again on the same commit (fct_ci_jobs.runner_minutes_lost, every job that re-ran, at runner rates),
-- per repo, workflow and flaky job, over the same window. People and CI cost lines never enter the other kinds:
-- they are read from the bill (int_cost__lines_categorised) or filtered to it.
{%- set window_days = metric_var('cost_savings_window_days') | int %}
{%- set lookback_days = metric_var('cost_commitment_lookback_days') | int %}
{%- set seat_days = metric_var('cost_seat_activity_days') | int %}
{%- set per_month = '(30.0 / ' ~ window_days ~ ')' %}

with

lines as (

    select * from {{ ref('int_cost__lines_categorised') }}

),

daily as (

    select * from {{ ref('fct_cost_daily') }}

),

utilisation as (

    select * from {{ ref('resource_utilisation') }}

),

seat_activity as (

    select * from {{ ref('saas_seat_activity') }}

),

tool_activity as (

    select * from {{ ref('int_cost__tool_activity_days') }}

),

ci_jobs as (

    select * from {{ ref('fct_ci_jobs') }}

),

teams as (

    select * from {{ ref('teams') }}

),

-- the last day with usage data (invoices dated ahead, e.g. a SaaS month billed in advance, do not move it); without
-- billing data, the last day of CI data
last_day as (

    select coalesce(
        max(charge_date) filter (where charge_category = 'Usage'),
        max(charge_date),
        (select cast(timezone('UTC', max(coalesce(created_at, started_at))) as date) from ci_jobs)
    ) as as_of_date
    from lines

),

as_of as (

    select
        as_of_date,
        cast(as_of_date - interval {{ window_days - 1 }} day as date) as window_start,
        cast(as_of_date - interval {{ lookback_days - 1 }} day as date) as lookback_start
    from last_day

),

flagged_lines as (

    select
        lines.*,
        coalesce(lines.publisher_name, lines.service_provider_name, lines.invoice_issuer_name) as vendor,
        coalesce(regexp_matches(
            concat_ws(' ', lines.resource_id, lines.resource_name, lines.sub_account_id, lines.sub_account_name,
                lines.tags['environment'], lines.tags['env']),
            '{{ metric_var("cost_non_production_pattern") }}'
        ), false) as is_non_production,
        lower(lines.pricing_unit) in ('hour', 'hours', 'hr', 'hrs', 'h') as is_hourly,
        lines.charge_date >= as_of.window_start as is_in_window,
        lines.charge_date >= as_of.lookback_start as is_in_lookback
    from lines
    cross join as_of
    where lines.charge_date <= as_of.as_of_date

),

-- who a target's cost is attributed to: the category (or shared pool) carrying most of it
attribution as (

    select
        resource_id,
        arg_max({'category': business_category, 'pool': shared_pool}, effective_cost) as attributed_to
    from (
        select resource_id, business_category, shared_pool, sum(effective_cost_reporting) as effective_cost
        from flagged_lines
        where is_in_window and resource_id is not null
        group by all
    )
    group by resource_id

),

-- usage of each resource in the window
resource_days as (

    select
        service_provider_name,
        billing_account_id,
        service_name,
        resource_id,
        charge_date,
        bool_or(is_non_production) as is_non_production,
        bool_and(is_hourly) as is_hourly,
        sum(pricing_quantity) as quantity,
        sum(effective_cost_reporting) as effective_cost
    from flagged_lines
    where is_in_window and resource_id is not null and resource_id <> '' and charge_category = 'Usage'
    group by all

),

resources as (

    select
        resource_days.service_provider_name,
        resource_days.billing_account_id,
        resource_days.service_name,
        resource_days.resource_id,
        attribution.attributed_to.category as business_category,
        attribution.attributed_to.pool as shared_pool,
        bool_or(resource_days.is_non_production) as is_non_production,
        count(*) as days_billed,
        case when bool_and(resource_days.is_hourly) then min(resource_days.quantity) end as min_daily_hours,
        sum(resource_days.effective_cost) * {{ per_month }} as monthly_cost
    from resource_days
    left join attribution
        on resource_days.resource_id = attribution.resource_id
    group by all

),

idle_resources as (

    select
        'idle_resource' as kind,
        'resource' as target_type,
        resources.resource_id as target,
        resources.service_provider_name,
        resources.billing_account_id,
        resources.service_name,
        resources.business_category,
        resources.shared_pool,
        resources.monthly_cost,
        resources.monthly_cost as estimated_monthly_saving,
        printf(
            'average CPU utilisation %.1f%% (%s) <= %.1f%% while billing %d of the last %d days; stop or delete it',
            utilisation.avg_cpu_utilisation * 100, coalesce(utilisation.source, 'seeds/resource_utilisation.csv'),
            {{ metric_var('cost_idle_max_cpu_utilisation') }} * 100, resources.days_billed, {{ window_days }}
        ) as evidence
    from resources
    inner join utilisation
        on resources.resource_id = utilisation.resource_id
    where utilisation.avg_cpu_utilisation <= {{ metric_var('cost_idle_max_cpu_utilisation') }}
        and resources.monthly_cost > 0

),

always_on_non_production as (

    select
        'non_production_always_on' as kind,
        'resource' as target_type,
        resource_id as target,
        service_provider_name,
        billing_account_id,
        service_name,
        business_category,
        shared_pool,
        monthly_cost,
        monthly_cost * (1 - {{ metric_var('cost_non_production_scheduled_hours_per_week') }} / 168.0)
            as estimated_monthly_saving,
        printf(
            'non-production resource billed every day of the last %d days%s; running it %d h a week saves the rest',
            {{ window_days }},
            case when min_daily_hours is not null then printf(', at least %.0f h a day', cast(min_daily_hours as double)) else '' end,
            {{ metric_var('cost_non_production_scheduled_hours_per_week') }}
        ) as evidence
    from resources
    where is_non_production
        and days_billed >= {{ window_days }}
        and coalesce(min_daily_hours, 24) >= 23
        and monthly_cost > 0
        and resource_id not in (select target from idle_resources)

),

unused_commitments as (

    select
        'unused_commitment' as kind,
        'commitment' as target_type,
        coalesce(commitment_discount_id, resource_id) as target,
        any_value(service_provider_name) as service_provider_name,
        any_value(billing_account_id) as billing_account_id,
        any_value(service_name) as service_name,
        arg_max({'category': business_category, 'pool': shared_pool}, effective_cost_reporting).category
            as business_category,
        arg_max({'category': business_category, 'pool': shared_pool}, effective_cost_reporting).pool
            as shared_pool,
        sum(effective_cost_reporting) * {{ per_month }} as monthly_cost,
        sum(effective_cost_reporting) * {{ per_month }} as estimated_monthly_saving,
        printf(
            'commitment paid but unused: %.2f %s of EffectiveCost in the last %d days; resize it or move usage onto it',
            cast(sum(effective_cost_reporting) as double), {{ cost_reporting_currency() }}, {{ window_days }}
        ) as evidence
    from flagged_lines
    where is_in_window
        and (commitment_discount_status = 'Unused'
            or (charge_category = 'Purchase' and commitment_discount_id is not null))
    group by coalesce(commitment_discount_id, resource_id)
    having sum(effective_cost_reporting) > 0

),

-- on-demand usage a commitment could cover, per provider, billing account and service
on_demand_days as (

    select
        service_provider_name,
        billing_account_id,
        service_name,
        charge_date,
        bool_or(is_in_window) as is_in_window,
        sum(effective_cost_reporting) as effective_cost
    from flagged_lines
    where is_in_lookback
        and charge_category = 'Usage'
        and pricing_category = 'Standard'
        and commitment_discount_id is null
        and list_contains({{ metric_var('cost_commitment_service_categories') }}, service_category)
        and not is_non_production
        and coalesce(resource_id, '') not in (select target from idle_resources)
    group by all

),

service_attribution as (

    select
        service_provider_name,
        billing_account_id,
        service_name,
        arg_max({'category': business_category, 'pool': shared_pool}, effective_cost) as attributed_to
    from (
        select
            service_provider_name, billing_account_id, service_name, business_category, shared_pool,
            sum(effective_cost_reporting) as effective_cost
        from flagged_lines
        where is_in_window
        group by all
    )
    group by all

),

commitment_coverage as (

    select
        'commitment_coverage' as kind,
        'service' as target_type,
        concat_ws(' / ', on_demand_days.service_provider_name, on_demand_days.billing_account_id,
            on_demand_days.service_name) as target,
        on_demand_days.service_provider_name,
        on_demand_days.billing_account_id,
        on_demand_days.service_name,
        any_value(service_attribution.attributed_to.category) as business_category,
        any_value(service_attribution.attributed_to.pool) as shared_pool,
        sum(on_demand_days.effective_cost) filter (where on_demand_days.is_in_window) * {{ per_month }}
            as monthly_cost,
        min(on_demand_days.effective_cost) * 30 * {{ metric_var('cost_commitment_discount') }}
            as estimated_monthly_saving,
        printf(
            'on-demand every day of the last %d days, never below %.2f %s a day: committing that floor at a %.0f%% discount',
            {{ lookback_days }}, cast(min(on_demand_days.effective_cost) as double), {{ cost_reporting_currency() }},
            {{ metric_var('cost_commitment_discount') }} * 100
        ) as evidence
    from on_demand_days
    left join service_attribution
        on on_demand_days.service_provider_name = service_attribution.service_provider_name
        and on_demand_days.billing_account_id = service_attribution.billing_account_id
        and on_demand_days.service_name = service_attribution.service_name
    group by on_demand_days.service_provider_name, on_demand_days.billing_account_id, on_demand_days.service_name
    having count(*) >= {{ lookback_days }} and min(on_demand_days.effective_cost) > 0

),

seat_invoices as (

    select
        flagged_lines.vendor,
        seat_activity.activity_source,
        flagged_lines.charge_month,
        any_value(flagged_lines.service_provider_name) as service_provider_name,
        any_value(flagged_lines.billing_account_id) as billing_account_id,
        string_agg(distinct flagged_lines.service_name, ', ') as service_name,
        arg_max(
            {'category': flagged_lines.business_category, 'pool': flagged_lines.shared_pool},
            flagged_lines.effective_cost_reporting
        ) as attributed_to,
        sum(flagged_lines.pricing_quantity) as seats,
        sum(flagged_lines.effective_cost_reporting) as effective_cost,
        max(flagged_lines.vendor_active_seats) as vendor_active_seats
    from flagged_lines
    inner join seat_activity
        on lower(flagged_lines.vendor) = lower(trim(seat_activity.vendor))
    where lower(flagged_lines.pricing_unit) like 'seat%'
    group by all

),

latest_seat_invoices as (

    select *
    from seat_invoices
    qualify row_number() over (partition by vendor order by charge_month desc) = 1

),

active_people as (

    select
        count(distinct actor_key) filter (where tool = 'github') as github,
        count(distinct actor_key) filter (where tool = 'jira') as jira,
        count(distinct actor_key) filter (where tool in ('github', 'jira')) as github_or_jira
    from tool_activity
    cross join as_of
    where tool_activity.activity_date > as_of.as_of_date - interval {{ seat_days }} day
        and tool_activity.activity_date <= as_of.as_of_date

),

seat_use as (

    select
        latest_seat_invoices.*,
        case latest_seat_invoices.activity_source
            when 'invoice' then latest_seat_invoices.vendor_active_seats
            when 'github' then active_people.github
            when 'jira' then active_people.jira
            when 'github_or_jira' then active_people.github_or_jira
        end as active_seats
    from latest_seat_invoices
    cross join active_people

),

unused_seats as (

    select
        'unused_seats' as kind,
        'saas_vendor' as target_type,
        vendor as target,
        service_provider_name,
        billing_account_id,
        service_name,
        attributed_to.category as business_category,
        attributed_to.pool as shared_pool,
        effective_cost as monthly_cost,
        (seats - active_seats) * effective_cost / seats as estimated_monthly_saving,
        printf(
            '%d seats on the %s invoice, %d in use (%s); %d unused at %.2f %s each',
            cast(seats as integer), strftime(charge_month, '%Y-%m'), active_seats,
            case activity_source
                when 'invoice' then 'active seats reported by the vendor'
                else 'people active in ' || replace(activity_source, '_or_', ' or ') || ' in the last {{ seat_days }} days'
            end,
            cast(seats - active_seats as integer), cast(effective_cost / seats as double),
            {{ cost_reporting_currency() }}
        ) as evidence
    from seat_use
    where seats > 0 and active_seats is not null and seats > active_seats

),

-- CI run attempts of the window (dated by their first job's queue time, else start) with what they lost
ci_attempts as (

    select
        ci_jobs.ci_attempt_key,
        ci_jobs.provider,
        ci_jobs.repo,
        ci_jobs.workflow_name,
        ci_jobs.team_key,
        {{ utc_period_start('month', 'min(coalesce(ci_jobs.created_at, ci_jobs.started_at))') }} as month_start,
        'USD' as ci_cost_currency,
        {{ sum_exact('ci_jobs.ci_cost_usd') }} as ci_cost_usd,
        {{ sum_exact('ci_jobs.runner_minutes_lost') }} as runner_minutes_lost,
        {{ sum_exact('ci_jobs.ci_cost_lost_usd') }} as ci_cost_lost_usd,
        list(distinct ci_jobs.job_name order by ci_jobs.job_name) filter (where ci_jobs.is_flaky) as flaky_jobs
    from ci_jobs
    cross join as_of
    group by ci_jobs.ci_attempt_key, ci_jobs.provider, ci_jobs.repo, ci_jobs.workflow_name, ci_jobs.team_key,
        as_of.window_start, as_of.as_of_date
    having cast(timezone('UTC', min(coalesce(ci_jobs.created_at, ci_jobs.started_at))) as date)
        between as_of.window_start and as_of.as_of_date

),

ci_attempts_fx as (

    {{ cost_with_fx_rate('ci_attempts', 'ci_cost_currency', 'month_start', "'CI attempt ' || ci_attempts.ci_attempt_key") }}

),

workflow_costs as (

    select
        provider,
        repo,
        workflow_name,
        {{ sum_exact('ci_cost_usd * fx_rate') }} as ci_cost_reporting
    from ci_attempts_fx
    group by all

),

-- a flaky attempt's loss goes to the job that flaked (shared evenly when several did): fixing that job saves
-- every minute the re-run spent, the jobs that only ran again with it included
flaky_losses as (

    select
        ci_attempts_fx.ci_attempt_key,
        ci_attempts_fx.provider,
        ci_attempts_fx.repo,
        ci_attempts_fx.workflow_name,
        ci_attempts_fx.team_key,
        flaky.job_name,
        ci_attempts_fx.runner_minutes_lost / coalesce(nullif(len(ci_attempts_fx.flaky_jobs), 0), 1) as runner_minutes_lost,
        ci_attempts_fx.ci_cost_lost_usd * ci_attempts_fx.fx_rate
            / coalesce(nullif(len(ci_attempts_fx.flaky_jobs), 0), 1) as ci_cost_lost_reporting
    from ci_attempts_fx,
        unnest(
            case
                when len(ci_attempts_fx.flaky_jobs) > 0 then ci_attempts_fx.flaky_jobs
                else ['(no single flaky job)']
            end
        ) as flaky(job_name)
    where ci_attempts_fx.ci_cost_lost_usd > 0

),

flaky_ci_minutes as (

    select
        'flaky_ci_minutes' as kind,
        'ci_job' as target_type,
        concat_ws(' / ', flaky_losses.repo, flaky_losses.workflow_name, flaky_losses.job_name) as target,
        flaky_losses.provider as service_provider_name,
        cast(null as varchar) as billing_account_id,
        flaky_losses.workflow_name as service_name,
        coalesce(any_value(teams.business_category), '{{ metric_var("cost_unallocated_category") }}')
            as business_category,
        cast(null as varchar) as shared_pool,
        any_value(workflow_costs.ci_cost_reporting) * {{ per_month }} as monthly_cost,
        {{ sum_exact('flaky_losses.ci_cost_lost_reporting') }} * {{ per_month }} as estimated_monthly_saving,
        printf(
            '%s of workflow %s in %s failed without a code change and ran again %d time(s) in the last %d days: %.0f runner minutes lost (%.2f %s); fix or quarantine the flaky test',
            flaky_losses.job_name, flaky_losses.workflow_name, flaky_losses.repo,
            count(distinct flaky_losses.ci_attempt_key), {{ window_days }},
            {{ sum_exact('flaky_losses.runner_minutes_lost') }},
            {{ sum_exact('flaky_losses.ci_cost_lost_reporting') }}, {{ cost_reporting_currency() }}
        ) as evidence
    from flaky_losses
    left join teams
        on flaky_losses.team_key = teams.team_key
    left join workflow_costs
        on flaky_losses.provider = workflow_costs.provider
        and flaky_losses.repo = workflow_costs.repo
        and flaky_losses.workflow_name = workflow_costs.workflow_name
    group by flaky_losses.provider, flaky_losses.repo, flaky_losses.workflow_name, flaky_losses.job_name

),

unallocated_spend as (

    select
        'unallocated_spend' as kind,
        'cost_group' as target_type,
        concat_ws(' / ', service_provider_name, billing_account_id, sub_account_id, service_name) as target,
        service_provider_name,
        billing_account_id,
        service_name,
        '{{ metric_var("cost_unallocated_category") }}' as business_category,
        cast(null as varchar) as shared_pool,
        sum(effective_cost_reporting) * {{ per_month }} as monthly_cost,
        0 as estimated_monthly_saving,
        printf(
            'no category rule attributes %.2f %s of the last %d days (%d cost lines): a showback risk, not a saving; tag it or add a rule',
            cast(sum(effective_cost_reporting) as double), {{ cost_reporting_currency() }}, {{ window_days }},
            cast(sum(source_line_count) as integer)
        ) as evidence
    from daily
    cross join as_of
    where daily.cost_source = 'billing'
        and daily.allocation_method = 'unallocated'
        and daily.charge_date >= as_of.window_start
        and daily.charge_date <= as_of.as_of_date
    group by all
    having sum(effective_cost_reporting) <> 0

),

opportunities as (

    select * from idle_resources
    union all by name
    select * from always_on_non_production
    union all by name
    select * from unused_commitments
    union all by name
    select * from commitment_coverage
    union all by name
    select * from unused_seats
    union all by name
    select * from unallocated_spend
    union all by name
    select * from flaky_ci_minutes

),

final as (

    select
        opportunities.kind || ':' || opportunities.target as opportunity_id,
        opportunities.kind,
        opportunities.target_type,
        opportunities.target,
        opportunities.service_provider_name,
        opportunities.billing_account_id,
        opportunities.service_name,
        opportunities.business_category,
        opportunities.shared_pool,
        cast(opportunities.monthly_cost as decimal(38, 2)) as monthly_cost,
        cast(opportunities.estimated_monthly_saving as decimal(38, 2)) as estimated_monthly_saving,
        opportunities.estimated_monthly_saving / nullif(opportunities.monthly_cost, 0) as saving_share,
        opportunities.kind = 'unallocated_spend' as is_risk_only,
        opportunities.evidence,
        row_number() over (
            order by opportunities.estimated_monthly_saving desc, opportunities.monthly_cost desc,
                opportunities.kind, opportunities.target
        ) as saving_rank,
        as_of.as_of_date,
        as_of.window_start,
        {{ cost_reporting_currency() }} as reporting_currency
    from opportunities
    cross join as_of

)

select * from final
