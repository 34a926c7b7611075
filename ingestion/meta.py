"""The `meta` schema: where each stream's cursor is, and what every sync run did.

`meta.sync_state` holds one JSON state per (source, stream, scope) — scope being e.g. a repository —
and is only ever written in the same transaction as the data it describes, which is what makes a crash
at any point safe. `meta.sync_runs` is the operator's log: one row per scope per run, with the request
counters, so "why did last night's GitHub sync take 40 minutes" has an answer in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Outcome = Literal["running", "success", "failed"]

INTERRUPTED_ERROR = (
    "interrupted: the process ended before this run finished (crash, kill or timeout); "
    "committed batches were kept and the next run resumed from the last committed cursor"
)

META_DDL: tuple[str, ...] = (
    "CREATE SCHEMA IF NOT EXISTS meta",
    """
    CREATE TABLE IF NOT EXISTS meta.sync_state (
        source VARCHAR NOT NULL,
        stream VARCHAR NOT NULL,
        scope VARCHAR NOT NULL,
        state JSON NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (source, stream, scope)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS meta.sync_runs (
        sync_id VARCHAR PRIMARY KEY,
        source VARCHAR NOT NULL,
        stream VARCHAR NOT NULL,
        scope VARCHAR NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        records BIGINT,
        requests BIGINT,
        not_modified BIGINT,
        retries BIGINT,
        http_errors JSON,
        outcome VARCHAR NOT NULL CHECK (outcome IN ('running', 'success', 'failed')),
        error VARCHAR
    )
    """,
)


@dataclass
class SyncRun:
    """A sync of one (source, stream, scope). `records` counts rows upserted so far by this run."""

    sync_id: str
    source: str
    stream: str
    scope: str
    started_at: datetime
    records: int = 0
