"""GitHub releases -> `raw_github.releases` (source-apis.md §6 "gh.releases").

`/releases` is newest first and small; the walk stops at the first published release older than
`cursor - lookback`. Drafts (no `published_at`) are always kept in the walk, so they are re-read
until published. The cursor is the window end.

    python -m ingestion.github.releases --warehouse data/warehouse.duckdb \
        --base-url https://api.github.com --repos acme/api --token-env GITHUB_TOKEN
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from ingestion.github.common import SOURCE, cli, parse_time, read_cursor, require, split_repo
from ingestion.http import HttpClient, server_time
from ingestion.loader import RawLoader, RawTable
from ingestion.meta import SyncRun
from ingestion.runs import SyncSummary, run_scopes

STREAM = "releases"

RELEASES = RawTable(
    source=SOURCE,
    stream=STREAM,
    primary_key=("id",),
    columns={
        "id": "BIGINT",
        "repo": "VARCHAR",
        "tag_name": "VARCHAR",
        "created_at": "TIMESTAMPTZ",
        "published_at": "TIMESTAMPTZ",
    },
)


def sync_releases(
    client: HttpClient,
    loader: RawLoader,
    repos: Sequence[str],
    *,
    lookback: timedelta = timedelta(days=7),
    buffer: timedelta = timedelta(minutes=1),
    per_page: int = 100,
) -> SyncSummary:
    """Sync the releases of each "owner/name" repo."""
    for repo in repos:
        split_repo(repo)
    loader.ensure_table(RELEASES)

    def sync_repo(repo: str, run: SyncRun) -> Mapping[str, Any]:
        owner, name = (quote(p) for p in split_repo(repo))
        cursor = read_cursor(loader.get_state(SOURCE, STREAM, repo), STREAM, repo)
        stop_before = cursor - lookback if cursor is not None else None
        window_end = None
        batch: list[dict[str, Any]] = []
        for page in client.paginate(f"/repos/{owner}/{name}/releases", {"per_page": per_page}):
            if window_end is None:
                window_end = server_time(page.response) - buffer
            reached = False
            for index, item in enumerate(page.items):
                release = require(item, ("id", "created_at"), page, index, "release")
                published = parse_time(release.get("published_at"))
                if stop_before is not None and published is not None and published < stop_before:
                    reached = True
                    break
                batch.append(
                    {
                        "id": release["id"],
                        "repo": repo,
                        "tag_name": release.get("tag_name"),
                        "created_at": release["created_at"],
                        "published_at": published,
                        "payload": release,
                    }
                )
            if reached:
                break
        assert window_end is not None
        state = {"cursor": window_end.isoformat()}
        loader.upsert(RELEASES, batch, run, state=state)
        return state

    return run_scopes(client, loader, SOURCE, STREAM, repos, sync_repo)


def main(argv: Sequence[str] | None = None) -> int:
    return cli(STREAM, "Sync GitHub releases into raw_github.releases.", lambda c, lo, r: sync_releases(c, lo, r), argv)


if __name__ == "__main__":
    raise SystemExit(main())
