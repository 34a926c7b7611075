"""Alert lifecycle: opened once, escalated when it worsens, resolved when back to baseline — never a repeat.

An alert is keyed by its **fingerprint** (metric, scope, kind). A detection tick produces findings; for each:

- no alert, or a resolved one → **opened** (a resolved alert re-opens as its next *occurrence*);
- already open → nothing to say, unless it got worse: its change, measured against the baseline recorded
  when it *opened* (the trailing baseline drifts with the change itself), crossed the next severity step
  (2x and 4x the practical threshold) → **escalated**. Improvements are not escalated.

An open alert that the tick did not find again is **resolved** when its recent level is back within
``resolve_fraction`` x threshold of that opening baseline (hysteresis, so it does not flap). An alert whose series
has too little data this week is left as it is. The same data evaluated twice gives the same state and no
event: that is what makes a tick idempotent.

Each event has a deterministic id (fingerprint, occurrence, type, severity), so it is stored once in
``alerts.events`` and queued once per sink in ``alerts.outbox`` (see outbox.py). The pure ``advance`` function is
what the harness measures; ``AlertStore`` persists it in the DuckDB schema ``alerts``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import duckdb

from orchestration.alerting.catalog import MetricDefinition
from orchestration.alerting.detection import Component, DetectionResult, Evaluation, Finding, SeriesKey, finite
from orchestration.alerting.messages import build_payload

ESCALATION_STEPS = (2.0, 4.0)  # severity 2 from 2x the threshold, 3 from 4x


def fingerprint(metric: str, scope_type: str, scope_key: str, kind: str) -> str:
    """Stable id of an alert: the same metric, scope and kind is always the same alert."""
    return hashlib.sha256(f"{metric}\x1f{scope_type}\x1f{scope_key}\x1f{kind}".encode()).hexdigest()[:24]


def severity_of(strength: float) -> int:
    return 1 + sum(1 for step in ESCALATION_STEPS if strength >= step)


@dataclass
class Alert:
    fingerprint: str
    kind: str
    metric: str
    scope_type: str
    scope_key: str
    direction: str
    rule: str | None
    status: str  # open | resolved
    severity: int
    occurrence: int
    opened_at: datetime
    updated_at: datetime
    opened_period: date
    last_period: date
    components: list[dict[str, Any]]
    strength_at_open: float
    current_strength: float
    peak_strength: float
    evidence: dict[str, Any]
    title: str = ""
    escalated_at: datetime | None = None
    resolved_at: datetime | None = None

    def as_payload_source(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "kind": self.kind,
            "metric": self.metric,
            "scope_type": self.scope_type,
            "scope_key": self.scope_key,
            "direction": self.direction,
            "rule": self.rule,
            "severity": self.severity,
            "last_period": self.last_period.isoformat(),
            "components": self.components,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class AlertEvent:
    event_id: str
    fingerprint: str
    event_type: str  # opened | escalated | resolved
    kind: str
    occurrence: int
    severity: int
    period: date
    occurred_at: datetime
    payload: dict[str, Any] = field(repr=False)


def _event_id(alert: Alert, event_type: str) -> str:
    suffix = f":{alert.severity}" if event_type == "escalated" else ""
    return f"{alert.fingerprint}:{alert.occurrence}:{event_type}{suffix}"


def _current_values(alert: Alert, evaluations: Mapping[SeriesKey, Evaluation]) -> list[float] | None:
    """Each component's recent median this tick, or None when any of them could not be evaluated."""
    values = []
    for component in alert.components:
        evaluation = evaluations.get((component["metric"], alert.scope_type, alert.scope_key))
        if evaluation is None or evaluation.status != "ok" or evaluation.recent_median is None:
            return None
        values.append(evaluation.recent_median)
    return values


def _strength(alert: Alert, currents: Sequence[float]) -> float:
    return min(Component.from_dict(c).strength(v) for c, v in zip(alert.components, currents, strict=True))


def _is_recovery(finding: Finding, alerts: Iterable[Alert], as_of: date, memory_weeks: int) -> bool:
    """A move back to where an opposite alert of the same metric and scope started is its recovery (reported by
    resolving that alert), not news of its own: a lead time that returns to normal after a regression is not an
    "improvement" to celebrate, because the trailing baseline still holds the bad weeks."""
    if finding.kind not in ("regression", "improvement"):
        return False
    opposite = "improvement" if finding.kind == "regression" else "regression"
    [component] = finding.components
    for alert in alerts:
        if (alert.kind, alert.metric, alert.scope_type, alert.scope_key) != (
            opposite,
            finding.metric,
            finding.scope_type,
            finding.scope_key,
        ):
            continue
        if alert.status != "open" and (as_of - alert.last_period).days > 7 * memory_weeks:
            continue
        old = Component.from_dict(alert.components[0])
        if abs(old.strength(component.current_value)) < 1.0:  # within one threshold of the old baseline
            return True
    return False


def advance(
    alerts: Mapping[str, Alert],
    result: DetectionResult,
    now: datetime,
    catalog: Mapping[str, MetricDefinition],
    resolve_fraction: float = 0.5,
    memory_weeks: int = 16,
) -> tuple[dict[str, Alert], list[AlertEvent]]:
    """One tick: the new state of every alert touched and the events to deliver (pure; no I/O).

    ``memory_weeks``: how long after an alert was last seen its baseline still explains a move back (the
    trailing baseline holds the bad weeks that long, usually recent + baseline weeks)."""
    if result.as_of is None:
        return {}, []
    changed: dict[str, Alert] = {}
    events: list[AlertEvent] = []

    def emit(alert: Alert, event_type: str, currents: Sequence[float] | None = None) -> None:
        event_id = _event_id(alert, event_type)
        payload = build_payload(
            event_id=event_id,
            event_type=event_type,
            occurred_at=now.isoformat(),
            alert={**alert.as_payload_source()},
            catalog=catalog,
            currents=currents,
        )
        alert.title = payload["title"] if event_type == "opened" else alert.title
        events.append(
            AlertEvent(
                event_id,
                alert.fingerprint,
                event_type,
                alert.kind,
                alert.occurrence,
                alert.severity,
                result.as_of,
                now,
                payload,
            )
        )

    found = {fingerprint(f.metric, f.scope_type, f.scope_key, f.kind): f for f in result.findings}

    # 1. open alerts: escalate when worse than at opening, resolve when back to the opening baseline
    for fp, existing in alerts.items():
        if existing.status != "open":
            continue
        currents = _current_values(existing, result.evaluations)
        if currents is None:
            continue
        alert = replace(existing, components=[dict(c) for c in existing.components])
        strength = _strength(alert, currents)
        finding = found.get(fp)
        if finding is None and strength < resolve_fraction:
            alert.status = "resolved"
            alert.resolved_at = now
            alert.updated_at = now
            alert.last_period = result.as_of
            alert.current_strength = finite(strength) or 0.0
            changed[fp] = alert
            emit(alert, "resolved", currents)
            continue
        if alert.last_period == result.as_of and finite(strength) == finite(alert.current_strength):
            continue  # the same week evaluated again: nothing new
        alert.last_period = result.as_of
        alert.updated_at = now
        alert.current_strength = finite(strength) or 0.0
        alert.peak_strength = max(alert.peak_strength, alert.current_strength)
        if finding is not None:
            alert.evidence = finding.evidence
        changed[fp] = alert
        new_severity = severity_of(strength)
        if alert.kind != "improvement" and new_severity > alert.severity:
            alert.severity = new_severity
            alert.escalated_at = now
            emit(alert, "escalated", currents)

    # 2. findings without an open alert: open (or re-open as the next occurrence), unless it is a recovery
    current = {**alerts, **changed}
    for fp, finding in found.items():
        existing = current.get(fp)
        if existing is not None and existing.status == "open":
            continue
        if _is_recovery(finding, current.values(), result.as_of, memory_weeks):
            continue
        strength = finding.strength
        alert = Alert(
            fingerprint=fp,
            kind=finding.kind,
            metric=finding.metric,
            scope_type=finding.scope_type,
            scope_key=finding.scope_key,
            direction=finding.direction,
            rule=finding.rule,
            status="open",
            severity=severity_of(strength),
            occurrence=(existing.occurrence + 1) if existing is not None else 1,
            opened_at=now,
            updated_at=now,
            opened_period=result.as_of,
            last_period=result.as_of,
            components=[c.to_dict() for c in finding.components],
            strength_at_open=finite(strength) or 0.0,
            current_strength=finite(strength) or 0.0,
            peak_strength=finite(strength) or 0.0,
            evidence=finding.evidence,
        )
        changed[fp] = alert
        emit(alert, "opened")
    return changed, events


# -- persistence -----------------------------------------------------------------------------------------------

SCHEMA_SQL = """
create schema if not exists alerts;
create table if not exists alerts.alerts (
    fingerprint varchar primary key,
    kind varchar not null,
    metric varchar not null,
    scope_type varchar not null,
    scope_key varchar not null,
    direction varchar,
    rule varchar,
    status varchar not null,
    severity integer not null,
    occurrence integer not null,
    opened_at timestamptz not null,
    updated_at timestamptz not null,
    escalated_at timestamptz,
    resolved_at timestamptz,
    opened_period date,
    last_period date,
    strength_at_open double,
    current_strength double,
    peak_strength double,
    title varchar,
    components json,
    evidence json
);
create table if not exists alerts.events (
    event_id varchar primary key,
    fingerprint varchar not null,
    event_type varchar not null,
    kind varchar not null,
    occurrence integer not null,
    severity integer not null,
    period date,
    occurred_at timestamptz not null,
    title varchar,
    payload json not null
);
create table if not exists alerts.outbox (
    event_id varchar not null,
    sink varchar not null,
    status varchar not null,
    attempts integer not null default 0,
    created_at timestamptz not null,
    next_attempt_at timestamptz not null,
    last_attempt_at timestamptz,
    delivered_at timestamptz,
    last_error varchar,
    primary key (event_id, sink)
);
create table if not exists alerts.evaluations (
    period_start date primary key,
    evaluated_at timestamptz not null
);
"""

TABLE_COMMENTS = {
    "alerts": "One row per alert fingerprint (metric, scope, kind): status open/resolved, severity, the baseline "
    "it is measured against (components) and the latest evidence.",
    "events": "Every lifecycle event (opened, escalated, resolved) once, with the payload delivered to the sinks.",
    "outbox": "One row per (event, sink): pending, delivered, failed (gave up after max attempts) or skipped; "
    "attempts and next_attempt_at implement the retry backoff.",
    "evaluations": "Weeks of marts.metric_series the engine has evaluated (a tick catches up on the weeks since the "
    "last one).",
}

_ALERT_COLUMNS = (
    "fingerprint",
    "kind",
    "metric",
    "scope_type",
    "scope_key",
    "direction",
    "rule",
    "status",
    "severity",
    "occurrence",
    "opened_at",
    "updated_at",
    "escalated_at",
    "resolved_at",
    "opened_period",
    "last_period",
    "strength_at_open",
    "current_strength",
    "peak_strength",
    "title",
    "components",
    "evidence",
)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA_SQL)
    for table, comment in TABLE_COMMENTS.items():
        con.execute(f"comment on table alerts.{table} is '{comment.replace(chr(39), chr(39) * 2)}'")


def load_alerts(con: duckdb.DuckDBPyConnection) -> dict[str, Alert]:
    rows = con.execute(f"select {', '.join(_ALERT_COLUMNS)} from alerts.alerts").fetchall()
    alerts = {}
    for row in rows:
        data = dict(zip(_ALERT_COLUMNS, row, strict=True))
        data["components"] = json.loads(data["components"])
        data["evidence"] = json.loads(data["evidence"])
        alerts[data["fingerprint"]] = Alert(**data)
    return alerts


def save(con: duckdb.DuckDBPyConnection, alerts: Sequence[Alert], events: Sequence[AlertEvent]) -> list[AlertEvent]:
    """Upsert the changed alerts and insert the events; returns the events that were new (not stored before).
    Call inside a transaction together with queueing the outbox rows."""
    placeholders = ", ".join("?" for _ in _ALERT_COLUMNS)
    for alert in alerts:
        values = [getattr(alert, c) for c in _ALERT_COLUMNS]
        values[_ALERT_COLUMNS.index("components")] = json.dumps(alert.components)
        values[_ALERT_COLUMNS.index("evidence")] = json.dumps(alert.evidence)
        con.execute(
            f"insert or replace into alerts.alerts ({', '.join(_ALERT_COLUMNS)}) values ({placeholders})", values
        )
    new = []
    for event in events:
        exists = con.execute("select 1 from alerts.events where event_id = ?", [event.event_id]).fetchone()
        if exists:
            continue
        con.execute(
            "insert into alerts.events values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                event.event_id,
                event.fingerprint,
                event.event_type,
                event.kind,
                event.occurrence,
                event.severity,
                event.period,
                event.occurred_at,
                event.payload["title"],
                json.dumps(event.payload),
            ],
        )
        new.append(event)
    return new
