"""GitHub pull requests -> `raw_github.pull_requests` (source-apis.md §1.5, §6 "gh.pull_requests").

The list endpoint has no `since` filter, so the incremental walk reads `state=all&sort=updated&
direction=desc` and stops at the first PR updated before `cursor - overlap`. The cursor stored after a
complete walk is the *window end* — the server's Date on the first page minus a consistency buffer —
not the newest `updated_at` seen: a PR updated while we page (it jumps to page 1 behind us) or one that
shows up late in the list has `updated_at` >= window end and is read by the next run (§0.3). Pages are
upserted in batches as they arrive; the cursor is written only with the walk's last batch, so a crash
mid-walk re-reads from the previous cursor and the upsert absorbs the repeats.

Run as a module for a one-off sync:
    python -m ingestion.github.pull_requests --warehouse data/warehouse.duckdb \
        --base-url https://api.github.com --repos acme/api,acme/web --token-env GITHUB_TOKEN
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import duckdb

from ingestion.errors import PayloadError, SourceError, SyncFailedError
from ingestion.github.client import github_client
from ingestion.http import HttpClient, Page, server_time
from ingestion.loader import RawLoader, RawTable
from ingestion.meta import SyncRun
from ingestion.redaction import safe_endpoint
from ingestion.runs import SyncSummary, run_scopes

SOURCE = "github"
STREAM = "pull_requests"

PULL_REQUESTS = RawTable(
    source=SOURCE,
    stream=STREAM,
    primary_key=("id",),
    columns={
        "id": "BIGINT",
        "repo": "VARCHAR",
        "number": "INTEGER",
        "state": "VARCHAR",
        "updated_at": "TIMESTAMPTZ",
        "created_at": "TIMESTAMPTZ",
    },
)

Progress = Callable[[str, int], None]


def sync_pull_requests(
    client: HttpClient,
    loader: RawLoader,
    repos: Sequence[str],
    *,
    overlap: timedelta = timedelta(minutes=10),
    buffer: timedelta = timedelta(minutes=1),
    per_page: int = 100,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> SyncSummary:
    """Incrementally sync the pull requests of each "owner/name" in `repos` (one sync run per repo).

    Every repo is attempted; if any failed, `SyncFailedError` (listing them) is raised after the rest
    completed. `progress(repo, records_so_far)` is called after each committed batch.
    """
    for repo in repos:
        _split_repo(repo)
    if per_page < 1 or batch_size < 1:
        raise ValueError("per_page and batch_size must be at least 1")

    def sync_repo(repo: str, run: SyncRun) -> Mapping[str, Any]:
        return _sync_repo(client, loader, repo, run, overlap, buffer, per_page, batch_size, progress)

    loader.ensure_table(PULL_REQUESTS)
    return run_scopes(client, loader, SOURCE, STREAM, repos, sync_repo)


def _sync_repo(
    client: HttpClient,
    loader: RawLoader,
    repo: str,
    run: SyncRun,
    overlap: timedelta,
    buffer: timedelta,
    per_page: int,
    batch_size: int,
    progress: Progress | None,
) -> dict[str, Any]:
    cursor = _read_cursor(loader.get_state(SOURCE, STREAM, repo), repo)
    stop_before = cursor - overlap if cursor is not None else None
    owner, name = _split_repo(repo)
    params = {"state": "all", "sort": "updated", "direction": "desc", "per_page": per_page}

    window_end: datetime | None = None
    batch: list[dict[str, Any]] = []
    for page in client.paginate(f"/repos/{quote(owner)}/{quote(name)}/pulls", params):
        if window_end is None:
            window_end = server_time(page.response) - buffer
        reached_cursor = False
        for index, item in enumerate(page.items):
            record = _record(repo, item, page, index)
            if stop_before is not None and record["updated_at"] < stop_before:
                reached_cursor = True  # sorted newest-updated first: everything after is older still
                break
            batch.append(record)
            if len(batch) >= batch_size:
                loader.upsert(PULL_REQUESTS, batch, run)
                batch = []
                if progress is not None:
                    progress(repo, run.records)
        if reached_cursor:
            break

    assert window_end is not None  # paginate always yields at least one page
    state = {"cursor": window_end.isoformat()}
    loader.upsert(PULL_REQUESTS, batch, run, state=state)  # last batch and cursor: one transaction
    if progress is not None:
        progress(repo, run.records)
    return state


def _record(repo: str, item: Any, page: Page, index: int) -> dict[str, Any]:
    """Loader record for one PR, validating the fields the walk itself depends on."""

    def bad(what: str) -> PayloadError:
        return PayloadError(
            f"github GET {safe_endpoint(page.url)}: item {index} of page {page.page_number} {what}. "
            "Fix: check the base URL points at a GitHub REST API root and the API version is 2022-11-28",
            source=SOURCE,
            method="GET",
            endpoint=safe_endpoint(page.url),
        )

    if not isinstance(item, dict):
        raise bad(f"is a {type(item).__name__}, not a pull request object")
    for field in ("id", "number", "updated_at"):
        if item.get(field) is None:
            raise bad(f"has no {field!r}")
    try:
        updated_at = datetime.fromisoformat(item["updated_at"])
    except (TypeError, ValueError):
        raise bad(f"has an unparseable updated_at {item['updated_at']!r}") from None
    if updated_at.tzinfo is None:
        raise bad(f"has an updated_at without time zone {item['updated_at']!r}")
    return {
        "id": item["id"],
        "repo": repo,
        "number": item["number"],
        "state": item.get("state"),
        "updated_at": updated_at,
        "created_at": item.get("created_at"),
        "payload": item,
    }


def _read_cursor(state: Mapping[str, Any] | None, repo: str) -> datetime | None:
    if not state or state.get("cursor") is None:
        return None
    try:
        cursor = datetime.fromisoformat(state["cursor"])
    except (TypeError, ValueError):
        cursor = None
    if cursor is None or cursor.tzinfo is None:
        raise ValueError(
            f"meta.sync_state cursor for github/pull_requests/{repo} is not a zoned ISO timestamp "
            f"({state['cursor']!r}); delete that row to force a full resync of the repo"
        )
    return cursor


def _split_repo(repo: str) -> tuple[str, str]:
    parts = repo.split("/")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise ValueError(f"repository {repo!r} must be written as 'owner/name'")
    return parts[0], parts[1]


# ---------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    """Sync pull requests into a DuckDB file; exit 0 on success, 1 if a repo failed, 2 on bad usage."""
    parser = argparse.ArgumentParser(
        prog="python -m ingestion.github.pull_requests",
        description="Incrementally sync GitHub pull requests into raw_github.pull_requests.",
    )
    parser.add_argument("--warehouse", required=True, help="DuckDB file to write")
    parser.add_argument("--base-url", required=True, help="GitHub REST API root, e.g. https://api.github.com")
    parser.add_argument("--repos", required=True, help="comma-separated owner/name list")
    parser.add_argument("--token-env", default="GITHUB_TOKEN", help="NAME of the env var holding the token")
    parser.add_argument("--per-page", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--overlap-minutes", type=float, default=10.0)
    parser.add_argument("--buffer-minutes", type=float, default=1.0)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token = os.environ.get(args.token_env)
    if not token:
        print(f"error: environment variable {args.token_env} is not set or empty", file=sys.stderr)
        return 2
    repos = [r.strip() for r in args.repos.split(",") if r.strip()]
    try:
        with (
            duckdb.connect(args.warehouse) as con,
            github_client(args.base_url, token, token_env=args.token_env) as client,
        ):
            summary = sync_pull_requests(
                client,
                RawLoader(con),
                repos,
                overlap=timedelta(minutes=args.overlap_minutes),
                buffer=timedelta(minutes=args.buffer_minutes),
                per_page=args.per_page,
                batch_size=args.batch_size,
            )
    except SyncFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (SourceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for result in summary.results:
        print(f"{result.scope}: {result.records} records, {result.requests} requests, {result.outcome}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
