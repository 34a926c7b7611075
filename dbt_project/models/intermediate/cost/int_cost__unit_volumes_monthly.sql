-- One row per unit (what a cost is divided by), business category (or 'All') and month: the volumes of
-- unit_costs_monthly.
--   business_kpi  seeds/business_volumes.csv, one category each (unit_costs_monthly also divides them by all cost)
--   deployment    successful production deployments (fct_deployments, as DORA deployment frequency counts them)
--                 by finish month, per category (service -> team -> teams.business_category) and for the whole
--                 organisation ('All'). Only months the deployment history covers completely: the month a source's
--                 history starts in is partial (the first sync reaches back a fixed number of days) and would
--                 inflate that month's cost per deployment.
--   engineer      people of the people seed on the roster during the month (validity overlapping it), per their
--                 team's category and for the whole organisation ('All'); over every month of cost data.
{%- set all_scope = 'All' %}

with

business_volumes as (

    select * from {{ ref('business_volumes') }}

),

deployments as (

    select * from {{ ref('fct_deployments') }}

),

people as (

    select * from {{ ref('people') }}

),

teams as (

    select * from {{ ref('teams') }}

),

cost_months as (

    {{ cost_data_months() }}

),

business_kpis as (

    select
        'business_kpi' as unit_type,
        kpi as unit_name,
        unit,
        business_category,
        month as month_start,
        volume
    from business_volumes

),

production_deployments as (

    select
        deployments.deployment_id,
        deployments.source_system,
        {{ utc_period_start('month', 'deployments.finished_at') }} as month_start,
        teams.business_category
    from deployments
    left join teams
        on deployments.team_key = teams.team_key
    where deployments.is_production
        and deployments.result = 'success'
        and deployments.finished_at is not null

),

-- the first month every deployment source's history covers completely
deployment_history as (

    select cast(max(first_month) + interval 1 month as date) as first_complete_month
    from (
        select source_system, min(month_start) as first_month
        from production_deployments
        group by source_system
    )

),

covered_deployments as (

    select production_deployments.*
    from production_deployments
    cross join deployment_history
    where production_deployments.month_start >= deployment_history.first_complete_month

),

deployment_volumes as (

    select
        'deployment' as unit_type,
        'production_deployments' as unit_name,
        'deployment' as unit,
        business_category,
        month_start,
        count(*) as volume
    from covered_deployments
    where business_category is not null
    group by business_category, month_start

    union all

    select
        'deployment',
        'production_deployments',
        'deployment',
        '{{ all_scope }}',
        month_start,
        count(*)
    from covered_deployments
    group by month_start

),

roster as (

    select distinct
        people.person_key,
        teams.business_category,
        cost_months.month_start
    from people
    inner join cost_months
        on people.valid_from < cost_months.month_start + interval 1 month
        and (people.valid_to is null or people.valid_to > cost_months.month_start)
    left join teams
        on people.team_key = teams.team_key

),

engineer_volumes as (

    select
        'engineer' as unit_type,
        'engineers' as unit_name,
        'engineer' as unit,
        business_category,
        month_start,
        count(distinct person_key) as volume
    from roster
    where business_category is not null
    group by business_category, month_start

    union all

    select
        'engineer',
        'engineers',
        'engineer',
        '{{ all_scope }}',
        month_start,
        count(distinct person_key)
    from roster
    group by month_start

),

final as (

    select unit_type, unit_name, unit, business_category, month_start, cast(volume as double) as volume
    from business_kpis
    union all
    select unit_type, unit_name, unit, business_category, month_start, cast(volume as double)
    from deployment_volumes
    union all
    select unit_type, unit_name, unit, business_category, month_start, cast(volume as double)
    from engineer_volumes

)

select * from final
