{#- Use the configured schema name as is (staging, intermediate, marts), not "<target>_<schema>":
    analysts and the alert engine rely on the exact schema names in DESIGN.md. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
