-- One row per month: how much of the month's EffectiveCost the category rules attribute (directly or through a
-- shared pool) and how much is left unallocated, over all spend and over cloud usage alone (the FinOps
-- "spend allocated by metadata" KPI, the figure tagging policies are judged by). Reporting currency. The bill only
-- (cost_source billing): people and CI costs are attributed by effort and team, not by the category rules.
with

daily as (

    select * from {{ ref('fct_cost_daily') }}
    where cost_source = 'billing'

),

classified as (

    select
        *,
        coalesce(
            cost_source = 'billing' and source_format <> 'saas_invoice' and drop_provider <> 'saas'
                and charge_category = 'Usage' and not is_correction,
            false
        ) as is_cloud_usage
    from daily

),

by_month as (

    select
        charge_month as month_start,
        sum(effective_cost_reporting) as total_effective_cost,
        coalesce(sum(effective_cost_reporting) filter (where allocation_method = 'direct'), 0)
            as direct_effective_cost,
        coalesce(sum(effective_cost_reporting) filter (where allocation_method = 'shared'), 0)
            as shared_effective_cost,
        coalesce(sum(effective_cost_reporting) filter (where allocation_method = 'unallocated'), 0)
            as unallocated_effective_cost,
        coalesce(sum(effective_cost_reporting) filter (where is_cloud_usage), 0) as cloud_usage_effective_cost,
        coalesce(
            sum(effective_cost_reporting) filter (where is_cloud_usage and allocation_method = 'unallocated'), 0
        ) as cloud_usage_unallocated_effective_cost,
        coalesce(sum(effective_cost_reporting) filter (where is_cloud_usage and is_untagged), 0)
            as cloud_usage_untagged_effective_cost
    from classified
    group by charge_month

),

largest_item as (

    select
        charge_month as month_start,
        arg_max(
            concat_ws(' ', service_provider_name, billing_account_id, service_name, resource_id),
            effective_cost_reporting
        ) as largest_unallocated_item,
        max(effective_cost_reporting) as largest_unallocated_item_cost
    from (
        select
            charge_month, service_provider_name, billing_account_id, service_name, resource_id,
            sum(effective_cost_reporting) as effective_cost_reporting
        from daily
        where allocation_method = 'unallocated'
        group by all
    )
    group by charge_month

),

final as (

    select
        by_month.month_start,
        by_month.total_effective_cost,
        by_month.direct_effective_cost,
        by_month.shared_effective_cost,
        by_month.unallocated_effective_cost,
        (by_month.direct_effective_cost + by_month.shared_effective_cost)
            / nullif(by_month.total_effective_cost, 0) as allocated_share,
        by_month.unallocated_effective_cost / nullif(by_month.total_effective_cost, 0) as unallocated_share,
        by_month.cloud_usage_effective_cost,
        by_month.cloud_usage_unallocated_effective_cost,
        by_month.cloud_usage_unallocated_effective_cost
            / nullif(by_month.cloud_usage_effective_cost, 0) as cloud_usage_unallocated_share,
        by_month.cloud_usage_untagged_effective_cost,
        by_month.cloud_usage_untagged_effective_cost
            / nullif(by_month.cloud_usage_effective_cost, 0) as cloud_usage_untagged_share,
        largest_item.largest_unallocated_item,
        largest_item.largest_unallocated_item_cost,
        {{ cost_reporting_currency() }} as reporting_currency
    from by_month
    left join largest_item
        on by_month.month_start = largest_item.month_start

)

select * from final
