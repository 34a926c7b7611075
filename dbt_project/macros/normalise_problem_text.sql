{#- The text part of a recurring problem's fingerprint: what is left of an incident title, bug summary or CI
    failure once everything that changes from one occurrence to the next is taken out, so that
    "Payment gateway timeout after 30012 ms (order 5512)" and "payment gateway timeout after 29870ms (order 77)"
    group together while "Search index stale" stays apart.

    Order matters: URLs, timestamps and UUIDs contain digits and hex, so they go before the generic rules;
    numbers go last so "<ts>"-style placeholders are not split. Lower-cased, whitespace and punctuation runs
    collapsed. RE2 syntax (DuckDB regexp_replace with the 'g' flag). -#}
{% macro normalise_problem_text(expression) -%}
trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    regexp_replace(regexp_replace(
        lower(coalesce({{ expression }}, '')),
        'https?://[^\s]+', ' <url> ', 'g'),
        '\d{4}-\d{2}-\d{2}([t ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(z|[+-]\d{2}:?\d{2})?)?', ' <ts> ', 'g'),
        '\b\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\b', ' <ts> ', 'g'),
        '\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b', ' <id> ', 'g'),
        '\b(0x)?[0-9a-f]*[0-9][0-9a-f]*[a-f][0-9a-f]*\b|\b(0x)?[0-9a-f]*[a-f][0-9a-f]*[0-9][0-9a-f]*\b', ' <hex> ', 'g'),
        '(^|[\s(\[''"=])(~|\.{1,2})?(/?[\w.@-]+)(/[\w.@-]+)+/?', '\1 <path> ', 'g'),
        '\d+', ' <n> ', 'g'),
        '[^a-z0-9<>]+', ' ', 'g'),
        '\s+', ' ', 'g'))
{%- endmacro %}
