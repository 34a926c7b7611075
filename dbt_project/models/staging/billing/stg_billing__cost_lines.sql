-- One row per cost line (FOCUS-shaped), renamed to snake_case and typed. Money stays in billing currency:
-- rows in different currencies must not be summed together (shared/reference/cost-data.md §4.5).
-- Corrections (charge_class = 'Correction') keep their own billing period and their original charge period.
-- Until the billing asset has run once the raw table does not exist; an empty relation with its columns keeps
-- `dbt build` of the whole project working (the column list mirrors ingestion/billing/schema.py, which a test
-- checks).
{%- set raw_cost_lines = source('billing', 'cost_lines') -%}
{%- set raw_exists = true -%}
{%- if execute -%}
    {%- set raw_exists = adapter.get_relation(
        database=raw_cost_lines.database, schema=raw_cost_lines.schema, identifier=raw_cost_lines.identifier
    ) is not none -%}
{%- endif %}

with

source as (

    {% if raw_exists -%}
    select * from {{ raw_cost_lines }}
    {%- else -%}
    select *
    from (
        select
            cast(null as varchar) as billingaccountid,
            cast(null as varchar) as billingaccountname,
            cast(null as varchar) as billingaccounttype,
            cast(null as varchar) as subaccountid,
            cast(null as varchar) as subaccountname,
            cast(null as varchar) as subaccounttype,
            cast(null as timestamptz) as billingperiodstart,
            cast(null as timestamptz) as billingperiodend,
            cast(null as timestamptz) as chargeperiodstart,
            cast(null as timestamptz) as chargeperiodend,
            cast(null as varchar) as billingcurrency,
            cast(null as decimal(18, 8)) as billedcost,
            cast(null as decimal(18, 8)) as effectivecost,
            cast(null as decimal(18, 8)) as listcost,
            cast(null as decimal(38, 10)) as listunitprice,
            cast(null as decimal(18, 8)) as contractedcost,
            cast(null as decimal(38, 10)) as contractedunitprice,
            cast(null as varchar) as chargecategory,
            cast(null as varchar) as chargeclass,
            cast(null as varchar) as chargedescription,
            cast(null as varchar) as chargefrequency,
            cast(null as varchar) as pricingcategory,
            cast(null as decimal(38, 10)) as pricingquantity,
            cast(null as varchar) as pricingunit,
            cast(null as decimal(38, 10)) as consumedquantity,
            cast(null as varchar) as consumedunit,
            cast(null as varchar) as serviceprovidername,
            cast(null as varchar) as hostprovidername,
            cast(null as varchar) as providername,
            cast(null as varchar) as publishername,
            cast(null as varchar) as invoiceissuername,
            cast(null as varchar) as invoiceid,
            cast(null as varchar) as servicecategory,
            cast(null as varchar) as servicesubcategory,
            cast(null as varchar) as servicename,
            cast(null as varchar) as resourceid,
            cast(null as varchar) as resourcename,
            cast(null as varchar) as resourcetype,
            cast(null as varchar) as regionid,
            cast(null as varchar) as regionname,
            cast(null as varchar) as availabilityzone,
            cast(null as varchar) as skuid,
            cast(null as varchar) as skupriceid,
            cast(null as varchar) as skumeter,
            cast(null as varchar) as commitmentdiscountid,
            cast(null as varchar) as commitmentdiscountname,
            cast(null as varchar) as commitmentdiscountcategory,
            cast(null as varchar) as commitmentdiscounttype,
            cast(null as varchar) as commitmentdiscountstatus,
            cast(null as decimal(38, 10)) as commitmentdiscountquantity,
            cast(null as varchar) as commitmentdiscountunit,
            cast(null as varchar) as pricingcurrency,
            cast(null as decimal(18, 8)) as pricingcurrencyeffectivecost,
            cast(null as json) as tags,
            cast(null as map(varchar, varchar)) as x_tags,
            cast(null as varchar) as x_dataset,
            cast(null as varchar) as x_source_format,
            cast(null as varchar) as x_scope,
            cast(null as date) as x_billing_period,
            cast(null as varchar) as x_delivery_kind,
            cast(null as varchar) as x_line_item_type,
            cast(null as varchar) as x_usage_type,
            cast(null as varchar) as x_operation,
            cast(null as decimal(18, 8)) as x_cost_before_credits,
            cast(null as decimal(18, 8)) as x_credits_amount,
            cast(null as json) as x_credits,
            cast(null as json) as x_extra,
            cast(null as varchar) as x_file_hash,
            cast(null as varchar) as x_file_path,
            cast(null as bigint) as x_source_row,
            cast(null as timestamptz) as x_delivered_at,
            cast(null as timestamptz) as x_loaded_at
    )
    where false
    {%- endif %}

),

renamed as (

    select
        -- keys
        x_file_hash || ':' || cast(x_source_row as varchar) as cost_line_id,
        x_file_hash as file_hash,
        x_source_row as source_row,
        x_file_path as file_path,
        x_dataset as dataset,
        split_part(x_dataset, '/', 1) as drop_provider,
        x_source_format as source_format,
        x_scope as delivery_scope,
        x_delivery_kind as delivery_kind,

        -- accounts
        billingaccountid as billing_account_id,
        billingaccountname as billing_account_name,
        billingaccounttype as billing_account_type,
        subaccountid as sub_account_id,
        subaccountname as sub_account_name,
        subaccounttype as sub_account_type,

        -- providers
        coalesce(serviceprovidername, providername) as service_provider_name,
        hostprovidername as host_provider_name,
        publishername as publisher_name,
        invoiceissuername as invoice_issuer_name,
        invoiceid as invoice_id,

        -- time (UTC)
        billingperiodstart as billing_period_start,
        billingperiodend as billing_period_end,
        x_billing_period as billing_month,
        chargeperiodstart as charge_period_start,
        chargeperiodend as charge_period_end,
        cast(date_trunc('day', timezone('UTC', chargeperiodstart)) as date) as charge_date,

        -- classification
        chargecategory as charge_category,
        chargeclass as charge_class,
        coalesce(chargeclass = 'Correction', false) as is_correction,
        chargedescription as charge_description,
        chargefrequency as charge_frequency,
        pricingcategory as pricing_category,
        servicecategory as service_category,
        servicesubcategory as service_subcategory,
        servicename as service_name,
        x_line_item_type as provider_line_item_type,
        x_usage_type as provider_usage_type,
        x_operation as provider_operation,

        -- resource
        resourceid as resource_id,
        resourcename as resource_name,
        resourcetype as resource_type,
        regionid as region_id,
        regionname as region_name,
        availabilityzone as availability_zone,
        skuid as sku_id,
        skupriceid as sku_price_id,
        skumeter as sku_meter,

        -- commitment discounts
        commitmentdiscountid as commitment_discount_id,
        commitmentdiscountname as commitment_discount_name,
        commitmentdiscountcategory as commitment_discount_category,
        commitmentdiscounttype as commitment_discount_type,
        commitmentdiscountstatus as commitment_discount_status,
        commitmentdiscountquantity as commitment_discount_quantity,
        commitmentdiscountunit as commitment_discount_unit,

        -- money (billing currency)
        billingcurrency as billing_currency,
        billedcost as billed_cost,
        effectivecost as effective_cost,
        listcost as list_cost,
        listunitprice as list_unit_price,
        contractedcost as contracted_cost,
        contractedunitprice as contracted_unit_price,
        x_cost_before_credits as cost_before_credits,
        x_credits_amount as credits_amount,
        pricingcurrency as pricing_currency,
        pricingcurrencyeffectivecost as pricing_currency_effective_cost,

        -- quantities
        pricingquantity as pricing_quantity,
        pricingunit as pricing_unit,
        consumedquantity as consumed_quantity,
        consumedunit as consumed_unit,

        -- tags
        tags as tags_original,
        x_tags as tags,
        x_tags is null as is_untagged,
        x_tags['team'] as tag_team,
        x_tags['cost_center'] as tag_cost_center,
        x_credits as credits,
        x_extra as provider_extra,

        -- lineage
        x_delivered_at as delivered_at,
        x_loaded_at as loaded_at

    from source

)

select * from renamed
