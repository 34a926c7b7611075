"""One alert tick: read the catalogue and the weekly series, detect, advance the lifecycle, deliver the outbox.

Called by the Dagster asset ``alerts/alerts`` (which holds the DuckDB write slot) and by the tests. A tick with
``evaluate=False`` only delivers what is due in the outbox (the retry sensor's runs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from orchestration.alerting.catalog import MetricDefinition, active_metrics, cap_warning, load_catalog
from orchestration.alerting.detection import DetectionSettings, PairedRule, detect, group_points
from orchestration.alerting.lifecycle import advance, ensure_schema, load_alerts, save
from orchestration.alerting.outbox import RetryPolicy, deliver_due, queue_events
from orchestration.alerting.sinks import Sink

METRIC_SERIES = ("marts", "metric_series")
METRIC_CATALOG = ("marts", "metric_catalog")

log = logging.getLogger("techledger.alerts")


@dataclass
class TickSummary:
    """What a tick did: becomes the Dagster materialisation metadata."""

    evaluated: bool = False
    skipped_reason: str | None = None
    as_of: date | None = None
    active_metrics: int = 0
    series_evaluated: int = 0
    series_insufficient: int = 0
    findings: int = 0
    opened: int = 0
    escalated: int = 0
    resolved: int = 0
    open_alerts: int = 0
    delivered: int = 0
    failed_attempts: int = 0
    pending: int = 0
    failed_total: int = 0
    next_attempt_at: datetime | None = None
    weeks_evaluated: list[date] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # titles of this tick's new events
    delivery_errors: list[str] = field(default_factory=list)


def detection_settings(alerts_config: Any) -> DetectionSettings:
    return DetectionSettings(
        recent_weeks=alerts_config.recent_weeks,
        baseline_weeks=alerts_config.baseline_weeks,
        min_recent_points=alerts_config.min_recent_points,
        min_baseline_points=alerts_config.min_baseline_points,
        significance=alerts_config.significance,
        trend_significance=alerts_config.trend_significance,
        min_robust_z=alerts_config.min_robust_z,
        confirm_weeks=alerts_config.confirm_weeks,
        trend_weeks=alerts_config.trend_weeks,
        min_trend_points=alerts_config.min_trend_points,
    )


def paired_rules(alerts_config: Any) -> list[PairedRule]:
    return [
        PairedRule(
            name=r.name,
            description=r.description,
            first_metric=r.first_metric,
            first_direction=r.first_direction,
            second_metric=r.second_metric,
            second_direction=r.second_direction,
            significance=r.significance,
            suppress_components=r.suppress_components,
            absorbed_improvements=tuple(r.absorbed_improvements),
        )
        for r in alerts_config.paired_rules
    ]


def retry_policy(alerts_config: Any) -> RetryPolicy:
    d = alerts_config.delivery
    return RetryPolicy(base_seconds=d.base_seconds, max_seconds=d.max_seconds, max_attempts=d.max_attempts)


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            """
            select count(*) from (
                select schema_name, table_name as name from duckdb_tables()
                union all select schema_name, view_name from duckdb_views() where not internal
            ) where schema_name = ? and name = ?
            """,
            [schema, name],
        ).fetchone()[0]
    )


def rule_warnings(rules: list[PairedRule], catalog: dict[str, MetricDefinition]) -> list[str]:
    warnings = []
    for rule in rules:
        for metric in (rule.first_metric, rule.second_metric):
            definition = catalog.get(metric)
            if definition is None:
                warnings.append(f"paired rule {rule.name}: metric {metric} is not in the metric catalog")
            elif not definition.active:
                warnings.append(f"paired rule {rule.name}: metric {metric} is not active; the rule cannot fire")
    return warnings


def run_tick(
    con: duckdb.DuckDBPyConnection,
    alerts_config: Any,
    sinks: list[Sink],
    now: datetime,
    evaluate: bool = True,
) -> TickSummary:
    """Evaluate (unless ``evaluate`` is False), record lifecycle events with their outbox rows in one
    transaction, then attempt every delivery that is due."""
    summary = TickSummary()
    ensure_schema(con)
    if evaluate:
        _evaluate(con, alerts_config, sinks, now, summary)
    stats = deliver_due(con, sinks, now, retry_policy(alerts_config))
    summary.delivered = stats.delivered
    summary.failed_attempts = stats.failed_attempts
    summary.pending = stats.pending
    summary.failed_total = stats.failed_total
    summary.next_attempt_at = stats.next_attempt_at
    summary.delivery_errors = stats.errors
    summary.open_alerts = int(con.execute("select count(*) from alerts.alerts where status = 'open'").fetchone()[0])
    return summary


def _evaluate(
    con: duckdb.DuckDBPyConnection, alerts_config: Any, sinks: list[Sink], now: datetime, summary: TickSummary
) -> None:
    for schema, name in (METRIC_CATALOG, METRIC_SERIES):
        if not relation_exists(con, schema, name):
            summary.skipped_reason = (
                f"{schema}.{name} does not exist yet (build it with dbt first); evaluation skipped, "
                "pending deliveries still attempted"
            )
            return
    catalog = load_catalog(con)
    active = active_metrics(catalog)
    summary.active_metrics = len(active)
    warning = cap_warning(catalog, alerts_config.max_active_metrics)
    rules = paired_rules(alerts_config)
    summary.warnings = ([warning] if warning else []) + rule_warnings(rules, catalog)
    if not active:
        summary.skipped_reason = "no metric is active in marts.metric_catalog"
        return
    rows = con.execute(
        f"""
        select metric, scope_type, scope_key, cast(period_start as date), cast(value as double),
               cast(sample_size as integer)
        from {".".join(METRIC_SERIES)}
        where metric in ({", ".join("?" for _ in active)})
        """,
        [d.metric for d in active],
    ).fetchall()
    series = group_points(rows)
    weeks = [p.period_start for points in series.values() for p in points]
    if not weeks:
        summary.skipped_reason = "marts.metric_series has no rows for the active metrics"
        return
    last = con.execute("select max(period_start) from alerts.evaluations").fetchone()[0]
    settings = detection_settings(alerts_config)
    alerts = load_alerts(con)
    before = {fp: a.status for fp, a in alerts.items()}
    events = []
    for week in weeks_to_evaluate(max(weeks), last, alerts_config.catch_up_weeks):
        result = detect(series, catalog, settings, rules, as_of=week)
        memory = settings.recent_weeks + settings.baseline_weeks
        changed, week_events = advance(alerts, result, now, catalog, alerts_config.resolve_fraction, memory)
        alerts.update(changed)
        events += week_events
        summary.as_of = week
        summary.series_evaluated = len(result.evaluations)
        summary.series_insufficient = result.insufficient
        summary.findings = len(result.findings)
        summary.weeks_evaluated.append(week)
    summary.evaluated = True
    touched = {e.fingerprint for e in events}
    # a catch-up over several weeks does not announce an alert that opened and resolved within it (old news)
    transient = {fp for fp in touched if before.get(fp) != "open" and alerts[fp].status == "resolved"}
    con.execute("begin transaction")
    try:
        new_events = save(con, [alerts[fp] for fp in touched], events)
        queue_events(con, [e for e in new_events if e.fingerprint not in transient], sinks, now)
        for week in summary.weeks_evaluated:
            con.execute("insert or replace into alerts.evaluations values (?, ?)", [week, now])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    for event in new_events:
        setattr(summary, event.event_type, getattr(summary, event.event_type) + 1)
        summary.events.append(event.payload["title"])


def weeks_to_evaluate(latest: date, last_evaluated: date | None, catch_up_weeks: int) -> list[date]:
    """The weeks a tick evaluates, oldest first: every week since the last evaluated one (at most
    ``catch_up_weeks``), and always the latest (its data may have been restated). A first tick catches up too,
    so a pipeline that runs once (the demo) or skipped weeks raises what weekly runs would have raised."""
    first = latest - timedelta(weeks=catch_up_weeks - 1)
    if last_evaluated is not None:
        first = max(first, min(last_evaluated + timedelta(weeks=1), latest))
    return [first + timedelta(weeks=k) for k in range((latest - first).days // 7 + 1)]


def open_alert_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One line per open alert, regressions first and most severe first (for the run/demo summary); empty when
    the engine has not run yet."""
    if not relation_exists(con, "alerts", "alerts"):
        return []
    rows = con.execute(
        """
        select kind, severity, opened_period, title from alerts.alerts where status = 'open'
        order by case kind when 'improvement' then 1 else 0 end, severity desc, opened_period, title
        """
    ).fetchall()
    return [f"[{kind}, since week {opened}] {title}" for kind, _, opened, title in rows]
