-- Nothing is lost or counted twice between the billing lines and fct_cost_daily: per billing currency, the
-- BilledCost and EffectiveCost totals are identical (categorisation, pool splits and daily grouping only move
-- money between rows). Returns the currencies whose totals differ.
with

staged as (

    select billing_currency, sum(billed_cost) as billed_cost, sum(effective_cost) as effective_cost
    from {{ ref('stg_billing__cost_lines') }}
    group by billing_currency

),

daily as (

    select billing_currency, sum(billed_cost) as billed_cost, sum(effective_cost) as effective_cost
    from {{ ref('fct_cost_daily') }}
    where cost_source = 'billing'
    group by billing_currency

)

select
    coalesce(staged.billing_currency, daily.billing_currency) as billing_currency,
    staged.billed_cost as staged_billed_cost,
    daily.billed_cost as daily_billed_cost,
    staged.effective_cost as staged_effective_cost,
    daily.effective_cost as daily_effective_cost
from staged
full outer join daily
    on staged.billing_currency is not distinct from daily.billing_currency
where staged.billed_cost is distinct from daily.billed_cost
    or staged.effective_cost is distinct from daily.effective_cost
