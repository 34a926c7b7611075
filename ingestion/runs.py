"""Running one stream over many scopes (repositories, projects...), one `meta.sync_runs` row each.

A broken scope must not hold back the others (DESIGN.md: "Other streams keep going"): each scope's
failure is recorded on its run row with a secret-free message, the remaining scopes still run, and one
`SyncFailedError` naming every failed scope is raised at the end so the orchestrator marks the
step failed without losing the work that succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingestion.errors import SourceError, SyncFailedError
from ingestion.http import HttpClient
from ingestion.loader import RawLoader
from ingestion.meta import SyncRun
from ingestion.redaction import one_line
from ingestion.stats import RequestStats

logger = logging.getLogger("techledger.ingestion.sync")

SyncScope = Callable[[str, SyncRun], Mapping[str, Any] | None]


@dataclass(frozen=True)
class ScopeResult:
    """Outcome of one scope: what was loaded and what it cost."""

    scope: str
    sync_id: str
    outcome: str  # 'success' | 'failed'
    records: int
    requests: int
    not_modified: int
    retries: int
    waited_seconds: float
    error: str | None = None
    state: Mapping[str, Any] | None = None


@dataclass
class SyncSummary:
    """Per-scope results of one stream sync."""

    source: str
    stream: str
    results: list[ScopeResult] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(r.records for r in self.results)

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.results)

    @property
    def failed(self) -> list[ScopeResult]:
        return [r for r in self.results if r.outcome != "success"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def __getitem__(self, scope: str) -> ScopeResult:
        for result in self.results:
            if result.scope == scope:
                return result
        raise KeyError(scope)


def error_text(exc: BaseException, client: HttpClient) -> str:
    """One secret-free line for a failure: SourceErrors are already actionable; others get their type."""
    if isinstance(exc, SourceError):
        return client.redact(str(exc))
    return one_line(client.redact(f"{type(exc).__name__}: {exc}"), 1000)


def run_scopes(
    client: HttpClient,
    loader: RawLoader,
    source: str,
    stream: str,
    scopes: Sequence[str],
    sync_scope: SyncScope,
) -> SyncSummary:
    """Call `sync_scope(scope, run)` for every scope, recording each run; raise once at the end if any failed.

    `sync_scope` upserts through the loader and returns the state it committed last.
    """
    loader.ensure_meta()
    summary = SyncSummary(source, stream)
    for scope in scopes:
        run = loader.start_run(source, stream, scope)
        before = client.stats.copy()
        try:
            state = sync_scope(scope, run)
        except Exception as exc:
            cost = client.stats - before
            message = error_text(exc, client)
            loader.finish_run(run, "failed", run.records, cost, message)
            logger.error("%s %s %s failed after %d records: %s", source, stream, scope, run.records, message)
            summary.results.append(_result(scope, run, "failed", cost, message, None))
            continue
        cost = client.stats - before
        loader.finish_run(run, "success", run.records, cost, None)
        logger.info(
            "%s %s %s: %d records, %d requests (%d not modified), %d retries, waited %.1f s",
            source,
            stream,
            scope,
            run.records,
            cost.requests,
            cost.not_modified,
            cost.retries,
            cost.waited_seconds,
        )
        summary.results.append(_result(scope, run, "success", cost, None, state))

    if summary.failed:
        names = ", ".join(f"{r.scope} ({r.error})" for r in summary.failed)
        raise SyncFailedError(
            f"{source} {stream}: {len(summary.failed)} of {len(summary.results)} scopes failed: {names}. "
            "The other scopes were synced; fix the cause above and rerun (failed scopes resume from their "
            "last committed cursor).",
            source=source,
            failures={r.scope: r.error or "" for r in summary.failed},
            summary=summary,
        )
    return summary


def _result(
    scope: str,
    run: SyncRun,
    outcome: str,
    cost: RequestStats,
    error: str | None,
    state: Mapping[str, Any] | None,
) -> ScopeResult:
    return ScopeResult(
        scope=scope,
        sync_id=run.sync_id,
        outcome=outcome,
        records=run.records,
        requests=cost.requests,
        not_modified=cost.not_modified,
        retries=cost.retries,
        waited_seconds=cost.waited_seconds,
        error=error,
        state=state,
    )
