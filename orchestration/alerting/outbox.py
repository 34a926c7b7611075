"""The outbox: every alert event is queued once per sink and delivered with retries across ticks.

Why an outbox: the lifecycle change and the delivery must not be able to disagree. The event and one outbox row
per sink are written in the same transaction as the alert state, and each delivery outcome is committed right
after its attempt. So a crash never loses an event (it is pending until a sink accepted it) and a sink that
accepted it is never asked again (its row says delivered). A failing sink only moves its own row's
``next_attempt_at`` out, with exponential backoff (``base x 2^(attempts-1)``, capped); the other sinks are not
held up. After ``max_attempts`` the row is marked ``failed`` and kept (visible in Dagster metadata and in
``alerts.outbox``), never deleted.

"Exactly once per (event, sink)" holds for every outcome we can observe. If a process dies between a sink's
200 and our commit, that one delivery is repeated; sinks therefore get a stable ``event_id`` (the JSON body, the
``X-Techledger-Event-Id`` header) to de-duplicate on.

The same attempt logic serves the sensors' queues (failed runs, stale sources), which live in the Dagster sensor
cursor because a sensor must never open the DuckDB file (``deliver_queue``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from orchestration.alerting.lifecycle import AlertEvent
from orchestration.alerting.sinks import DeliveryError, Sink

log = logging.getLogger("techledger.alerts")


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff between attempts of one delivery (techledger.yaml ``alerts.delivery``)."""

    base_seconds: float = 60.0
    max_seconds: float = 6 * 3600.0
    max_attempts: int = 20

    def delay(self, attempts: int) -> timedelta:
        """Wait after the ``attempts``-th failed attempt: base, 2xbase, 4xbase ... up to max_seconds."""
        return timedelta(seconds=min(self.base_seconds * 2 ** max(attempts - 1, 0), self.max_seconds))


@dataclass
class DeliveryStats:
    """What one delivery pass did, and what is left (for Dagster metadata and the retry sensor)."""

    delivered: int = 0
    failed_attempts: int = 0
    gave_up: int = 0
    pending: int = 0
    failed_total: int = 0
    next_attempt_at: datetime | None = None
    errors: list[str] = field(default_factory=list)


def queue_events(
    con: duckdb.DuckDBPyConnection, events: Iterable[AlertEvent], sinks: Sequence[Sink], now: datetime
) -> int:
    """One pending outbox row per (event, sink that takes this kind of event); returns rows queued."""
    queued = 0
    for event in events:
        for sink in sinks:
            if not sink.accepts(event.kind, event.event_type):
                continue
            con.execute(
                "insert or ignore into alerts.outbox (event_id, sink, status, attempts, created_at, next_attempt_at) "
                "values (?, ?, 'pending', 0, ?, ?)",
                [event.event_id, sink.name, now, now],
            )
            queued += 1
    return queued


def _attempt(sink: Sink, payload: Mapping[str, Any]) -> str | None:
    """Send once; the error text (already free of secrets) or None on success."""
    try:
        sink.send(payload)
    except DeliveryError as exc:
        return str(exc)
    except Exception as exc:  # a sink bug must not stop the other deliveries; the class name is safe to show
        return f"{sink.name}: unexpected {type(exc).__name__}"
    return None


def deliver_due(
    con: duckdb.DuckDBPyConnection, sinks: Sequence[Sink], now: datetime, policy: RetryPolicy
) -> DeliveryStats:
    """Attempt every pending outbox row whose ``next_attempt_at`` has come; commit each outcome on its own."""
    by_name = {sink.name: sink for sink in sinks}
    stats = DeliveryStats()
    due = con.execute(
        """
        select o.event_id, o.sink, o.attempts, e.payload
        from alerts.outbox o join alerts.events e using (event_id)
        where o.status = 'pending' and o.next_attempt_at <= ?
        order by e.period, e.occurred_at,
                 case e.event_type when 'opened' then 0 when 'escalated' then 1 else 2 end, o.event_id, o.sink
        """,
        [now],
    ).fetchall()
    for event_id, sink_name, attempts, payload in due:
        sink = by_name.get(sink_name)
        if sink is None:
            con.execute(
                "update alerts.outbox set status = 'skipped', last_error = ?, last_attempt_at = ? "
                "where event_id = ? and sink = ?",
                [f"sink '{sink_name}' is no longer configured", now, event_id, sink_name],
            )
            continue
        error = _attempt(sink, json.loads(payload))
        attempts += 1
        if error is None:
            con.execute(
                "update alerts.outbox set status = 'delivered', attempts = ?, last_attempt_at = ?, delivered_at = ?, "
                "last_error = null where event_id = ? and sink = ?",
                [attempts, now, now, event_id, sink_name],
            )
            stats.delivered += 1
            continue
        stats.failed_attempts += 1
        stats.errors.append(f"{event_id} → {sink_name}: {error}")
        if attempts >= policy.max_attempts:
            status, next_at = "failed", now
            stats.gave_up += 1
            log.error("alert delivery %s → %s gave up after %d attempts: %s", event_id, sink_name, attempts, error)
        else:
            status, next_at = "pending", now + policy.delay(attempts)
            log.warning(
                "alert delivery %s → %s failed (attempt %d), retry at %s: %s",
                event_id,
                sink_name,
                attempts,
                next_at.isoformat(),
                error,
            )
        con.execute(
            "update alerts.outbox set status = ?, attempts = ?, last_attempt_at = ?, next_attempt_at = ?, "
            "last_error = ? where event_id = ? and sink = ?",
            [status, attempts, now, next_at, error[:500], event_id, sink_name],
        )
    pending, next_at = con.execute(
        "select count(*), min(next_attempt_at) from alerts.outbox where status = 'pending'"
    ).fetchone()
    stats.pending = int(pending)
    stats.next_attempt_at = next_at
    stats.failed_total = int(con.execute("select count(*) from alerts.outbox where status = 'failed'").fetchone()[0])
    return stats


# -- the sensors' queue (kept in the sensor cursor; no database) -------------------------------------------------


def queue_entries(payload: Mapping[str, Any], sinks: Sequence[Sink], now: datetime) -> list[dict[str, Any]]:
    """Outbox entries for one operational event, as JSON-able dicts for a sensor cursor."""
    return [
        {
            "event_id": payload["event_id"],
            "sink": sink.name,
            "attempts": 0,
            "next_attempt_at": now.isoformat(),
            "payload": dict(payload),
        }
        for sink in sinks
        if sink.accepts(payload["kind"], payload["event_type"])
    ]


def deliver_queue(
    entries: Sequence[Mapping[str, Any]], sinks: Sequence[Sink], now: datetime, policy: RetryPolicy
) -> tuple[list[dict[str, Any]], DeliveryStats]:
    """Attempt the due entries; returns the entries still pending (delivered and given-up ones leave the queue;
    a give-up is logged as an error) and what happened."""
    by_name = {sink.name: sink for sink in sinks}
    remaining: list[dict[str, Any]] = []
    stats = DeliveryStats()
    for entry in entries:
        entry = dict(entry)
        sink = by_name.get(entry["sink"])
        if sink is None:
            log.error("alert %s: sink '%s' is no longer configured; dropped", entry["event_id"], entry["sink"])
            continue
        if datetime.fromisoformat(entry["next_attempt_at"]) > now:
            remaining.append(entry)
            continue
        error = _attempt(sink, entry["payload"])
        entry["attempts"] += 1
        if error is None:
            stats.delivered += 1
            continue
        stats.failed_attempts += 1
        stats.errors.append(f"{entry['event_id']} → {entry['sink']}: {error}")
        if entry["attempts"] >= policy.max_attempts:
            stats.gave_up += 1
            log.error(
                "alert %s → %s gave up after %d attempts: %s",
                entry["event_id"],
                entry["sink"],
                entry["attempts"],
                error,
            )
            continue
        entry["next_attempt_at"] = (now + policy.delay(entry["attempts"])).isoformat()
        entry["last_error"] = error[:500]
        remaining.append(entry)
    stats.pending = len(remaining)
    if remaining:
        stats.next_attempt_at = min(datetime.fromisoformat(e["next_attempt_at"]) for e in remaining)
    return remaining, stats
