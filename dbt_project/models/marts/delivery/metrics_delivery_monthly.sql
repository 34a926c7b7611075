-- DORA and PR-cycle metrics per org / team / service and calendar month; definitions in the YAML.
{{ delivery_metrics('month') }}
