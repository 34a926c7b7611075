"""Alerts in Dagster: the ``alerts/alerts`` asset, its job, and the sensors that decide when alerts are raised.

Thin on purpose: the asset calls ``orchestration.alerting.engine.run_tick`` (detection, lifecycle, outbox) while
holding the ``duckdb_writer`` slot; the sensors only read the Dagster instance (never the DuckDB file):

- ``metric_series_alerts_sensor``: ``marts/metric_series`` was materialised by a run that did not evaluate alerts
  itself (e.g. a dbt-only run from the UI) → request an alerts run. The build job includes the alerts asset, so
  a normal build raises its alerts without a second run.
- ``alerts_delivery_retry_sensor``: the latest alerts materialisation reported pending deliveries whose next
  attempt is due → request a delivery-only run (one per materialisation, run key = its storage id).
- ``pipeline_failure_sensor``: a run failed → an alert through the sinks, straight from the sensor (a broken
  pipeline may be exactly what keeps the asset from running); undelivered ones are retried from the cursor.
- ``source_freshness_sensor``: a source's raw assets were not materialised within its expected interval
  (``alerts.freshness_hours``) → an alert, once, and a resolution when it syncs again.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import dagster as dg

from orchestration.alerting.catalog import describe_for_humans, load_catalog_csv
from orchestration.alerting.engine import TickSummary, retry_policy, run_tick
from orchestration.alerting.operational import SensorState, freshness_tick, queue_for, run_failure_payload
from orchestration.alerting.outbox import deliver_queue
from orchestration.alerting.sinks import build_sinks
from orchestration.assets.ingestion import WRITER_POOL
from orchestration.config import PROJECT_ROOT, AlertsConfig
from orchestration.resources import WarehouseResource

ALERTS_ASSET_KEY = dg.AssetKey(["alerts", "alerts"])
METRIC_SERIES_KEY = dg.AssetKey(["marts", "metric_series"])
METRIC_CATALOG_KEY = dg.AssetKey(["marts", "metric_catalog"])
ALERTS_JOB_NAME = "alerts_job"
ALERTS_OP_NAME = "alerts__alerts"  # the op behind ALERTS_ASSET_KEY (run config goes under ops.<this>)
CATALOG_SEED = PROJECT_ROOT / "dbt_project" / "seeds" / "metric_definitions.csv"


def _now() -> datetime:
    """The sensors' clock (a function so tests can move it)."""
    return datetime.now(UTC)


class AlertingResource(dg.ConfigurableResource):
    """The ``alerts:`` section of techledger.yaml (as JSON). Secrets stay in the environment: only the names of
    the variables are here, so nothing secret reaches Dagster's run config or UI."""

    config_json: str

    def settings(self) -> AlertsConfig:
        return AlertsConfig.model_validate_json(self.config_json)


class AlertsRunConfig(dg.Config):
    evaluate: bool = True  # False: only deliver what is due in the outbox (the retry sensor's runs)


def _description() -> str:
    try:
        active = describe_for_humans(load_catalog_csv(CATALOG_SEED).values())
    except (OSError, ValueError, KeyError) as exc:
        active = f"(metric catalog seed unreadable: {exc})"
    return (
        "Trend alerts on marts.metric_series: for every active metric of marts.metric_catalog and scope, the "
        "recent weeks against a trailing baseline (median/MAD, Mann-Whitney) and a monotonic-trend test "
        "(Mann-Kendall, Theil-Sen), with minimum sample sizes and a practical threshold per metric; "
        "regressions, improvements and paired rules. Lifecycle in alerts.alerts (opened once, escalated, "
        "resolved), events in alerts.events, per-sink deliveries with retries in alerts.outbox.\n\n"
        f"Active metrics:\n{active}"
    )


def _metadata(summary: TickSummary, cap: int) -> dict[str, dg.MetadataValue]:
    metadata: dict[str, dg.MetadataValue] = {
        "evaluated": dg.MetadataValue.bool(summary.evaluated),
        "opened": dg.MetadataValue.int(summary.opened),
        "escalated": dg.MetadataValue.int(summary.escalated),
        "resolved": dg.MetadataValue.int(summary.resolved),
        "open_alerts": dg.MetadataValue.int(summary.open_alerts),
        "delivered": dg.MetadataValue.int(summary.delivered),
        "failed_attempts": dg.MetadataValue.int(summary.failed_attempts),
        "pending_deliveries": dg.MetadataValue.int(summary.pending),
        "failed_deliveries": dg.MetadataValue.int(summary.failed_total),
        "series_evaluated": dg.MetadataValue.int(summary.series_evaluated),
        "series_insufficient": dg.MetadataValue.int(summary.series_insufficient),
        "active_metrics": dg.MetadataValue.int(summary.active_metrics),
        "active_metric_cap": dg.MetadataValue.int(cap),
        "active_metric_cap_exceeded": dg.MetadataValue.bool(summary.active_metrics > cap),
        "events": dg.MetadataValue.json(summary.events),
        "warnings": dg.MetadataValue.json(summary.warnings),
    }
    if summary.next_attempt_at is not None:
        metadata["next_attempt_at"] = dg.MetadataValue.timestamp(summary.next_attempt_at)
    if summary.as_of is not None:
        metadata["as_of_week"] = dg.MetadataValue.text(summary.as_of.isoformat())
    if summary.skipped_reason:
        metadata["skipped"] = dg.MetadataValue.text(summary.skipped_reason)
    if summary.delivery_errors:
        metadata["delivery_errors"] = dg.MetadataValue.json(summary.delivery_errors[:50])
    return metadata


def build_alerts_asset() -> dg.AssetsDefinition:
    @dg.asset(
        key=ALERTS_ASSET_KEY,
        group_name="alerts",
        # metric_series is declared by key: until its dbt model exists the dependency is external and the asset
        # logs that it skipped evaluation (pending deliveries are still attempted)
        deps=[METRIC_CATALOG_KEY, METRIC_SERIES_KEY],
        pool=WRITER_POOL,
        kinds={"duckdb", "python"},
        description=_description(),
    )
    def alerts(
        context: dg.AssetExecutionContext,
        config: AlertsRunConfig,
        warehouse: WarehouseResource,
        alerting: AlertingResource,
    ) -> dg.MaterializeResult:
        settings = alerting.settings()
        sinks = build_sinks(settings.sinks, context.log)
        with warehouse.connect() as con:
            summary = run_tick(con, settings, sinks, now=datetime.now(UTC), evaluate=config.evaluate)
        if summary.skipped_reason:
            context.log.warning(f"alerts: {summary.skipped_reason}")
        for warning in summary.warnings:
            context.log.warning(f"alerts: {warning}")
        context.log.info(
            f"alerts: {summary.opened} opened, {summary.escalated} escalated, {summary.resolved} resolved, "
            f"{summary.delivered} delivered, {summary.pending} pending, {summary.failed_total} failed"
        )
        return dg.MaterializeResult(metadata=_metadata(summary, settings.max_active_metrics))

    return alerts


alerts_job = dg.define_asset_job(
    ALERTS_JOB_NAME,
    selection=dg.AssetSelection.assets(ALERTS_ASSET_KEY),
    description="Evaluate the metric series, update alerts.* and deliver the outbox (or only deliver, with "
    "ops.alerts__alerts.config.evaluate = false).",
)


def build_alert_sensors(
    raw_keys_by_source: Mapping[str, Sequence[dg.AssetKey]], jobs_with_alerts: Sequence[str]
) -> list[dg.SensorDefinition]:
    """The four alert sensors (all on by default). ``jobs_with_alerts``: jobs whose runs evaluate alerts
    themselves, so a metric_series materialisation in them needs no extra run."""
    evaluating_jobs = frozenset(jobs_with_alerts)

    @dg.asset_sensor(
        asset_key=METRIC_SERIES_KEY,
        job_name=ALERTS_JOB_NAME,
        name="metric_series_alerts_sensor",
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Requests an alerts run when marts/metric_series is materialised by a run that did not "
        "evaluate alerts itself.",
    )
    def metric_series_alerts_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
        run = context.instance.get_run_by_id(asset_event.run_id)
        if (
            run is not None
            and run.job_name in evaluating_jobs
            and (not run.asset_selection or ALERTS_ASSET_KEY in run.asset_selection)  # empty = the whole job
        ):
            return dg.SkipReason(f"run {run.run_id[:8]} ({run.job_name}) evaluates alerts itself")
        return dg.RunRequest(run_key=f"metric_series:{asset_event.run_id}")

    @dg.sensor(
        name="alerts_delivery_retry_sensor",
        job_name=ALERTS_JOB_NAME,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Requests a delivery-only alerts run when the latest alerts materialisation reported pending "
        "deliveries whose next attempt is due (retries with backoff across ticks).",
    )
    def alerts_delivery_retry_sensor(context: dg.SensorEvaluationContext):
        records = context.instance.fetch_materializations(ALERTS_ASSET_KEY, limit=1).records
        if not records:
            return dg.SkipReason("no alerts materialisation yet")
        record = records[0]
        materialization = record.asset_materialization
        metadata = materialization.metadata if materialization is not None else {}
        pending = metadata.get("pending_deliveries")
        if pending is None or not pending.value:
            return dg.SkipReason("no pending deliveries")
        due = metadata.get("next_attempt_at")
        if due is not None and _now().timestamp() < float(due.value):
            return dg.SkipReason(
                f"{pending.value} pending; next attempt due at {datetime.fromtimestamp(due.value, UTC)}"
            )
        return dg.RunRequest(
            run_key=f"alerts-delivery:{record.storage_id}",
            run_config={"ops": {ALERTS_OP_NAME: {"config": {"evaluate": False}}}},
            tags={"techledger/alerts": "delivery-retry"},
        )

    @dg.sensor(
        name="pipeline_failure_sensor",
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Alerts through the configured sinks when a run fails (pipeline broken); deliveries that "
        "fail are retried with backoff from the sensor's cursor.",
    )
    def pipeline_failure_sensor(context: dg.SensorEvaluationContext, alerting: AlertingResource):
        settings = alerting.settings()
        state = SensorState.from_cursor(context.cursor)
        now = _now()
        sinks = build_sinks(settings.sinks, context.log)
        if state.after is None:  # first tick: start from now, do not page for failures of the past
            latest = context.instance.fetch_run_status_changes(dg.DagsterEventType.RUN_FAILURE, limit=1)
            state.after = latest.cursor if latest.records else ""
            return dg.SensorResult(cursor=state.to_cursor(), skip_reason="watching run failures from now on")
        if settings.notify_run_failures:
            result = context.instance.fetch_run_status_changes(
                dg.DagsterEventType.RUN_FAILURE, limit=100, cursor=state.after or None, ascending=True
            )
            for record in result.records:
                run = context.instance.get_run_by_id(record.run_id)
                entry = record.event_log_entry
                payload = run_failure_payload(
                    record.run_id,
                    run.job_name if run is not None else "unknown job",
                    entry.message or "",
                    datetime.fromtimestamp(entry.timestamp, UTC),
                    now,
                )
                state.queue += queue_for([payload], sinks, now)
            if result.records:
                state.after = result.cursor
        state.queue, stats = deliver_queue(state.queue, sinks, now, retry_policy(settings))
        return dg.SensorResult(
            cursor=state.to_cursor(),
            skip_reason=f"{stats.delivered} delivered, {stats.pending} pending",
        )

    @dg.sensor(
        name="source_freshness_sensor",
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Alerts when a source's raw assets were not materialised within its expected interval "
        "(alerts.freshness_hours), and again when it syncs.",
    )
    def source_freshness_sensor(context: dg.SensorEvaluationContext, alerting: AlertingResource):
        settings = alerting.settings()
        state = SensorState.from_cursor(context.cursor)
        now = _now()
        sinks = build_sinks(settings.sinks, context.log)
        keys = [key for source_keys in raw_keys_by_source.values() for key in source_keys]
        latest = context.instance.get_latest_materialization_events(keys)
        last_synced = {
            source: {
                key.to_user_string(): (
                    datetime.fromtimestamp(latest[key].timestamp, UTC) if latest.get(key) is not None else None
                )
                for key in source_keys
            }
            for source, source_keys in raw_keys_by_source.items()
        }
        expected = {k: v for k, v in settings.freshness_hours.model_dump().items() if v is not None}
        payloads = freshness_tick(state, last_synced, expected, now)
        state.queue += queue_for(payloads, sinks, now)
        state.queue, stats = deliver_queue(state.queue, sinks, now, retry_policy(settings))
        return dg.SensorResult(
            cursor=state.to_cursor(),
            skip_reason=f"{len(state.stale)} stale source(s); {stats.delivered} delivered, {stats.pending} pending",
        )

    return [metric_series_alerts_sensor, alerts_delivery_retry_sensor, pipeline_failure_sensor, source_freshness_sensor]
