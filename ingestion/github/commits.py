"""Default-branch commits -> `raw_github.commits` (source-apis.md §6 "gh.commits").

`/commits?since=<cursor - 1 day>` lists the default branch newest first (merge commits carry both
parents, so the commit graph and "which commits did a deployment ship" can be rebuilt in dbt: the
default-branch commits between the previous and the current deployment's sha). The day of overlap
absorbs commits whose commit date is older than when they were pushed. The cursor is the window end.

    python -m ingestion.github.commits --warehouse data/warehouse.duckdb \
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

STREAM = "commits"

COMMITS = RawTable(
    source=SOURCE,
    stream=STREAM,
    primary_key=("sha",),
    columns={"sha": "VARCHAR", "repo": "VARCHAR", "committed_at": "TIMESTAMPTZ"},
)


def sync_commits(
    client: HttpClient,
    loader: RawLoader,
    repos: Sequence[str],
    *,
    overlap: timedelta = timedelta(days=1),
    buffer: timedelta = timedelta(minutes=1),
    per_page: int = 100,
    batch_size: int = 500,
) -> SyncSummary:
    """Incrementally sync default-branch commits of each "owner/name" repo."""
    for repo in repos:
        split_repo(repo)
    loader.ensure_table(COMMITS)

    def sync_repo(repo: str, run: SyncRun) -> Mapping[str, Any]:
        owner, name = (quote(p) for p in split_repo(repo))
        cursor = read_cursor(loader.get_state(SOURCE, STREAM, repo), STREAM, repo)
        params: dict[str, Any] = {"per_page": per_page}
        if cursor is not None:
            params["since"] = (cursor - overlap).strftime("%Y-%m-%dT%H:%M:%SZ")
        window_end = None
        batch: list[dict[str, Any]] = []
        for page in client.paginate(f"/repos/{owner}/{name}/commits", params):
            if window_end is None:
                window_end = server_time(page.response) - buffer
            for index, item in enumerate(page.items):
                commit = require(item, ("sha",), page, index, "commit")
                committed = ((commit.get("commit") or {}).get("committer") or {}).get("date")
                batch.append({"sha": commit["sha"], "repo": repo, "committed_at": committed, "payload": commit})
            if len(batch) >= batch_size:
                loader.upsert(COMMITS, batch, run)
                batch = []
        assert window_end is not None
        state = {"cursor": window_end.isoformat()}
        loader.upsert(COMMITS, batch, run, state=state)
        return state

    return run_scopes(client, loader, SOURCE, STREAM, repos, sync_repo)


def main(argv: Sequence[str] | None = None) -> int:
    return cli(
        STREAM, "Sync default-branch commits into raw_github.commits.", lambda c, lo, r: sync_commits(c, lo, r), argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
