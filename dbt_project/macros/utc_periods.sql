{#- Calendar periods in UTC whatever the session's TimeZone: DuckDB truncates a timestamptz in the session time
    zone, so a machine set to another zone would shift weeks and months by hours. -#}

{#- The UTC week/month/day containing `ts` (a timestamptz expression), as a date. -#}
{% macro utc_period_start(period, ts) -%}
    cast(date_trunc('{{ period }}', ({{ ts }}) at time zone 'UTC') as date)
{%- endmacro %}

{#- Midnight UTC of `day` (a date expression), as a timestamptz. -#}
{% macro utc_midnight(day) -%}
    (cast({{ day }} as timestamp) at time zone 'UTC')
{%- endmacro %}
