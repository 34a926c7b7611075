-- One row per unit (what a cost is divided by), business category and month: the volumes of unit_costs_monthly.
-- Today the business KPIs of seeds/business_volumes.csv. Union point for the later unit types, same columns:
--   unit_type 'deployment': production deployments per month and category (fct_deployments -> services ->
--   teams.business_category), unit 'deployment'; unit_type 'engineer': engineers per month and category
--   (people seed / active engineers), unit 'engineer'.
with

business_volumes as (

    select * from {{ ref('business_volumes') }}

),

final as (

    select
        'business_kpi' as unit_type,
        kpi as unit_name,
        unit,
        business_category,
        month as month_start,
        volume
    from business_volumes

)

select * from final
