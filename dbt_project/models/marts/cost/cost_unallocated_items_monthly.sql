-- The largest unallocated cost items of each month (top `cost_coverage_top_items`): what to tag, or which rule
-- to add, to raise coverage. An item is a provider, account, sub-account, service, resource and charge category.
-- The bill only (cost_source billing), like cost_coverage_monthly.
with

daily as (

    select * from {{ ref('fct_cost_daily') }}
    where cost_source = 'billing'

),

items as (

    select
        charge_month as month_start,
        service_provider_name,
        billing_account_id,
        sub_account_id,
        service_name,
        resource_id,
        charge_category,
        shared_pool,
        sum(effective_cost_reporting) as effective_cost,
        count(distinct charge_date) as days_with_cost
    from daily
    where allocation_method = 'unallocated'
    group by all

),

ranked as (

    select
        *,
        row_number() over (
            partition by month_start
            order by effective_cost desc, service_provider_name, billing_account_id, sub_account_id,
                service_name, resource_id, charge_category
        ) as item_rank,
        effective_cost / nullif(sum(effective_cost) over (partition by month_start), 0) as share_of_unallocated
    from items

),

final as (

    select
        month_start,
        item_rank,
        {{ cost_hash(['service_provider_name', 'billing_account_id', 'sub_account_id', 'service_name',
                      'resource_id', 'charge_category', 'shared_pool']) }} as item_key,
        service_provider_name,
        billing_account_id,
        sub_account_id,
        service_name,
        resource_id,
        charge_category,
        shared_pool,
        effective_cost,
        share_of_unallocated,
        days_with_cost,
        {{ cost_reporting_currency() }} as reporting_currency
    from ranked
    where item_rank <= {{ metric_var('cost_coverage_top_items') }}

)

select * from final
