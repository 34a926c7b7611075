-- DORA and PR-cycle metrics per org / team / service and ISO week (Monday start); definitions in the YAML.
{{ delivery_metrics('week') }}
