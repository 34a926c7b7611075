{#- True when `expression` matches the classification rule `rule` of `source` (techledger.yaml `rules:`,
    passed as the dbt var techledger_rules). Null input never matches. -#}
{% macro matches_rule(expression, source, rule) -%}
    coalesce(regexp_matches({{ expression }}, '{{ var("techledger_rules")[source][rule] }}'), false)
{%- endmacro %}
