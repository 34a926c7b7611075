{#- One knob of the metric definitions (dbt var `techledger_metrics`), e.g. {{ metric_var('bot_pattern') }}.
    Fails the compile with the knob's name when it is missing, instead of rendering an empty string. -#}
{% macro metric_var(name) -%}
    {%- set knobs = var("techledger_metrics") -%}
    {%- if name not in knobs -%}
        {{ exceptions.raise_compiler_error("dbt var techledger_metrics has no key '" ~ name ~ "': add it to dbt_project.yml vars") }}
    {%- endif -%}
    {{ knobs[name] }}
{%- endmacro %}
