"""GitHub issues (not pull requests) -> `raw_github.issues` (source-apis.md §6 "gh.issues").

`/issues?state=all&since=<cursor - overlap>&sort=updated&direction=asc` lists issues *and* pull
requests (those carry a `pull_request` key); PRs are dropped here, they have their own stream.
Labels stay in the payload: dbt decides which label patterns mean incident or bug. The cursor is
the window end (server Date on the first page - buffer), written with the last batch.

    python -m ingestion.github.issues --warehouse data/warehouse.duckdb \
        --base-url https://api.github.com --repos acme/api --token-env GITHUB_TOKEN
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from ingestion.github.common import SOURCE, cli, read_cursor, require, split_repo
from ingestion.http import HttpClient, server_time
from ingestion.loader import RawLoader, RawTable
from ingestion.meta import SyncRun
from ingestion.runs import SyncSummary, run_scopes

STREAM = "issues"

ISSUES = RawTable(
    source=SOURCE,
    stream=STREAM,
    primary_key=("id",),
    columns={
        "id": "BIGINT",
        "repo": "VARCHAR",
        "number": "INTEGER",
        "state": "VARCHAR",
        "created_at": "TIMESTAMPTZ",
        "updated_at": "TIMESTAMPTZ",
    },
)


def sync_issues(
    client: HttpClient,
    loader: RawLoader,
    repos: Sequence[str],
    *,
    overlap: timedelta = timedelta(minutes=10),
    buffer: timedelta = timedelta(minutes=1),
    per_page: int = 100,
    batch_size: int = 500,
) -> SyncSummary:
    """Incrementally sync the issues of each "owner/name" repo; see the module docstring."""
    for repo in repos:
        split_repo(repo)
    loader.ensure_table(ISSUES)

    def sync_repo(repo: str, run: SyncRun) -> Mapping[str, Any]:
        owner, name = (quote(p) for p in split_repo(repo))
        cursor = read_cursor(loader.get_state(SOURCE, STREAM, repo), STREAM, repo)
        params: dict[str, Any] = {"state": "all", "sort": "updated", "direction": "asc", "per_page": per_page}
        if cursor is not None:
            params["since"] = (cursor - overlap).strftime("%Y-%m-%dT%H:%M:%SZ")
        window_end = None
        batch: list[dict[str, Any]] = []
        for page in client.paginate(f"/repos/{owner}/{name}/issues", params):
            if window_end is None:
                window_end = server_time(page.response) - buffer
            for index, item in enumerate(page.items):
                issue = require(item, ("id", "number", "updated_at"), page, index, "issue")
                if "pull_request" in issue:
                    continue
                batch.append(
                    {
                        "id": issue["id"],
                        "repo": repo,
                        "number": issue["number"],
                        "state": issue.get("state"),
                        "created_at": issue.get("created_at"),
                        "updated_at": issue["updated_at"],
                        "payload": issue,
                    }
                )
            if len(batch) >= batch_size:
                loader.upsert(ISSUES, batch, run)
                batch = []
        assert window_end is not None
        state = {"cursor": window_end.isoformat()}
        loader.upsert(ISSUES, batch, run, state=state)
        return state

    return run_scopes(client, loader, SOURCE, STREAM, repos, sync_repo)


def main(argv: Sequence[str] | None = None) -> int:
    return cli(STREAM, "Sync GitHub issues into raw_github.issues.", lambda c, lo, r: sync_issues(c, lo, r), argv)


if __name__ == "__main__":
    raise SystemExit(main())
