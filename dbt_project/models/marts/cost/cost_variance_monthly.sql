-- One row per business category, month and driver: the month-over-month change of the category's
-- EffectiveCost (reporting currency) explained line by line. Each cost line series (cost_line_series_key: the
-- same account, service, resource, charge type, category... across days and months) puts its whole change
-- into exactly one driver, or splits it between volume and rate with rate taken as the remainder, so the
-- drivers of a category-month sum **exactly** to its change by construction:
--   corrections          lines with ChargeClass = Correction: E1 - E0
--   commitments_credits  commitment lines (CommitmentDiscountId set: covered usage, negations, fees, unused) and
--                        credits/adjustments: E1 - E0
--   new_capability       a series absent last month: E1
--   retired              a series absent this month: -E0
--   volume               (Q1 - Q0) x E0/Q0  (quantity change at last month's unit cost), or the whole change of
--                        a series without a usable quantity (tax, flat fees)
--   rate                 (E1 - E0) - volume  (= (E1/Q1 - E0/Q0) x Q1, unit cost change at this month's quantity)
-- People and CI lines (cost_source people / ci) are never new capability or retired: a team's effort moving into
-- a category, a hire, or a team's CI minutes starting are changes of use. Their series go to volume and rate
-- (quantity = FTEs or runner minutes: a headcount change is volume, a pay or price change is rate).
{%- set drivers = ['new_capability', 'retired', 'volume', 'rate', 'commitments_credits', 'corrections'] %}

with

daily as (

    select * from {{ ref('fct_cost_daily') }}

),

series_months as (

    select
        cost_line_series_key,
        business_category,
        charge_month as month_start,
        max(cost_source) as cost_source,
        bool_or(is_correction) as is_correction,
        bool_or(commitment_discount_id is not null or charge_category in ('Credit', 'Adjustment'))
            as is_commitment_or_credit,
        max(
            concat_ws(' ', service_provider_name, service_name, resource_id,
                '[' || coalesce(
                    shared_pool,
                    case when cost_source in ('people', 'ci') then cost_source else charge_category end
                ) || ']')
        ) as series_label,
        sum(effective_cost_reporting) as effective_cost,
        sum(pricing_quantity) as pricing_quantity,
        bool_and(has_pricing_quantity) as has_pricing_quantity
    from daily
    group by cost_line_series_key, business_category, charge_month

),

bounds as (

    select min(month_start) as first_month, max(month_start) as last_month
    from series_months

),

-- months that have a previous month of data
months as (

    select cast(month_start as date) as month_start
    from bounds,
        generate_series(bounds.first_month + interval 1 month, bounds.last_month, interval 1 month)
            as series(month_start)

),

current_and_previous as (

    select
        months.month_start,
        series_months.cost_line_series_key,
        series_months.business_category,
        series_months.month_start = months.month_start as is_current,
        series_months.* exclude (cost_line_series_key, business_category, month_start)
    from months
    inner join series_months
        on series_months.month_start in (months.month_start, cast(months.month_start - interval 1 month as date))

),

pairs as (

    select
        month_start,
        cost_line_series_key,
        business_category,
        max(cost_source) as cost_source,
        bool_or(is_correction) as is_correction,
        bool_or(is_commitment_or_credit) as is_commitment_or_credit,
        max(series_label) as series_label,
        bool_or(is_current) as is_present_now,
        bool_or(not is_current) as is_present_before,
        coalesce(sum(effective_cost) filter (where is_current), 0) as effective_cost_now,
        coalesce(sum(effective_cost) filter (where not is_current), 0) as effective_cost_before,
        sum(pricing_quantity) filter (where is_current and has_pricing_quantity) as quantity_now,
        sum(pricing_quantity) filter (where not is_current and has_pricing_quantity) as quantity_before
    from current_and_previous
    group by month_start, cost_line_series_key, business_category

),

classified as (

    select
        *,
        effective_cost_now - effective_cost_before as change,
        case
            when is_correction then 'corrections'
            when is_commitment_or_credit then 'commitments_credits'
            when coalesce(cost_source in ('people', 'ci'), false) then 'volume_rate'
            when not is_present_before then 'new_capability'
            when not is_present_now then 'retired'
            else 'volume_rate'
        end as driver_class,
        case
            when quantity_now > 0 and quantity_before > 0
                then cast(round(
                    cast(quantity_now - quantity_before as double)
                    * cast(effective_cost_before as double) / cast(quantity_before as double),
                    8
                ) as decimal(38, 8))
        end as volume_at_previous_unit_cost
    from pairs

),

-- one row per series and driver it contributes to
contributions as (

    select month_start, business_category, cost_line_series_key, series_label, driver_class as driver, change as amount
    from classified
    where driver_class <> 'volume_rate'

    union all

    select
        month_start, business_category, cost_line_series_key, series_label, 'volume',
        coalesce(volume_at_previous_unit_cost, change)
    from classified
    where driver_class = 'volume_rate'

    union all

    select
        month_start, business_category, cost_line_series_key, series_label, 'rate',
        change - volume_at_previous_unit_cost
    from classified
    where driver_class = 'volume_rate'
        and volume_at_previous_unit_cost is not null

),

by_driver as (

    select
        month_start,
        business_category,
        driver,
        sum(amount) as amount,
        count(*) filter (where amount <> 0) as line_count,
        arg_max(series_label, abs(amount)) filter (where amount <> 0) as top_line,
        arg_max(amount, abs(amount)) filter (where amount <> 0) as top_line_amount
    from contributions
    group by month_start, business_category, driver

),

category_months as (

    select
        month_start,
        business_category,
        sum(effective_cost_before) as previous_effective_cost,
        sum(effective_cost_now) as effective_cost
    from pairs
    group by month_start, business_category

),

driver_list as (

    select *
    from (
        values
        {%- for driver in drivers %}
            ('{{ driver }}', {{ loop.index }}){{ "," if not loop.last }}
        {%- endfor %}
    ) as drivers(driver, driver_order)

),

final as (

    select
        category_months.month_start,
        category_months.business_category,
        driver_list.driver,
        driver_list.driver_order,
        coalesce(by_driver.amount, 0) as amount,
        category_months.previous_effective_cost,
        category_months.effective_cost,
        category_months.effective_cost - category_months.previous_effective_cost as effective_cost_change,
        coalesce(by_driver.line_count, 0) as line_count,
        by_driver.top_line,
        by_driver.top_line_amount,
        {{ cost_reporting_currency() }} as reporting_currency
    from category_months
    cross join driver_list
    left join by_driver
        on category_months.month_start = by_driver.month_start
        and category_months.business_category = by_driver.business_category
        and driver_list.driver = by_driver.driver

)

select * from final
