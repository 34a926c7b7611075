-- One row per billing cost line: the first matching category rule (direct category, shared pool or
-- unallocated) and its money in the reporting currency. A line in a currency without an FX rate fails the build
-- (DuckDB error()): summing two currencies raw is never an option (shared/reference/cost-data.md §4.5).
with

cost_lines as (

    select * from {{ ref('stg_billing__cost_lines') }}

),

rules as (

    select * from {{ ref('cost_category_rules') }}

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

lines as (

    select
        *,
        {{ cost_normalised_tags('tags_original') }} as rule_tags,
        cast(date_trunc('month', coalesce(charge_date, cast(timezone('UTC', billing_period_start) as date))) as date)
            as charge_month_start,
        lower(coalesce(publisher_name, service_provider_name, invoice_issuer_name)) as vendor_lower
    from cost_lines

),

normalised_rules as (

    select
        *,
        {{ cost_tag_key('tag_key') }} as tag_key_normalised
    from rules

),

-- every rule a line satisfies; an empty rule cell matches anything
rule_matches as (

    select
        lines.cost_line_id,
        normalised_rules.rule_order,
        normalised_rules.rule_id,
        normalised_rules.business_category,
        normalised_rules.allocation_method,
        normalised_rules.shared_pool
    from lines
    inner join normalised_rules
        on (normalised_rules.provider is null
            or lower(lines.service_provider_name) = lower(trim(normalised_rules.provider)))
        and (normalised_rules.billing_account_id is null
            or lines.billing_account_id = trim(normalised_rules.billing_account_id))
        and (normalised_rules.sub_account_id is null
            or lines.sub_account_id = trim(normalised_rules.sub_account_id))
        and (normalised_rules.service_category is null
            or lower(lines.service_category) = lower(trim(normalised_rules.service_category)))
        and (normalised_rules.service_name is null
            or lower(lines.service_name) = lower(trim(normalised_rules.service_name)))
        and (normalised_rules.charge_category is null
            or lower(lines.charge_category) = lower(trim(normalised_rules.charge_category)))
        and (normalised_rules.tag_key is null
            or (lines.rule_tags[normalised_rules.tag_key_normalised] is not null
                and (normalised_rules.tag_value is null
                    or lower(lines.rule_tags[normalised_rules.tag_key_normalised])
                        = lower(trim(normalised_rules.tag_value)))))
        and (normalised_rules.resource_id_pattern is null
            or coalesce(regexp_matches(lines.resource_id, normalised_rules.resource_id_pattern), false))
        and (normalised_rules.saas_vendor is null
            or lines.vendor_lower = lower(trim(normalised_rules.saas_vendor)))
        and (normalised_rules.saas_product_pattern is null
            or coalesce(regexp_matches(lines.service_name, normalised_rules.saas_product_pattern, 'i'), false))

),

-- first match wins
first_rule as (

    select *
    from rule_matches
    qualify row_number() over (partition by cost_line_id order by rule_order, rule_id) = 1

),

reporting_fx as (

    select currency, month, rate
    from fx_rates
    where reporting_currency = {{ cost_reporting_currency() }}

),

-- the rate of the charge month, else the latest earlier one (age checked below)
with_fx as (

    select
        lines.*,
        reporting_fx.rate as seed_rate,
        reporting_fx.month as seed_rate_month
    from lines
    asof left join reporting_fx
        on lines.billing_currency = reporting_fx.currency
        and lines.charge_month_start >= reporting_fx.month

),

converted as (

    select
        with_fx.*,
        case
            when with_fx.billing_currency is null
                then error('techledger cost: cost line ' || with_fx.cost_line_id
                    || ' has no BillingCurrency; its money cannot be summed with any other line')
            when with_fx.billing_currency = {{ cost_reporting_currency() }}
                then cast(1 as decimal(18, 10))
            when with_fx.seed_rate is not null
                and date_diff('month', with_fx.seed_rate_month, with_fx.charge_month_start)
                    <= {{ metric_var('cost_fx_max_rate_age_months') }}
                then with_fx.seed_rate
            else error('techledger cost: no FX rate from ' || with_fx.billing_currency || ' to '
                || {{ cost_reporting_currency() }} || ' for ' || strftime(with_fx.charge_month_start, '%Y-%m')
                || ' in seeds/fx_rates.csv (nor one at most {{ metric_var("cost_fx_max_rate_age_months") }}'
                || ' months older); refusing to sum money in different currencies (cost line '
                || with_fx.cost_line_id || ')')
        end as fx_rate,
        case
            when with_fx.billing_currency = {{ cost_reporting_currency() }} then with_fx.charge_month_start
            else with_fx.seed_rate_month
        end as fx_rate_month
    from with_fx

),

final as (

    select
        -- keys
        converted.cost_line_id,
        converted.dataset,
        converted.drop_provider,
        converted.source_format,

        -- accounts and providers
        converted.billing_account_id,
        converted.billing_account_name,
        converted.sub_account_id,
        converted.sub_account_name,
        converted.service_provider_name,
        converted.publisher_name,
        converted.invoice_issuer_name,
        converted.invoice_id,

        -- time
        converted.billing_month,
        converted.charge_period_start,
        converted.charge_period_end,
        coalesce(converted.charge_date, cast(timezone('UTC', converted.billing_period_start) as date))
            as charge_date,
        converted.charge_month_start as charge_month,

        -- classification
        converted.charge_category,
        converted.charge_class,
        converted.is_correction,
        converted.charge_description,
        converted.charge_frequency,
        converted.pricing_category,
        converted.service_category,
        converted.service_name,
        converted.provider_line_item_type,
        converted.resource_id,
        converted.resource_name,
        converted.region_id,
        converted.sku_id,
        converted.commitment_discount_id,
        converted.commitment_discount_status,

        -- tags
        converted.rule_tags as tags,
        converted.rule_tags is null as is_untagged,

        -- attribution
        first_rule.rule_id as category_rule_id,
        case
            when first_rule.allocation_method = 'direct' then first_rule.business_category
            when first_rule.allocation_method = 'shared' then null
            else '{{ metric_var("cost_unallocated_category") }}'
        end as business_category,
        coalesce(first_rule.allocation_method, 'unallocated') as allocation_method,
        first_rule.shared_pool,

        -- quantities
        converted.pricing_quantity,
        converted.pricing_unit,
        converted.consumed_quantity,
        converted.consumed_unit,
        try_cast(json_extract_string(converted.provider_extra, '$.active_seats') as integer) as vendor_active_seats,

        -- money in billing currency
        converted.billing_currency,
        cast(converted.billed_cost as decimal(38, 8)) as billed_cost,
        cast(converted.effective_cost as decimal(38, 8)) as effective_cost,
        cast(converted.list_cost as decimal(38, 8)) as list_cost,
        cast(converted.contracted_cost as decimal(38, 8)) as contracted_cost,

        -- money in reporting currency
        {{ cost_reporting_currency() }} as reporting_currency,
        converted.fx_rate,
        converted.fx_rate_month,
        cast(converted.billed_cost * converted.fx_rate as decimal(38, 8)) as billed_cost_reporting,
        cast(converted.effective_cost * converted.fx_rate as decimal(38, 8)) as effective_cost_reporting,
        cast(converted.list_cost * converted.fx_rate as decimal(38, 8)) as list_cost_reporting,
        cast(converted.contracted_cost * converted.fx_rate as decimal(38, 8)) as contracted_cost_reporting

    from converted
    left join first_rule
        on converted.cost_line_id = first_rule.cost_line_id

)

select * from final
