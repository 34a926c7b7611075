-- One row per charge day and cost line key: FOCUS-shaped costs with their business category and allocation
-- method, in billing and reporting currency. Lines sharing every key column on a day are summed.
{%- set series_columns = [
    'cost_source', 'drop_provider', 'source_format', 'billing_account_id', 'sub_account_id',
    'service_provider_name', 'invoice_issuer_name', 'service_category', 'service_name', 'resource_id',
    'region_id', 'sku_id', 'provider_line_item_type', 'charge_category', 'charge_class', 'charge_frequency',
    'pricing_category', 'commitment_discount_id', 'commitment_discount_status', 'pricing_unit', 'consumed_unit',
    'billing_currency', 'tags', 'business_category', 'allocation_method', 'category_rule_id', 'shared_pool',
    'split_method',
] %}
{%- set money = [
    'billed_cost', 'effective_cost', 'list_cost', 'contracted_cost',
    'billed_cost_reporting', 'effective_cost_reporting', 'list_cost_reporting', 'contracted_cost_reporting',
] %}

with

allocated as (

    select * from {{ ref('int_cost__lines_allocated') }}

),

keyed as (

    select
        *,
        {{ cost_hash(series_columns) }} as cost_line_series_key
    from allocated

),

final as (

    select
        -- grain
        charge_date,
        {{ cost_hash(['cost_line_series_key', 'billing_month', 'invoice_id']) }} as cost_line_key,
        cost_line_series_key,
        charge_month,
        billing_month,
        invoice_id,

        -- where the cost comes from
        cost_source,
        drop_provider,
        source_format,
        billing_account_id,
        max(billing_account_name) as billing_account_name,
        sub_account_id,
        max(sub_account_name) as sub_account_name,
        service_provider_name,
        invoice_issuer_name,

        -- what was charged
        service_category,
        service_name,
        resource_id,
        max(resource_name) as resource_name,
        region_id,
        sku_id,
        provider_line_item_type,
        charge_category,
        charge_class,
        coalesce(charge_class = 'Correction', false) as is_correction,
        charge_frequency,
        pricing_category,
        commitment_discount_id,
        commitment_discount_status,
        tags,
        tags is null as is_untagged,

        -- attribution
        business_category,
        allocation_method,
        category_rule_id,
        shared_pool,
        split_method,
        max(split_share) as split_share,

        -- quantities
        sum(pricing_quantity) as pricing_quantity,
        pricing_unit,
        sum(consumed_quantity) as consumed_quantity,
        consumed_unit,
        count(*) filter (where pricing_quantity is null) = 0 as has_pricing_quantity,

        -- money
        billing_currency,
        {%- for column in money if not column.endswith('_reporting') %}
        sum({{ column }}) as {{ column }},
        {%- endfor %}
        reporting_currency,
        max(fx_rate) as fx_rate,
        max(fx_rate_month) as fx_rate_month,
        {%- for column in money if column.endswith('_reporting') %}
        sum({{ column }}) as {{ column }},
        {%- endfor %}

        count(*) as source_line_count

    from keyed
    group by
        charge_date, cost_line_series_key, charge_month, billing_month, invoice_id,
        {{ series_columns | join(', ') }},
        reporting_currency

)

select * from final
