-- One row per cost line and business category it is attributed to. Direct and unallocated lines keep one row;
-- a shared-pool line becomes one row per target category of its pool-month. Every money column of a split is
-- rounded to the cent except the largest share's, which takes the remainder, so the split rows sum **exactly**
-- to the pool line in both currencies. A pool-month with no weights leaves its lines unallocated.
--
-- Union point for costs that are not on a bill (added by later work, same columns, their own cost_source):
-- people cost allocated by Jira effort (cost_source 'people') and CI cost by runner minutes (cost_source 'ci').
-- A CI vendor's invoice (e.g. CircleCI) is already a billing line here: CI attribution must re-split that line
-- (a `ci_minutes` pool method in int_cost__shared_pool_weights) rather than add runner cost on top of it.
{%- set money = [
    'billed_cost', 'effective_cost', 'list_cost', 'contracted_cost',
    'billed_cost_reporting', 'effective_cost_reporting', 'list_cost_reporting', 'contracted_cost_reporting',
] %}
{%- set quantities = ['pricing_quantity', 'consumed_quantity'] %}
{%- set unallocated = metric_var('cost_unallocated_category') %}

with

lines as (

    select * from {{ ref('int_cost__lines_categorised') }}

),

weights as (

    select * from {{ ref('int_cost__shared_pool_weights') }}

),

unsplit as (

    select
        lines.* exclude (business_category, allocation_method, vendor_active_seats),
        coalesce(lines.business_category, '{{ unallocated }}') as business_category,
        case when lines.allocation_method = 'shared' then 'unallocated' else lines.allocation_method end
            as allocation_method,
        cast(null as varchar) as split_method,
        cast(1 as double) as split_share
    from lines
    where lines.allocation_method <> 'shared'
        or not exists (
            select 1
            from weights
            where weights.shared_pool = lines.shared_pool
                and weights.charge_month = lines.charge_month
        )

),

shared_rounded as (

    select
        lines.* exclude (
            business_category, allocation_method, vendor_active_seats,
            {{ (money + quantities) | join(', ') }}
        ),
        weights.business_category,
        'shared' as allocation_method,
        weights.split_method,
        weights.share as split_share,
        weights.is_largest_share,
        {%- for column in money %}
        lines.{{ column }} as pool_{{ column }},
        cast(round(lines.{{ column }} * weights.share, 2) as decimal(38, 8)) as rounded_{{ column }},
        {%- endfor %}
        {%- for column in quantities %}
        cast(lines.{{ column }} * weights.share as decimal(38, 10)) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from lines
    inner join weights
        on lines.shared_pool = weights.shared_pool
        and lines.charge_month = weights.charge_month
    where lines.allocation_method = 'shared'

),

shared_split as (

    select
        shared_rounded.* exclude (
            is_largest_share,
            {%- for column in money %}
            pool_{{ column }}, rounded_{{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        ),
        {%- for column in money %}
        case
            when is_largest_share
                then pool_{{ column }}
                    - (sum(rounded_{{ column }}) over (partition by cost_line_id) - rounded_{{ column }})
            else rounded_{{ column }}
        end as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from shared_rounded

),

unioned as (

    select * from unsplit
    union all by name
    select * from shared_split

),

final as (

    select
        'billing' as cost_source,
        *
    from unioned

)

select * from final
