"""What an alert event says: one JSON-able payload per event, from which every sink renders its format.

The payload is built once, when the event is recorded, and stored in ``alerts.events``; retries send the very
same bytes, so a receiver can de-duplicate on ``event_id``. It says *what* changed (metric, scope, direction,
from → to), *how sure* we are (test, p-value, the weekly values) and *why it matters* (the catalogue's
description, why the metric exists, its owner).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from orchestration.alerting.catalog import MetricDefinition

SEVERITY_LABELS = {1: "warning", 2: "major", 3: "critical"}
EVENT_VERBS = {"opened": "", "escalated": "Escalated: ", "resolved": "Resolved: "}


def severity_label(kind: str, severity: int) -> str:
    if kind == "improvement":
        return "celebrate"
    return SEVERITY_LABELS.get(severity, "warning")


def _number(value: float | None, unit: str) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if "usd" in unit.lower() or unit.startswith("$"):
        return f"${value:,.0f}"
    if unit in ("ratio", "share"):
        return f"{value:.1%}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"


def describe_change(component: Mapping[str, Any], unit: str, current: float | None = None) -> str:
    """e.g. 'up 92% (4.0 → 7.7 hours per PR)' or 'up 12.0 pp (5.0% → 17.0%)'."""
    baseline = component["baseline_value"]
    value = component["current_value"] if current is None else current
    if baseline is None or value is None:
        return "changed"
    verb = "up" if value >= baseline else "down"
    if component["threshold_type"] == "absolute":
        delta = abs(value - baseline)
        amount = f"{delta * 100:.1f} pp" if unit in ("ratio", "share") else _number(delta, unit)
    elif baseline == 0:
        amount = "from zero"
    else:
        amount = f"{abs(value - baseline) / abs(baseline):.0%}"
    shown_unit = "" if unit in ("ratio", "share") or "usd" in unit.lower() else f" {unit}"
    return f"{verb} {amount} ({_number(baseline, unit)} → {_number(value, unit)}{shown_unit})"


def scope_label(scope_type: str, scope_key: str) -> str:
    return "the whole organisation" if scope_type == "org" else f"{scope_type.replace('_', ' ')} {scope_key}"


def metric_info(definition: MetricDefinition | None) -> dict[str, Any]:
    if definition is None:
        return {}
    return {
        "metric": definition.metric,
        "description": definition.description,
        "why_it_exists": definition.why_it_exists,
        "owner": definition.owner,
        "unit": definition.unit,
        "better_direction": definition.better_direction,
        "review_cadence": definition.review_cadence,
    }


def alert_title(
    kind: str,
    metric: str,
    scope_type: str,
    scope_key: str,
    components: Sequence[Mapping[str, Any]],
    catalog: Mapping[str, MetricDefinition],
    rule: str | None = None,
    currents: Sequence[float | None] | None = None,
) -> str:
    """One line: what moved, where, by how much."""
    currents = list(currents) if currents is not None else [None] * len(components)
    parts = []
    for component, current in zip(components, currents, strict=True):
        definition = catalog.get(component["metric"])
        unit = definition.unit if definition else ""
        parts.append(f"{component['metric']} {describe_change(component, unit, current)}")
    where = scope_label(scope_type, scope_key)
    if kind == "paired":
        return f"Paired regression ({rule}) for {where}: {' while '.join(parts)}"
    label = "Improvement" if kind == "improvement" else "Regression"
    return f"{label} for {where}: {parts[0]}"


def build_payload(
    *,
    event_id: str,
    event_type: str,
    occurred_at: str,
    alert: Mapping[str, Any],
    catalog: Mapping[str, MetricDefinition],
    currents: Sequence[float | None] | None = None,
) -> dict[str, Any]:
    """The stored, delivered payload of one metric alert event (``alert`` is the alert row as a dict)."""
    components = alert["components"]
    title = alert_title(
        alert["kind"],
        alert["metric"],
        alert["scope_type"],
        alert["scope_key"],
        components,
        catalog,
        alert.get("rule"),
        currents if event_type != "opened" else None,
    )
    severity = severity_label(alert["kind"], alert["severity"])
    prefix = EVENT_VERBS[event_type]
    if event_type == "escalated":
        prefix = f"Escalated to {severity}: "
    if event_type == "resolved":
        summary = "Back to the baseline it was measured against when the alert opened."
    elif alert["kind"] == "improvement":
        summary = "A change for the better worth celebrating (and learning from)."
    elif alert["kind"] == "paired":
        summary = alert["evidence"].get("rule_description") or "Two metrics moved together the wrong way."
    else:
        summary = "A sustained change for the worse, beyond the catalog's practical threshold."
    metrics = [c["metric"] for c in components]
    return {
        "schema": "techledger.alert/v1",
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": occurred_at,
        "fingerprint": alert["fingerprint"],
        "kind": alert["kind"],
        "rule": alert.get("rule"),
        "metric": alert["metric"],
        "scope_type": alert["scope_type"],
        "scope_key": alert["scope_key"],
        "direction": alert["direction"],
        "severity": severity,
        "period": alert["last_period"],
        "title": f"{prefix}{title}",
        "summary": summary,
        "components": list(components),
        "evidence": alert["evidence"],
        "metrics": [metric_info(catalog.get(m)) for m in metrics],
    }


def operational_payload(
    *,
    event_id: str,
    event_type: str,
    occurred_at: str,
    kind: str,
    fingerprint: str,
    title: str,
    summary: str,
    details: Mapping[str, Any],
) -> dict[str, Any]:
    """Payload of a pipeline alert (a failed run, a stale source): same envelope as metric alerts."""
    return {
        "schema": "techledger.alert/v1",
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": occurred_at,
        "fingerprint": fingerprint,
        "kind": kind,
        "rule": None,
        "metric": None,
        "scope_type": None,
        "scope_key": None,
        "direction": None,
        "severity": "critical" if kind == "pipeline" and event_type == "opened" else "warning",
        "period": None,
        "title": title,
        "summary": summary,
        "components": [],
        "evidence": dict(details),
        "metrics": [],
    }


def text_lines(payload: Mapping[str, Any]) -> list[str]:
    """The plain-text body (e-mail, log): title, summary, why it matters, the evidence in short."""
    lines = [payload["title"], "", payload["summary"]]
    for info in payload.get("metrics") or []:
        if info:
            lines += ["", f"{info['metric']}: {info['description']}", f"Why it exists: {info['why_it_exists']}"]
            lines.append(f"Owner: {info['owner']} (reviewed {info['review_cadence']})")
    evidence = payload.get("evidence") or {}
    blocks = [evidence] if "recent" in evidence else [v for v in evidence.values() if isinstance(v, dict)]
    for block in blocks:
        if "recent" in block:
            level = block.get("level_statistic", "median")
            lines += [
                "",
                f"Evidence as of week {block.get('as_of')} ({block.get('test')}, p = {block.get('p_value')}):",
                f"  recent weeks:   {[v for _, v, _ in block['recent']]} ({level} {block.get('recent_median')})",
                f"  baseline weeks: {[v for _, v, _ in block['baseline']]} ({level} {block.get('baseline_median')})",
            ]
    for metric, block in (evidence.get("absorbed_improvements") or {}).items():
        lines += [
            "",
            f"Part of the same story: {metric} improved ({block.get('level_statistic', 'median')} "
            f"{block.get('baseline_median')} → {block.get('recent_median')}, "
            f"{block.get('test')}, p = {block.get('p_value')})",
        ]
    if "recent" not in evidence and not blocks and evidence:
        lines += ["", *(f"{k}: {v}" for k, v in evidence.items())]
    lines += ["", f"event {payload['event_id']} ({payload['event_type']}, {payload['occurred_at']})"]
    return lines
