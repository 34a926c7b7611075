"""Where alerts go: Slack incoming webhook, a generic signed JSON webhook, e-mail over SMTP, and the log.

Secrets (webhook URLs, the HMAC key, the SMTP password) are read from the environment variables the config
names, at send time: a missing variable is a failed delivery that names the *variable* (and is retried, so
setting it later delivers the alert), never a crash and never the value. Error texts are built from status codes
and exception class names, and any secret value that still slipped into a text is masked before it is logged
or stored.

**Verifying the webhook signature.** Each webhook POST carries the header ``X-Techledger-Signature-256`` with
``sha256=<hex>``, the HMAC-SHA256 of the raw request body (bytes as received) keyed with the shared secret
(UTF-8). A receiver recomputes it over the body *before* parsing the JSON and compares in constant time::

    expected = "sha256=" + hmac.new(secret.encode(), request_body, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(expected, request.headers["X-Techledger-Signature-256"])

``X-Techledger-Event-Id`` (also ``event_id`` in the body) is stable across retries: de-duplicate on it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import smtplib
import ssl
from collections.abc import Collection, Mapping
from email.message import EmailMessage
from typing import Any, Protocol

import requests

from orchestration.alerting.messages import text_lines

SIGNATURE_HEADER = "X-Techledger-Signature-256"
EVENT_ID_HEADER = "X-Techledger-Event-Id"
EVENT_TYPE_HEADER = "X-Techledger-Event"
ALL_KINDS = frozenset({"regression", "improvement", "paired", "pipeline", "freshness"})
USER_AGENT = "techledger-alerts/1"


class DeliveryError(Exception):
    """A delivery attempt failed; the message is safe to log (no secret in it)."""


class Sink(Protocol):
    name: str

    def accepts(self, kind: str, event_type: str) -> bool: ...

    def send(self, payload: Mapping[str, Any]) -> None: ...


def _secret(env_name: str | None, what: str) -> str:
    if not env_name:
        raise DeliveryError(f"{what}: no environment variable is configured")
    value = os.environ.get(env_name)
    if not value:
        raise DeliveryError(f"{what}: environment variable {env_name} is not set")
    return value


def _mask(text: str, secrets: Collection[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def canonical_body(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact, key-sorted JSON, so a retry sends the same bytes."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, secret: str, header_value: str) -> bool:
    """What a receiver does (used by our tests): constant-time comparison of the recomputed signature."""
    return hmac.compare_digest(sign(body, secret), header_value or "")


class _BaseSink:
    def __init__(self, name: str, kinds: Collection[str] | None = None) -> None:
        self.name = name
        self.kinds = frozenset(kinds) if kinds else ALL_KINDS

    def accepts(self, kind: str, event_type: str) -> bool:
        return kind in self.kinds


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float, what: str, secrets: Collection[str]) -> None:
    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:  # its str() contains the URL: never shown
        raise DeliveryError(f"{what}: {type(exc).__name__} (no response)") from None
    if not 200 <= response.status_code < 300:
        detail = _mask(response.text[:200].strip(), secrets)
        raise DeliveryError(f"{what}: HTTP {response.status_code} {detail}".rstrip())


class SlackSink(_BaseSink):
    """Slack incoming webhook (https://api.slack.com/messaging/webhooks): ``text`` plus Block Kit blocks."""

    def __init__(self, webhook_url_env: str, timeout_seconds: float = 10.0, kinds: Collection[str] | None = None):
        super().__init__("slack", kinds)
        self.webhook_url_env = webhook_url_env
        self.timeout_seconds = timeout_seconds

    @staticmethod
    def message(payload: Mapping[str, Any]) -> dict[str, Any]:
        emoji = {"improvement": ":tada:", "pipeline": ":rotating_light:", "freshness": ":hourglass:"}.get(
            payload["kind"], ":chart_with_downwards_trend:"
        )
        if payload["event_type"] == "resolved":
            emoji = ":white_check_mark:"
        lines = text_lines(payload)
        details = "\n".join(lines[2:-1]).strip()[:2900]
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{emoji} *{payload['title']}*"}},
        ]
        if details:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": details}})
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"{payload['severity']} · event `{payload['event_id']}`"}],
            }
        )
        return {"text": f"{emoji} {payload['title']}", "blocks": blocks}

    def send(self, payload: Mapping[str, Any]) -> None:
        url = _secret(self.webhook_url_env, "slack webhook URL")
        body = canonical_body(self.message(payload))
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        _post(url, body, headers, self.timeout_seconds, "slack", [url])


class WebhookSink(_BaseSink):
    """Generic JSON webhook: the payload as the body, HMAC-SHA256 of the body in ``X-Techledger-Signature-256``."""

    def __init__(
        self,
        url_env: str,
        secret_env: str,
        timeout_seconds: float = 10.0,
        kinds: Collection[str] | None = None,
    ):
        super().__init__("webhook", kinds)
        self.url_env = url_env
        self.secret_env = secret_env
        self.timeout_seconds = timeout_seconds

    def send(self, payload: Mapping[str, Any]) -> None:
        url = _secret(self.url_env, "webhook URL")
        secret = _secret(self.secret_env, "webhook signing secret")
        body = canonical_body(payload)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(body, secret),
            EVENT_ID_HEADER: str(payload["event_id"]),
            EVENT_TYPE_HEADER: f"{payload['kind']}.{payload['event_type']}",
        }
        _post(url, body, headers, self.timeout_seconds, "webhook", [url, secret])


class EmailSink(_BaseSink):
    """Plain-text e-mail over SMTP (smtplib), STARTTLS when configured, login when a user is configured."""

    def __init__(
        self,
        host: str,
        port: int,
        from_address: str,
        to_addresses: Collection[str],
        starttls: bool = True,
        username: str | None = None,
        password_env: str | None = None,
        timeout_seconds: float = 10.0,
        kinds: Collection[str] | None = None,
    ):
        super().__init__("email", kinds)
        self.host = host
        self.port = port
        self.from_address = from_address
        self.to_addresses = list(to_addresses)
        self.starttls = starttls
        self.username = username
        self.password_env = password_env
        self.timeout_seconds = timeout_seconds

    def message(self, payload: Mapping[str, Any]) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = f"[techledger] {payload['title']}"[:250]
        message["From"] = self.from_address
        message["To"] = ", ".join(self.to_addresses)
        message["X-Techledger-Event-Id"] = str(payload["event_id"])
        message.set_content("\n".join(text_lines(payload)) + "\n")
        return message

    def send(self, payload: Mapping[str, Any]) -> None:
        password = _secret(self.password_env, "smtp password") if self.username else None
        where = f"smtp {self.host}:{self.port}"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self.username and password:
                    smtp.login(self.username, password)
                smtp.send_message(self.message(payload))
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"{where}: {type(exc).__name__} {exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{where}: {type(exc).__name__}") from None


class LogSink(_BaseSink):
    """The log (Dagster's run log when a logger is given): always available, the default sink."""

    def __init__(self, logger: logging.Logger | Any | None = None, kinds: Collection[str] | None = None):
        super().__init__("log", kinds)
        self.logger = logger or logging.getLogger("techledger.alerts")

    def send(self, payload: Mapping[str, Any]) -> None:
        line = f"ALERT {payload['severity']} [{payload['kind']} {payload['event_type']}] {payload['title']}"
        if payload["kind"] == "improvement" or payload["event_type"] == "resolved":
            self.logger.info(line)
        else:
            self.logger.warning(line)


def build_sinks(sinks_config: Any, logger: logging.Logger | Any | None = None) -> list[Sink]:
    """The configured sinks (``alerts.sinks`` of techledger.yaml); unconfigured ones are simply absent."""
    sinks: list[Sink] = []
    if sinks_config.log is not None:
        sinks.append(LogSink(logger, sinks_config.log.kinds))
    if sinks_config.slack is not None:
        c = sinks_config.slack
        sinks.append(SlackSink(c.webhook_url_env, c.timeout_seconds, c.kinds))
    if sinks_config.webhook is not None:
        c = sinks_config.webhook
        sinks.append(WebhookSink(c.url_env, c.secret_env, c.timeout_seconds, c.kinds))
    if sinks_config.email is not None:
        c = sinks_config.email
        sinks.append(
            EmailSink(
                host=c.host,
                port=c.port,
                from_address=c.from_address,
                to_addresses=c.to_addresses,
                starttls=c.starttls,
                username=c.username,
                password_env=c.password_env,
                timeout_seconds=c.timeout_seconds,
                kinds=c.kinds,
            )
        )
    return sinks
