"""GitHub Actions workflow runs (every attempt) and their jobs -> `raw_github.workflow_runs`, `.workflow_jobs`.

The list endpoint is newest first and, with any filter, stops at 1,000 results: `total_count` tells
the truth but pages past the 1,000th result are empty. So the walk is windowed by `created`:

- windows are aligned UTC days from `start` to the window end (server Date - buffer); a window whose
  first page reports `total_count > 1000` is bisected (halves, recursively, down to one second) and
  the halves are read instead, so no window ever hits the cap;
- `start` is the previous window end minus `rescan_days` (32: re-runs of runs up to a month old
  bring new attempts and change status), or `initial_days` back on the first run. Aligned windows
  give stable URLs, so the ETag cache answers unchanged days with 304s (free of quota);
- the list shows a run's latest attempt. A run is "changed" when its (id, run_attempt, updated_at)
  is not in the raw table yet; for changed runs the earlier attempts missing from the table are
  fetched (`/attempts/{n}`) and the jobs of all attempts (`/jobs?filter=all`). A run in progress is
  stored as such and, being in the re-scan range, is read again with its final state.

    python -m ingestion.github.workflow_runs --warehouse data/warehouse.duckdb \
        --base-url https://api.github.com --repos acme/api --token-env GITHUB_TOKEN
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from ingestion.github.common import SOURCE, cli, parse_time, read_cursor, require, split_repo
from ingestion.http import HttpClient, Page, server_time
from ingestion.loader import RawLoader, RawTable
from ingestion.meta import SyncRun
from ingestion.runs import SyncSummary, run_scopes

STREAM = "workflow_runs"
RESULT_CAP = 1000

WORKFLOW_RUNS = RawTable(
    source=SOURCE,
    stream="workflow_runs",
    primary_key=("id", "run_attempt"),
    columns={
        "id": "BIGINT",
        "run_attempt": "INTEGER",
        "repo": "VARCHAR",
        "status": "VARCHAR",
        "created_at": "TIMESTAMPTZ",
        "updated_at": "TIMESTAMPTZ",
    },
)
WORKFLOW_JOBS = RawTable(
    source=SOURCE,
    stream="workflow_jobs",
    primary_key=("id",),
    columns={
        "id": "BIGINT",
        "run_id": "BIGINT",
        "run_attempt": "INTEGER",
        "repo": "VARCHAR",
        "status": "VARCHAR",
        "started_at": "TIMESTAMPTZ",
    },
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_windows(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Inclusive [a, b] windows on UTC day boundaries (b = next boundary - 1 s), the last ending at `end`."""
    cursor = start.astimezone(UTC)
    while cursor <= end:
        boundary = cursor.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        yield cursor, min(end, boundary - timedelta(seconds=1))
        cursor = boundary


def sync_workflow_runs(
    client: HttpClient,
    loader: RawLoader,
    repos: Sequence[str],
    *,
    initial_days: int = 90,
    rescan_days: int = 32,
    buffer: timedelta = timedelta(minutes=1),
    per_page: int = 100,
    batch_size: int = 500,
) -> SyncSummary:
    """Sync workflow runs (all attempts) and jobs of each "owner/name" repo; see the module docstring."""
    for repo in repos:
        split_repo(repo)
    loader.ensure_table(WORKFLOW_RUNS)
    loader.ensure_table(WORKFLOW_JOBS)

    def sync_repo(repo: str, run: SyncRun) -> Mapping[str, Any]:
        return _sync_repo(client, loader, repo, run, initial_days, rescan_days, buffer, per_page, batch_size)

    return run_scopes(client, loader, SOURCE, STREAM, repos, sync_repo)


def _sync_repo(
    client: HttpClient,
    loader: RawLoader,
    repo: str,
    run: SyncRun,
    initial_days: int,
    rescan_days: int,
    buffer: timedelta,
    per_page: int,
    batch_size: int,
) -> dict[str, Any]:
    owner, name = (quote(p) for p in split_repo(repo))
    base = f"/repos/{owner}/{name}/actions/runs"
    cursor = read_cursor(loader.get_state(SOURCE, STREAM, repo), STREAM, repo)
    probe = client.get(base, {"per_page": 1})  # the server clock; unfiltered, so never capped
    window_end = server_time(probe) - buffer
    start = (cursor - timedelta(days=rescan_days)) if cursor else window_end - timedelta(days=initial_days)
    known = {
        (int(r[0]), int(r[1])): r[2]
        for r in loader.con.execute(
            "SELECT id, run_attempt, updated_at FROM raw_github.workflow_runs WHERE repo = ? AND created_at >= ?",
            [repo, start - timedelta(days=1)],
        ).fetchall()
    }
    runs: list[dict[str, Any]] = []
    jobs: list[dict[str, Any]] = []
    windows = 0

    def flush(state: dict[str, Any] | None = None) -> None:
        nonlocal runs, jobs
        loader.upsert(WORKFLOW_JOBS, jobs, run)
        loader.upsert(WORKFLOW_RUNS, runs, run, state=state)
        runs, jobs = [], []

    def read_window(lo: datetime, hi: datetime) -> None:
        nonlocal windows
        pages = client.paginate(
            base, {"created": f"{_iso(lo)}..{_iso(hi)}", "per_page": per_page}, items_key="workflow_runs"
        )
        first = next(pages)
        total = first.response.json().get("total_count", 0)
        if total > RESULT_CAP and hi - lo >= timedelta(seconds=2):
            middle = lo + (hi - lo) / 2
            middle = middle.replace(microsecond=0)
            read_window(lo, middle)
            read_window(middle + timedelta(seconds=1), hi)
            return
        windows += 1
        for page in _chain(first, pages):
            for index, item in enumerate(page.items):
                _take_run(
                    client,
                    repo,
                    base,
                    require(item, ("id", "run_attempt", "created_at"), page, index, "workflow run"),
                    known,
                    runs,
                    jobs,
                    per_page,
                )
            if len(runs) + len(jobs) >= batch_size:
                flush()

    for lo, hi in day_windows(start, window_end):
        read_window(lo, hi)
    state = {"cursor": window_end.isoformat(), "windows": windows}
    flush(state)
    return state


def _chain(first: Page, rest: Iterator[Page]) -> Iterator[Page]:
    yield first
    yield from rest


def _run_record(repo: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["id"],
        "run_attempt": item["run_attempt"],
        "repo": repo,
        "status": item.get("status"),
        "created_at": item["created_at"],
        "updated_at": item.get("updated_at") or item["created_at"],
        "payload": item,
    }


def _take_run(
    client: HttpClient,
    repo: str,
    base: str,
    item: dict[str, Any],
    known: dict[tuple[int, int], Any],
    runs: list[dict[str, Any]],
    jobs: list[dict[str, Any]],
    per_page: int,
) -> None:
    run_id, attempt = int(item["id"]), int(item["run_attempt"])
    updated = parse_time(item.get("updated_at"))
    stored = known.get((run_id, attempt))
    if stored is not None and updated is not None and stored == updated:
        return  # unchanged since the last sync: its jobs and earlier attempts are stored too
    runs.append(_run_record(repo, item))
    known[(run_id, attempt)] = updated
    for earlier in range(1, attempt):
        if (run_id, earlier) not in known:
            previous = client.get_json(f"{base}/{run_id}/attempts/{earlier}")
            runs.append(_run_record(repo, previous))
            known[(run_id, earlier)] = parse_time(previous.get("updated_at"))
    for page in client.paginate(f"{base}/{run_id}/jobs", {"filter": "all", "per_page": per_page}, items_key="jobs"):
        for index, job in enumerate(page.items):
            job = require(job, ("id",), page, index, "job")
            jobs.append(
                {
                    "id": job["id"],
                    "run_id": run_id,
                    "run_attempt": job.get("run_attempt") or attempt,
                    "repo": repo,
                    "status": job.get("status"),
                    "started_at": job.get("started_at"),
                    "payload": job,
                }
            )


def main(argv: Sequence[str] | None = None) -> int:
    return cli(
        STREAM,
        "Sync GitHub Actions workflow runs (all attempts) and jobs into raw_github.workflow_runs / workflow_jobs.",
        lambda client, loader, repos: sync_workflow_runs(client, loader, repos),
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
