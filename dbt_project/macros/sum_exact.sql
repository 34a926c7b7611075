{#- sum() of a double that does not depend on the order rows arrive in: DuckDB adds doubles in whatever order its
    threads deliver them, so a plain sum can differ in the last bits between two builds of the same data (and a
    rebuild must change nothing). Each value is rounded to 1e-10 and added as a decimal, which is exact.
    `where` is an optional aggregate filter condition. -#}
{% macro sum_exact(expression, where=none) -%}
    cast(sum(cast({{ expression }} as decimal(38, 10))){% if where %} filter (where {{ where }}){% endif %} as double)
{%- endmacro %}
