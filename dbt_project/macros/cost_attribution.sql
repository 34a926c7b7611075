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
