"""The alert engine: trend detection, alert lifecycle, outbox and sinks — plain Python, no Dagster import.

One module per job:

- ``catalog``: the metric catalogue (what each metric means, which way is better, what change matters).
- ``stats``: the robust statistics the detector uses (median/MAD, Mann-Whitney, Mann-Kendall, Theil-Sen).
- ``detection``: one weekly series in, findings (regression, improvement, paired rule) with evidence out.
- ``lifecycle``: alerts keyed by fingerprint, opened once, escalated when they worsen, resolved when back to
  baseline; persisted in the DuckDB schema ``alerts``.
- ``outbox``: per-sink delivery with retries and exponential backoff across ticks.
- ``sinks``: Slack incoming webhook, signed JSON webhook, e-mail over SMTP, the log.
- ``engine``: one tick (read the marts, evaluate, update the lifecycle, deliver) for the Dagster asset.
- ``harness``: synthetic series with known change points; our detector against the naive week-over-week rule.

Dagster (``orchestration/assets/alerts.py``) only decides *when* a tick runs.
"""
