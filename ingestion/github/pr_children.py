"""Reviews and commits of changed pull requests -> `raw_github.pr_reviews`, `raw_github.pr_commits`.

Both lists hang off one PR and have no `since` filter, so they are re-read per PR, and only for PRs
that changed. How this stream knows which PRs changed: every new review or pushed commit moves the
PR's `updated_at`, and the PR sync (`ingestion.github.pull_requests`) guarantees that once its cursor
(a window end) is C, every PR with `updated_at < C` is in `raw_github.pull_requests` with its latest
version. So each run here:

1. reads the PR stream's committed cursor C for the repo (the upper bound of what is complete);
2. takes the PRs in the raw table with `updated_at >= previous child cursor - overlap` (all of them
   on the first run) — those include every PR changed since the last child run;
3. fetches reviews and commits of each, upserts them, and stores C as the child cursor in the same
   transaction as the last batch.

PRs updated after C that the PR sync already loaded are read now and again next time (an upsert,
so harmless). A crash re-reads from the previous child cursor. Run the PR sync first.

    python -m ingestion.github.pr_children --warehouse data/warehouse.duckdb \
        --base-url https://api.github.com --repos acme/api --token-env GITHUB_TOKEN
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from ingestion.github.common import SOURCE, cli, read_cursor, require, split_repo
from ingestion.http import HttpClient
from ingestion.loader import RawLoader, RawTable
from ingestion.meta import SyncRun
from ingestion.runs import SyncSummary, run_scopes

STREAM = "pr_children"

PR_REVIEWS = RawTable(
    source=SOURCE,
    stream="pr_reviews",
    primary_key=("id",),
    columns={
        "id": "BIGINT",
        "repo": "VARCHAR",
        "pr_id": "BIGINT",
        "pr_number": "INTEGER",
        "state": "VARCHAR",
        "submitted_at": "TIMESTAMPTZ",
    },
)
PR_COMMITS = RawTable(
    source=SOURCE,
    stream="pr_commits",
    primary_key=("pr_id", "sha"),
    columns={
        "pr_id": "BIGINT",
        "sha": "VARCHAR",
        "repo": "VARCHAR",
        "pr_number": "INTEGER",
        "committed_at": "TIMESTAMPTZ",
    },
)


def changed_pull_requests(loader: RawLoader, repo: str, since: Any) -> list[tuple[int, int]]:
    """(id, number) of the repo's PRs in the raw table updated at or after `since` (all if None)."""
    sql = "SELECT id, number FROM raw_github.pull_requests WHERE repo = ?"
    params: list[Any] = [repo]
    if since is not None:
        sql += " AND updated_at >= ?"
        params.append(since)
    return [(int(r[0]), int(r[1])) for r in loader.con.execute(sql + " ORDER BY updated_at, id", params).fetchall()]


def sync_pr_children(
    client: HttpClient,
    loader: RawLoader,
    repos: Sequence[str],
    *,
    overlap: timedelta = timedelta(minutes=10),
    per_page: int = 100,
    batch_size: int = 500,
) -> SyncSummary:
    """Sync reviews and commits of the PRs that changed since the last run, per "owner/name" repo."""
    for repo in repos:
        split_repo(repo)
    loader.ensure_table(PR_REVIEWS)
    loader.ensure_table(PR_COMMITS)

    def sync_repo(repo: str, run: SyncRun) -> Mapping[str, Any]:
        owner, name = (quote(p) for p in split_repo(repo))
        pr_state = loader.get_state(SOURCE, "pull_requests", repo)
        upper = read_cursor(pr_state, "pull_requests", repo)
        previous = read_cursor(loader.get_state(SOURCE, STREAM, repo), STREAM, repo)
        if upper is None:
            raise ValueError(f"github pull_requests for {repo} has never completed; run the PR sync first")
        since = previous - overlap if previous is not None else None
        reviews: list[dict[str, Any]] = []
        commits: list[dict[str, Any]] = []
        prs = 0
        for pr_id, number in changed_pull_requests(loader, repo, since):
            prs += 1
            base = f"/repos/{owner}/{name}/pulls/{number}"
            for page in client.paginate(f"{base}/reviews", {"per_page": per_page}):
                for index, item in enumerate(page.items):
                    review = require(item, ("id",), page, index, "review")
                    reviews.append(
                        {
                            "id": review["id"],
                            "repo": repo,
                            "pr_id": pr_id,
                            "pr_number": number,
                            "state": review.get("state"),
                            "submitted_at": review.get("submitted_at"),
                            "payload": review,
                        }
                    )
            for page in client.paginate(f"{base}/commits", {"per_page": per_page}):
                for index, item in enumerate(page.items):
                    commit = require(item, ("sha",), page, index, "commit")
                    committed = ((commit.get("commit") or {}).get("committer") or {}).get("date")
                    commits.append(
                        {
                            "pr_id": pr_id,
                            "sha": commit["sha"],
                            "repo": repo,
                            "pr_number": number,
                            "committed_at": committed,
                            "payload": commit,
                        }
                    )
            if len(reviews) + len(commits) >= batch_size:
                loader.upsert(PR_REVIEWS, reviews, run)
                loader.upsert(PR_COMMITS, commits, run)
                reviews, commits = [], []
        state = {"cursor": upper.isoformat(), "pull_requests_read": prs}
        loader.upsert(PR_REVIEWS, reviews, run)
        loader.upsert(PR_COMMITS, commits, run, state=state)
        return state

    return run_scopes(client, loader, SOURCE, STREAM, repos, sync_repo)


def main(argv: Sequence[str] | None = None) -> int:
    return cli(
        STREAM,
        "Sync reviews and commits of changed PRs into raw_github.pr_reviews / pr_commits.",
        lambda client, loader, repos: sync_pr_children(client, loader, repos),
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
