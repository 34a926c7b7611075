"""Delivery to real local receivers: Slack and a signed webhook over HTTP, e-mail over SMTP (aiosmtpd); retries
with backoff across ticks, exactly one delivery per (event, sink), and no secret in any log or error."""

from __future__ import annotations

import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.alerting.engine import run_tick
from orchestration.alerting.outbox import RetryPolicy, deliver_queue, queue_entries
from orchestration.alerting.sinks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    DeliveryError,
    EmailSink,
    LogSink,
    SlackSink,
    WebhookSink,
    verify_signature,
)
from orchestration.config import AlertsConfig
from tests.orchestration.alerting.receivers import http_receiver, smtp_receiver
from tests.orchestration.alerting.series import CATALOG, noisy, rows, write_catalog, write_series

# the test SMTP server takes AUTH over plain TCP on loopback (no certificate to make); aiosmtpd warns about that
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

NOW = datetime(2026, 7, 1, 9, tzinfo=UTC)
SLACK_URL_ENV, HOOK_URL_ENV, HOOK_SECRET_ENV, SMTP_PASSWORD_ENV = (
    "TL_TEST_SLACK_URL",
    "TL_TEST_HOOK_URL",
    "TL_TEST_HOOK_SECRET",
    "TL_TEST_SMTP_PASSWORD",
)
SECRET = "hmac-key-that-must-never-be-logged"
SMTP_PASSWORD = "smtp-password-that-must-never-be-logged"
CONFIG = AlertsConfig(paired_rules=[], delivery={"base_seconds": 60, "max_seconds": 3600, "max_attempts": 3})


@pytest.fixture
def warehouse(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    write_catalog(con, CATALOG.values())
    values = noisy(10, 20, seed=31, cv=0.05) + noisy(16, 5, seed=32, cv=0.05)  # one regression
    write_series(con, rows("lead_time_p50_hours", "search", values))
    yield con
    con.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _outbox(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    return {
        sink: (status, attempts, next_at, error)
        for sink, status, attempts, next_at, error in con.execute(
            "select sink, status, attempts, next_attempt_at, last_error from alerts.outbox"
        ).fetchall()
    }


def test_slack_webhook_and_email_receive_the_alert(
    warehouse: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with http_receiver() as http, smtp_receiver("alerts", SMTP_PASSWORD) as smtp:
        monkeypatch.setenv(SLACK_URL_ENV, f"{http.url}/services/T000/B000/slack-token")
        monkeypatch.setenv(HOOK_URL_ENV, f"{http.url}/hook?token=url-secret")
        monkeypatch.setenv(HOOK_SECRET_ENV, SECRET)
        monkeypatch.setenv(SMTP_PASSWORD_ENV, SMTP_PASSWORD)
        sinks = [
            SlackSink(SLACK_URL_ENV),
            WebhookSink(HOOK_URL_ENV, HOOK_SECRET_ENV),
            EmailSink(
                smtp.host,
                smtp.port,
                "techledger@acme.example",
                ["leads@acme.example"],
                starttls=False,
                username="alerts",
                password_env=SMTP_PASSWORD_ENV,
            ),
            LogSink(),
        ]
        summary = run_tick(warehouse, CONFIG, sinks, NOW)

    assert (summary.opened, summary.delivered, summary.pending) == (1, 4, 0)
    [slack] = http.accepted("/services/T000/B000/slack-token")
    message = json.loads(slack.body)
    assert "Regression for team search: lead_time_p50_hours up" in message["text"]
    assert message["blocks"][0]["type"] == "section"

    [hook] = http.accepted("/hook?token=url-secret")
    assert verify_signature(hook.body, SECRET, hook.headers[SIGNATURE_HEADER])
    assert not verify_signature(hook.body + b" ", SECRET, hook.headers[SIGNATURE_HEADER]), "a tampered body fails"
    payload = json.loads(hook.body)
    assert payload["event_id"] == hook.headers[EVENT_ID_HEADER]
    assert (payload["kind"], payload["event_type"], payload["metric"]) == (
        "regression",
        "opened",
        "lead_time_p50_hours",
    )
    assert payload["evidence"]["test"] in ("level_shift", "trend") and len(payload["evidence"]["recent"]) == 4
    assert payload["metrics"][0]["why_it_exists"] == CATALOG["lead_time_p50_hours"].why_it_exists

    [email] = smtp.messages
    assert email["Subject"].startswith("[techledger] Regression for team search")
    assert email["To"] == "leads@acme.example" and smtp.logins == [("alerts", SMTP_PASSWORD)]
    body = email.get_payload(decode=True).decode()
    assert "Why it exists: How long finished work waits." in body and "baseline weeks" in body

    # our log lines at any level, other libraries' from INFO up (urllib3 prints request paths at DEBUG by design;
    # mail.log is the test SMTP server itself)
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("techledger") or (r.levelno >= logging.INFO and r.name != "mail.log")
    ]
    assert any("ALERT major [regression opened]" in line or "ALERT warning" in line for line in lines)
    logged = "\n".join(lines) + json.dumps(_outbox(warehouse), default=str)
    for secret in (SECRET, SMTP_PASSWORD, "slack-token", "url-secret"):
        assert secret not in logged


def test_a_sink_answering_500_is_retried_next_tick_and_delivered_exactly_once(
    warehouse: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    with http_receiver([500, 200]) as hook_server, http_receiver() as slack_server:
        monkeypatch.setenv(SLACK_URL_ENV, f"{slack_server.url}/slack")
        monkeypatch.setenv(HOOK_URL_ENV, f"{hook_server.url}/hook")
        monkeypatch.setenv(HOOK_SECRET_ENV, SECRET)
        sinks = [SlackSink(SLACK_URL_ENV), WebhookSink(HOOK_URL_ENV, HOOK_SECRET_ENV)]

        first = run_tick(warehouse, CONFIG, sinks, NOW)
        assert (first.opened, first.delivered, first.failed_attempts, first.pending) == (1, 1, 1, 1)
        assert first.next_attempt_at == NOW + timedelta(seconds=60)
        status, attempts, _, error = _outbox(warehouse)["webhook"]
        assert (status, attempts, error) == ("pending", 1, "webhook: HTTP 500 server error")

        early = run_tick(warehouse, CONFIG, sinks, NOW + timedelta(seconds=30))  # not due yet: no request
        assert (early.delivered, early.failed_attempts, early.pending) == (0, 0, 1)
        assert len(hook_server.requests) == 1

        second = run_tick(warehouse, CONFIG, sinks, NOW + timedelta(seconds=61))
        assert (second.opened, second.delivered, second.pending) == (0, 1, 0)
        third = run_tick(warehouse, CONFIG, sinks, NOW + timedelta(hours=1))
        assert (third.opened, third.delivered, third.pending) == (0, 0, 0)

    assert [r.status for r in hook_server.requests] == [500, 200]
    assert hook_server.requests[0].body == hook_server.requests[1].body, "a retry sends the same signed bytes"
    assert len(slack_server.requests) == 1, "the sink that worked is never asked again"
    assert {sink: row[:2] for sink, row in _outbox(warehouse).items()} == {
        "slack": ("delivered", 1),
        "webhook": ("delivered", 2),
    }


def test_backoff_doubles_and_gives_up_without_losing_the_alert(
    warehouse: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    with http_receiver([500]) as server:
        monkeypatch.setenv(SLACK_URL_ENV, f"{server.url}/slack")
        sinks = [SlackSink(SLACK_URL_ENV)]
        run_tick(warehouse, CONFIG, sinks, NOW)
        assert _outbox(warehouse)["slack"][2] == NOW + timedelta(seconds=60)
        run_tick(warehouse, CONFIG, sinks, NOW + timedelta(seconds=60), evaluate=False)
        assert _outbox(warehouse)["slack"][2] == NOW + timedelta(seconds=60 + 120)
        last = run_tick(warehouse, CONFIG, sinks, NOW + timedelta(seconds=180), evaluate=False)
        assert (last.failed_total, last.pending) == (1, 0)
        assert _outbox(warehouse)["slack"][:2] == ("failed", 3)
        assert len(server.requests) == 3
    assert warehouse.execute("select status from alerts.alerts").fetchone() == ("open",)
    assert warehouse.execute("select count(*) from alerts.events").fetchone()[0] == 1


def test_a_missing_secret_is_named_and_the_delivery_waits_for_it(
    warehouse: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(HOOK_URL_ENV, raising=False)
    monkeypatch.setenv(HOOK_SECRET_ENV, SECRET)
    sinks = [WebhookSink(HOOK_URL_ENV, HOOK_SECRET_ENV), LogSink()]
    first = run_tick(warehouse, CONFIG, sinks, NOW)
    assert (first.delivered, first.pending) == (1, 1)
    assert _outbox(warehouse)["webhook"][3] == f"webhook URL: environment variable {HOOK_URL_ENV} is not set"
    with http_receiver() as server:
        monkeypatch.setenv(HOOK_URL_ENV, f"{server.url}/hook")
        later = run_tick(warehouse, CONFIG, sinks, NOW + timedelta(minutes=2))
        assert (later.delivered, later.pending) == (1, 0)
        assert len(server.accepted("/hook")) == 1


def test_an_unreachable_sink_never_blocks_the_others(
    warehouse: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    closed = f"http://127.0.0.1:{_free_port()}/hook/secret-path"
    monkeypatch.setenv(HOOK_URL_ENV, closed)
    monkeypatch.setenv(HOOK_SECRET_ENV, SECRET)
    with http_receiver() as slack_server:
        monkeypatch.setenv(SLACK_URL_ENV, f"{slack_server.url}/slack")
        summary = run_tick(
            warehouse, CONFIG, [WebhookSink(HOOK_URL_ENV, HOOK_SECRET_ENV), SlackSink(SLACK_URL_ENV)], NOW
        )
        assert (summary.delivered, summary.pending) == (1, 1)
        assert len(slack_server.accepted("/slack")) == 1
    error = _outbox(warehouse)["webhook"][3]
    assert error == "webhook: ConnectionError (no response)"
    assert "secret-path" not in caplog.text and "secret-path" not in " ".join(summary.delivery_errors)


def test_starttls_against_a_server_without_it_fails_cleanly() -> None:
    with smtp_receiver() as smtp:
        sink = EmailSink(smtp.host, smtp.port, "a@acme.example", ["b@acme.example"], starttls=True)
        with pytest.raises(DeliveryError, match=r"smtp 127\.0\.0\.1:\d+: SMTPNotSupportedError"):
            sink.send({"event_id": "e", "title": "t", "summary": "s", "event_type": "opened", "occurred_at": "now"})
        assert smtp.messages == []


def test_the_sensors_queue_retries_a_failing_sink_and_drops_delivered_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    payload = {
        "event_id": "pipeline:run-1:failed",
        "event_type": "opened",
        "kind": "pipeline",
        "title": "Pipeline broken",
        "summary": "s",
        "severity": "critical",
        "occurred_at": NOW.isoformat(),
    }
    policy = RetryPolicy(base_seconds=60, max_seconds=600, max_attempts=5)
    with http_receiver([503, 200]) as server:
        monkeypatch.setenv(SLACK_URL_ENV, f"{server.url}/slack")
        sinks = [SlackSink(SLACK_URL_ENV), LogSink()]
        queue = queue_entries(payload, sinks, NOW)
        queue, stats = deliver_queue(queue, sinks, NOW, policy)
        assert (stats.delivered, stats.pending, [e["sink"] for e in queue]) == (1, 1, ["slack"])
        queue, stats = deliver_queue(queue, sinks, NOW + timedelta(seconds=10), policy)
        assert (stats.delivered, len(server.requests)) == (0, 1), "not due yet"
        queue, stats = deliver_queue(queue, sinks, NOW + timedelta(seconds=60), policy)
        assert (stats.delivered, queue) == (1, [])
    assert [r.status for r in server.requests] == [503, 200]
