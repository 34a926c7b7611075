{#- Helpers of the cost attribution models (models/intermediate/cost, models/marts/cost). -#}

{#- A tag key as the category rules compare it: lower case, trimmed, runs of spaces/dashes -> `_`, AWS's `user:`
    prefix dropped. `Team`, ` TEAM `, `team` and `user:team` all become `team`. -#}
{% macro cost_tag_key(expression) -%}
    regexp_replace(regexp_replace(lower(trim({{ expression }})), '^user:', ''), '[\s\-]+', '_', 'g')
{%- endmacro %}

{#- A JSON object of tags (FOCUS Tags as delivered) as MAP(VARCHAR, VARCHAR) with normalised keys and trimmed
    values; the first of two keys that normalise alike wins. Null or an empty object gives null. -#}
{% macro cost_normalised_tags(json_expression) -%}
    case
        when {{ json_expression }} is not null
            and cardinality(json_transform({{ json_expression }}, '"MAP(VARCHAR, VARCHAR)"')) > 0
        then map_from_entries(list_filter(
            list_transform(
                map_entries(json_transform({{ json_expression }}, '"MAP(VARCHAR, VARCHAR)"')),
                e -> {'key': {{ cost_tag_key('e.key') }}, 'value': trim(e.value)}
            ),
            (e, i) -> e.key <> '' and list_position(
                list_transform(
                    map_entries(json_transform({{ json_expression }}, '"MAP(VARCHAR, VARCHAR)"')),
                    x -> {{ cost_tag_key('x.key') }}
                ),
                e.key
            ) = i
        ))
    end
{%- endmacro %}

{#- Stable hash of several columns (nulls and empty strings kept apart). -#}
{% macro cost_hash(columns) -%}
    md5(concat_ws('|'{% for column in columns %}, coalesce(cast({{ column }} as varchar), '<null>'){% endfor %}))
{%- endmacro %}

{#- The reporting-currency quoted literal, e.g. 'USD'. -#}
{% macro cost_reporting_currency() -%}
    '{{ metric_var("cost_reporting_currency") }}'
{%- endmacro %}

{#- The rows of the CTE `relation` with the rate converting their `currency_column` into the reporting currency in
    the month `month_column` (a date): 1 for the reporting currency itself, else the seeds/fx_rates.csv rate of the
    month or of the latest earlier month at most `cost_fx_max_rate_age_months` old. Adds `fx_rate` and
    `fx_rate_month`. A row without a usable rate fails the build naming `what` (a SQL text expression): money in
    two currencies is never summed raw. Billing lines do the same in int_cost__lines_categorised. -#}
{% macro cost_with_fx_rate(relation, currency_column, month_column, what) -%}
    select
        {{ relation }}.*,
        case
            when {{ relation }}.{{ currency_column }} is null
                then error('techledger cost: ' || {{ what }} || ' has no currency; its money cannot be summed')
            when {{ relation }}.{{ currency_column }} = {{ cost_reporting_currency() }}
                then cast(1 as decimal(18, 10))
            when fx_seed.rate is not null
                and date_diff('month', fx_seed.month, {{ relation }}.{{ month_column }})
                    <= {{ metric_var('cost_fx_max_rate_age_months') }}
                then cast(fx_seed.rate as decimal(18, 10))
            else error('techledger cost: no FX rate from ' || {{ relation }}.{{ currency_column }} || ' to '
                || {{ cost_reporting_currency() }} || ' for ' || strftime({{ relation }}.{{ month_column }}, '%Y-%m')
                || ' in seeds/fx_rates.csv (nor one at most {{ metric_var("cost_fx_max_rate_age_months") }}'
                || ' months older); refusing to sum money in different currencies (' || {{ what }} || ')')
        end as fx_rate,
        case
            when {{ relation }}.{{ currency_column }} = {{ cost_reporting_currency() }}
                then cast({{ relation }}.{{ month_column }} as date)
            else fx_seed.month
        end as fx_rate_month
    from {{ relation }}
    asof left join (
        select currency, month, rate
        from {{ ref('fx_rates') }}
        where reporting_currency = {{ cost_reporting_currency() }}
    ) as fx_seed
        on {{ relation }}.{{ currency_column }} = fx_seed.currency
        and {{ relation }}.{{ month_column }} >= fx_seed.month
{%- endmacro %}

{#- Every month from the first to the last month of cost data (billing charge months and the months of Jira effort),
    as `month_start` dates: the months non-billing costs (people) and head counts are laid over. -#}
{% macro cost_data_months() -%}
    select cast(series.month_start as date) as month_start
    from (
        select min(month_start) as first_month, max(month_start) as last_month
        from (
            select charge_month as month_start from {{ ref('int_cost__lines_categorised') }}
            union all
            select month_start from {{ ref('int_work__effort_monthly') }}
        )
    ) as bounds,
        generate_series(bounds.first_month, bounds.last_month, interval 1 month) as series(month_start)
    where bounds.first_month is not null
{%- endmacro %}
