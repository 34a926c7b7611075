"""Alerts in Dagster: the asset (pool, metadata, skip without metric_series), its place in the build job, and the
sensors (metric_series materialised, delivery retry, failed runs, stale sources), all on by default."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import orchestration.assets.alerts as alert_assets
from orchestration.alerting.operational import SensorState, freshness_tick
from orchestration.assets.alerts import (
    ALERTS_ASSET_KEY,
    ALERTS_OP_NAME,
    METRIC_SERIES_KEY,
    AlertingResource,
    build_alert_sensors,
    build_alerts_asset,
)
from orchestration.config import AlertsConfig, load_config
from orchestration.definitions import build_definitions
from orchestration.resources import WarehouseResource
from tests.orchestration.alerting.receivers import http_receiver
from tests.orchestration.alerting.series import CATALOG, noisy, rows, write_catalog, write_series

HOOK_URL_ENV, HOOK_SECRET_ENV = "TL_TEST_ALERT_HOOK_URL", "TL_TEST_ALERT_HOOK_SECRET"
RAW_PRS = dg.AssetKey(["raw_github", "pull_requests"])


def _alerting(**overrides: object) -> AlertingResource:
    config = AlertsConfig.model_validate({"paired_rules": [], **overrides})
    return AlertingResource(config_json=config.model_dump_json())


def _warehouse(tmp_path: Path, with_series: bool = True) -> WarehouseResource:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        write_catalog(con, CATALOG.values())
        if with_series:
            values = noisy(10, 20, seed=41, cv=0.05) + noisy(16, 5, seed=42, cv=0.05)
            write_series(con, rows("lead_time_p50_hours", "search", values))
    return WarehouseResource(path=str(path), memory_limit="1GB")


def _materialize(warehouse: WarehouseResource, alerting: AlertingResource, instance=None, run_config=None):
    result = dg.materialize(
        [build_alerts_asset()],
        resources={"warehouse": warehouse, "alerting": alerting},
        instance=instance,
        run_config=run_config,
    )
    assert result.success
    [event] = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_asset_without_metric_series_skips_with_a_clear_reason(tmp_path: Path) -> None:
    metadata = _materialize(_warehouse(tmp_path, with_series=False), _alerting())
    assert metadata["evaluated"] is False
    assert "marts.metric_series does not exist yet" in metadata["skipped"]
    assert metadata["opened"] == 0 and metadata["pending_deliveries"] == 0


def test_asset_raises_alerts_once_and_reports_counts(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    first = _materialize(warehouse, _alerting())
    assert (first["opened"], first["delivered"], first["pending_deliveries"], first["open_alerts"]) == (1, 1, 0, 1)
    assert first["active_metrics"] == 3 and first["active_metric_cap_exceeded"] is False
    assert "Regression for team search" in first["events"][0]
    second = _materialize(warehouse, _alerting())
    assert (second["opened"], second["escalated"], second["resolved"], second["delivered"]) == (0, 0, 0, 0)
    capped = _materialize(warehouse, _alerting(max_active_metrics=1))
    assert capped["active_metric_cap_exceeded"] is True and "3 metrics are active" in capped["warnings"][0]


def test_retry_sensor_requests_a_delivery_run_when_pending_deliveries_are_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = _warehouse(tmp_path)
    alerting = _alerting(sinks={"log": {}, "webhook": {"url_env": HOOK_URL_ENV, "secret_env": HOOK_SECRET_ENV}})
    monkeypatch.setenv(HOOK_SECRET_ENV, "k")
    [_, retry_sensor, _, _] = build_alert_sensors({}, ["build_job", "alerts_job"])
    with dg.DagsterInstance.ephemeral() as instance, http_receiver([500, 200]) as hook:
        monkeypatch.setenv(HOOK_URL_ENV, f"{hook.url}/hook")
        first = _materialize(warehouse, alerting, instance)
        assert (first["delivered"], first["pending_deliveries"]) == (1, 1)
        due = datetime.fromtimestamp(first["next_attempt_at"], UTC)

        monkeypatch.setattr(alert_assets, "_now", lambda: due - timedelta(seconds=1))
        early = retry_sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert early.run_requests == [] and "next attempt due" in early.skip_message

        monkeypatch.setattr(alert_assets, "_now", lambda: due + timedelta(seconds=1))
        [request] = retry_sensor.evaluate_tick(dg.build_sensor_context(instance=instance)).run_requests
        assert request.run_config == {"ops": {ALERTS_OP_NAME: {"config": {"evaluate": False}}}}

        # the requested delivery-only run: the asset reads the real clock, so make the row due instead of waiting
        # out the 60 s backoff
        with duckdb.connect(warehouse.path) as con:
            con.execute("update alerts.outbox set next_attempt_at = next_attempt_at - interval 2 minute")
        retry = _materialize(warehouse, alerting, instance, run_config=request.run_config)
        assert (retry["evaluated"], retry["delivered"], retry["pending_deliveries"]) == (False, 1, 0)
        assert [r.status for r in hook.requests] == [500, 200]

        after = retry_sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert after.run_requests == [] and after.skip_message == "no pending deliveries"


def test_metric_series_sensor_requests_alerts_only_when_the_run_did_not_evaluate_them() -> None:
    @dg.asset(key=METRIC_SERIES_KEY)
    def metric_series() -> None:
        return None

    @dg.asset(key=ALERTS_ASSET_KEY, deps=[metric_series])
    def alerts_stub() -> None:
        return None

    build_job = dg.define_asset_job("build_job", selection=[metric_series, alerts_stub])
    defs = dg.Definitions(assets=[metric_series, alerts_stub], jobs=[build_job])
    [sensor, *_] = build_alert_sensors({}, ["build_job", "alerts_job"])
    with dg.DagsterInstance.ephemeral() as instance:
        dg.materialize([metric_series], instance=instance)  # a dbt-only run, say
        first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))
        [request] = first.run_requests
        assert request.run_key.startswith("metric_series:")

        defs.resolve_job_def("build_job").execute_in_process(instance=instance)
        second = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs, cursor=first.cursor))
        assert second.run_requests == [] and "evaluates alerts itself" in second.skip_message


def test_failed_run_alerts_through_the_sinks_and_retries_from_the_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    @dg.asset
    def breaks() -> None:
        raise RuntimeError("upstream API returned garbage")

    [_, _, failure_sensor, _] = build_alert_sensors({}, [])
    alerting = _alerting(sinks={"log": {}, "webhook": {"url_env": HOOK_URL_ENV, "secret_env": HOOK_SECRET_ENV}})
    monkeypatch.setenv(HOOK_SECRET_ENV, "k")
    with dg.DagsterInstance.ephemeral() as instance, http_receiver([503, 200]) as hook:
        monkeypatch.setenv(HOOK_URL_ENV, f"{hook.url}/hook")

        def tick(cursor: str | None):
            context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"alerting": alerting})
            return failure_sensor.evaluate_tick(context)

        start = tick(None)  # watches from now on: earlier failures are not paged
        result = dg.materialize([breaks], instance=instance, raise_on_error=False)
        assert not result.success
        now = datetime.now(UTC)
        monkeypatch.setattr(alert_assets, "_now", lambda: now)
        second = tick(start.cursor)
        assert [r.status for r in hook.requests] == [503]
        assert len(json.loads(second.cursor)["queue"]) == 1, "the failed webhook delivery waits in the cursor"

        monkeypatch.setattr(alert_assets, "_now", lambda: now + timedelta(minutes=2))
        third = tick(second.cursor)
        assert [r.status for r in hook.requests] == [503, 200]
        assert json.loads(third.cursor)["queue"] == []
        payload = json.loads(hook.requests[1].body)
        assert (payload["kind"], payload["event_id"]) == ("pipeline", f"pipeline:{result.run_id}:failed")
        assert "Pipeline broken" in payload["title"] and payload["evidence"]["job_name"] == result.job_def.name

        tick(third.cursor)
        assert len(hook.requests) == 2, "one alert per failed run"


def test_stale_source_alerts_once_and_resolves_when_it_syncs(monkeypatch: pytest.MonkeyPatch) -> None:
    @dg.asset(key=RAW_PRS)
    def raw_prs() -> None:
        return None

    [_, _, _, freshness_sensor] = build_alert_sensors({"github": [RAW_PRS]}, [])
    alerting = _alerting(freshness_hours={"github": 3})
    real_now = datetime.now(UTC)
    with dg.DagsterInstance.ephemeral() as instance:

        def tick(cursor: str | None, at: datetime):
            monkeypatch.setattr(alert_assets, "_now", lambda: at)
            context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"alerting": alerting})
            return freshness_sensor.evaluate_tick(context)

        first = tick(None, real_now - timedelta(hours=10))  # never synced, but just installed: not stale yet
        assert json.loads(first.cursor)["stale"] == {}
        stale = tick(first.cursor, real_now - timedelta(hours=6))
        assert list(json.loads(stale.cursor)["stale"]) == ["github"]
        again = tick(stale.cursor, real_now - timedelta(hours=5))
        assert json.loads(again.cursor)["stale"]["github"] == json.loads(stale.cursor)["stale"]["github"]

        dg.materialize([raw_prs], instance=instance)
        fresh = tick(again.cursor, real_now + timedelta(hours=1))
        state = json.loads(fresh.cursor)
        assert state["stale"] == {} and state["occurrences"] == {"github": 1}


def test_freshness_events_open_once_and_resolve() -> None:
    state = SensorState()
    t0 = datetime(2026, 6, 1, tzinfo=UTC)
    synced = {"github": {"raw_github/pull_requests": t0, "raw_github/commits": t0 - timedelta(hours=2)}}
    assert freshness_tick(state, synced, {"github": 3}, t0 + timedelta(minutes=30)) == []
    [opened] = freshness_tick(state, synced, {"github": 3}, t0 + timedelta(minutes=90))
    assert opened["event_type"] == "opened" and list(opened["evidence"]["stale_streams"]) == ["raw_github/commits"]
    assert freshness_tick(state, synced, {"github": 3}, t0 + timedelta(hours=2)) == []
    synced["github"] = dict.fromkeys(synced["github"], t0 + timedelta(hours=2))
    [resolved] = freshness_tick(state, synced, {"github": 3}, t0 + timedelta(hours=3))
    assert resolved["event_id"] == "freshness:github:1:resolved"


def test_definitions_wire_alerts_into_the_build_job_with_sensors_on(tmp_path: Path) -> None:
    config = tmp_path / "techledger.yaml"
    config.write_text("sources:\n  github:\n    repos: [a/b]\n    token_env: null\n")
    defs = build_definitions(load_config(config))
    graph = defs.resolve_asset_graph()
    node = graph.get(ALERTS_ASSET_KEY)
    assert node.pools == {"duckdb_writer"}
    assert METRIC_SERIES_KEY in node.parent_keys and dg.AssetKey(["marts", "metric_catalog"]) in node.parent_keys
    build_job = defs.resolve_job_def("build_job")
    assert ALERTS_ASSET_KEY in build_job.asset_layer.executable_asset_keys
    assert ALERTS_ASSET_KEY in defs.resolve_job_def("alerts_job").asset_layer.executable_asset_keys
    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) >= {
        "metric_series_alerts_sensor",
        "alerts_delivery_retry_sensor",
        "pipeline_failure_sensor",
        "source_freshness_sensor",
    }
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in sensors.values())
    assert "cost_effective_usd" in graph.get(ALERTS_ASSET_KEY).description

    config.write_text("sources:\n  github:\n    repos: [a/b]\n    token_env: null\nalerts:\n  enabled: false\n")
    off = build_definitions(load_config(config))
    assert ALERTS_ASSET_KEY not in off.resolve_asset_graph().get_all_asset_keys()
    assert not [s for s in off.sensors if "alert" in s.name or "freshness" in s.name]
