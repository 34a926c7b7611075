"""Pipeline-health alerts: a failed run, a source that stopped syncing.

These are raised by Dagster sensors, which must never open the DuckDB file (one writer; a reader would make
the next writer fail), so their state — which source is stale since when, which deliveries are still pending —
lives in the sensor cursor as JSON. This module is that state machine, free of Dagster: the sensors feed it
what they read from the Dagster instance (failed-run events, the latest materialisation time of each raw asset).

Freshness follows the same lifecycle as metric alerts: *opened* once when a source passes its expected interval,
*resolved* when it syncs again, nothing in between however many ticks run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from orchestration.alerting.messages import operational_payload
from orchestration.alerting.outbox import queue_entries

MAX_QUEUE = 500  # pending deliveries kept in a cursor; beyond this the oldest are logged and dropped


@dataclass
class SensorState:
    """What a sensor remembers between ticks (serialised into its cursor)."""

    after: str | None = None  # failure sensor: event-log cursor of the last failure handled
    first_seen: str | None = None  # freshness sensor: when it first ran (grace for never-synced sources)
    stale: dict[str, dict[str, Any]] = field(default_factory=dict)  # source -> {since, occurrence}
    occurrences: dict[str, int] = field(default_factory=dict)  # source -> times it went stale
    queue: list[dict[str, Any]] = field(default_factory=list)  # pending deliveries (outbox.deliver_queue)

    def to_cursor(self) -> str:
        return json.dumps(
            {
                "after": self.after,
                "first_seen": self.first_seen,
                "stale": self.stale,
                "occurrences": self.occurrences,
                "queue": self.queue[-MAX_QUEUE:],
            },
            sort_keys=True,
        )

    @staticmethod
    def from_cursor(cursor: str | None) -> SensorState:
        if not cursor:
            return SensorState()
        try:
            data = json.loads(cursor)
        except ValueError:
            return SensorState()
        if not isinstance(data, dict):
            return SensorState()
        return SensorState(
            after=data.get("after"),
            first_seen=data.get("first_seen"),
            stale=dict(data.get("stale") or {}),
            occurrences={k: int(v) for k, v in (data.get("occurrences") or {}).items()},
            queue=list(data.get("queue") or []),
        )


def run_failure_payload(run_id: str, job_name: str, message: str, failed_at: datetime, now: datetime) -> dict[str, Any]:
    """The alert for one failed run (the pipeline is broken until someone looks)."""
    return operational_payload(
        event_id=f"pipeline:{run_id}:failed",
        event_type="opened",
        occurred_at=now.isoformat(),
        kind="pipeline",
        fingerprint=f"pipeline:{job_name}",
        title=f"Pipeline broken: run {run_id[:8]} of {job_name} failed",
        summary=(
            "A techledger run failed, so the data (and the alerts computed from it) may be stale until it is "
            "fixed. Open the run in the Dagster UI for the failing step and its error."
        ),
        details={"run_id": run_id, "job_name": job_name, "failed_at": failed_at.isoformat(), "message": message[:1000]},
    )


def freshness_tick(
    state: SensorState,
    last_synced: Mapping[str, Mapping[str, datetime | None]],
    expected_hours: Mapping[str, float],
    now: datetime,
) -> list[dict[str, Any]]:
    """Advance the freshness state; returns the payloads of new events (opened / resolved).

    ``last_synced``: source → {stream (asset key) → latest successful sync, None if never}. A source is stale when
    any of its streams last synced longer ago than the source's expected interval; a stream that never synced
    counts from the sensor's first tick (so a fresh install is not stale before its first scheduled sync).
    """
    if state.first_seen is None:
        state.first_seen = now.isoformat()
    first_seen = datetime.fromisoformat(state.first_seen)
    payloads = []
    for source, streams in sorted(last_synced.items()):
        hours = expected_hours.get(source)
        if hours is None or not streams:
            continue
        limit = timedelta(hours=hours)
        late = {
            stream: (synced or first_seen) for stream, synced in streams.items() if now - (synced or first_seen) > limit
        }
        if late and source not in state.stale:
            occurrence = state.occurrences.get(source, 0) + 1
            state.occurrences[source] = occurrence
            oldest = min(late.values())
            state.stale[source] = {"since": now.isoformat(), "occurrence": occurrence}
            payloads.append(
                operational_payload(
                    event_id=f"freshness:{source}:{occurrence}:opened",
                    event_type="opened",
                    occurred_at=now.isoformat(),
                    kind="freshness",
                    fingerprint=f"freshness:{source}",
                    title=(
                        f"Source {source} not synced for {_hours(now - oldest)} (expected at least every {hours:g} h)"
                    ),
                    summary=(
                        "Its metrics are going stale: check the ingest schedule, the source's credentials and the "
                        "last ingest run in the Dagster UI."
                    ),
                    details={
                        "source": source,
                        "expected_interval_hours": hours,
                        "stale_streams": {
                            k: (v.isoformat() if streams[k] else "never") for k, v in sorted(late.items())
                        },
                    },
                )
            )
        elif not late and source in state.stale:
            occurrence = state.stale.pop(source)["occurrence"]
            payloads.append(
                operational_payload(
                    event_id=f"freshness:{source}:{occurrence}:resolved",
                    event_type="resolved",
                    occurred_at=now.isoformat(),
                    kind="freshness",
                    fingerprint=f"freshness:{source}",
                    title=f"Resolved: source {source} is syncing again",
                    summary="Every stream of the source synced within its expected interval.",
                    details={"source": source, "expected_interval_hours": hours},
                )
            )
    return payloads


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def queue_for(payloads: Sequence[Mapping[str, Any]], sinks: Sequence[Any], now: datetime) -> list[dict[str, Any]]:
    """Pending deliveries (one per payload x sink that takes its kind) for a sensor's queue."""
    return [entry for payload in payloads for entry in queue_entries(payload, sinks, now)]
