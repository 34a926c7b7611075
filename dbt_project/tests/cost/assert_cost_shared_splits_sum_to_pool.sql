-- Every shared-pool line split over categories sums back exactly (to the last decimal, no tolerance) to the pool
-- line, in every money column of both currencies. Returns the lines whose split rows do not add up.
{%- set money = [
    'billed_cost', 'effective_cost', 'list_cost', 'contracted_cost',
    'billed_cost_reporting', 'effective_cost_reporting', 'list_cost_reporting', 'contracted_cost_reporting',
] %}
with

pool_lines as (

    select *
    from {{ ref('int_cost__lines_categorised') }}
    where allocation_method = 'shared'

),

split_sums as (

    select
        cost_line_id,
        count(*) as split_rows,
        {%- for column in money %}
        sum({{ column }}) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('int_cost__lines_allocated') }}
    where cost_line_id in (select cost_line_id from pool_lines)
    group by cost_line_id

)

select pool_lines.cost_line_id, split_sums.split_rows
from pool_lines
left join split_sums
    on pool_lines.cost_line_id = split_sums.cost_line_id
where split_sums.cost_line_id is null
    {%- for column in money %}
    or pool_lines.{{ column }} is distinct from split_sums.{{ column }}
    {%- endfor %}
