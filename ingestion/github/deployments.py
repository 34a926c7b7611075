"""GitHub deployments and their statuses -> `raw_github.deployments`, `raw_github.deployment_statuses`.

`/deployments` is newest first with no `since`; the walk stops at the first deployment created
before `cursor - lookback` (7 days: statuses of recent deployments still move). A deployment's
`updated_at` moves when a status is added, so statuses are fetched only for deployments that are
new or whose `updated_at` changed. Deployments older than the walk whose latest stored status is
not terminal (pending, queued, in_progress) are re-fetched by id with their statuses, so a
deployment pending at one sync lands with its final state at a later one. The cursor is the window
end (server Date - buffer), written with the last batch.

    python -m ingestion.github.deployments --warehouse data/warehouse.duckdb \
        --base-url https://api.github.com --repos acme/api --token-env GITHUB_TOKEN
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from ingestion.github.common import SOURCE, cli, parse_time, read_cursor, require, require_at, split_repo
from ingestion.http import HttpClient, server_time
from ingestion.loader import RawLoader, RawTable
from ingestion.meta import SyncRun
from ingestion.runs import SyncSummary, run_scopes

STREAM = "deployments"
TERMINAL_STATES = frozenset({"success", "failure", "error", "inactive"})

DEPLOYMENTS = RawTable(
    source=SOURCE,
    stream="deployments",
    primary_key=("id",),
    columns={
        "id": "BIGINT",
        "repo": "VARCHAR",
        "environment": "VARCHAR",
        "sha": "VARCHAR",
        "created_at": "TIMESTAMPTZ",
        "updated_at": "TIMESTAMPTZ",
        "latest_state": "VARCHAR",
    },
)
DEPLOYMENT_STATUSES = RawTable(
    source=SOURCE,
    stream="deployment_statuses",
    primary_key=("id",),
    columns={
        "id": "BIGINT",
        "deployment_id": "BIGINT",
        "repo": "VARCHAR",
        "state": "VARCHAR",
        "created_at": "TIMESTAMPTZ",
    },
)


def sync_deployments(
    client: HttpClient,
    loader: RawLoader,
    repos: Sequence[str],
    *,
    lookback: timedelta = timedelta(days=7),
    buffer: timedelta = timedelta(minutes=1),
    per_page: int = 100,
    batch_size: int = 500,
) -> SyncSummary:
    """Sync deployments and statuses of each "owner/name" repo; see the module docstring."""
    for repo in repos:
        split_repo(repo)
    loader.ensure_table(DEPLOYMENTS)
    loader.ensure_table(DEPLOYMENT_STATUSES)

    def sync_repo(repo: str, run: SyncRun) -> Mapping[str, Any]:
        owner, name = (quote(p) for p in split_repo(repo))
        base = f"/repos/{owner}/{name}/deployments"
        cursor = read_cursor(loader.get_state(SOURCE, STREAM, repo), STREAM, repo)
        stop_before = cursor - lookback if cursor is not None else None
        known = {
            int(r[0]): (r[1], r[2])
            for r in loader.con.execute(
                "SELECT id, updated_at, latest_state FROM raw_github.deployments WHERE repo = ?", [repo]
            ).fetchall()
        }
        deployments: list[dict[str, Any]] = []
        statuses: list[dict[str, Any]] = []
        seen: set[int] = set()
        window_end = None

        def take(item: dict[str, Any]) -> None:
            deployment_id = int(item["id"])
            seen.add(deployment_id)
            stored = known.get(deployment_id)
            if stored is not None and stored[0] == parse_time(item.get("updated_at")) and stored[1] in TERMINAL_STATES:
                return
            latest = None
            for page in client.paginate(f"{base}/{deployment_id}/statuses", {"per_page": per_page}):
                for index, status in enumerate(page.items):
                    status = require(status, ("id", "state"), page, index, "deployment status")
                    latest = latest or status["state"]  # newest first
                    statuses.append(
                        {
                            "id": status["id"],
                            "deployment_id": deployment_id,
                            "repo": repo,
                            "state": status["state"],
                            "created_at": status.get("created_at"),
                            "payload": status,
                        }
                    )
            deployments.append(
                {
                    "id": deployment_id,
                    "repo": repo,
                    "environment": item.get("environment"),
                    "sha": item.get("sha"),
                    "created_at": item["created_at"],
                    "updated_at": item.get("updated_at") or item["created_at"],
                    "latest_state": latest,
                    "payload": item,
                }
            )

        for page in client.paginate(base, {"per_page": per_page}):
            if window_end is None:
                window_end = server_time(page.response) - buffer
            reached = False
            for index, item in enumerate(page.items):
                item = require(item, ("id", "created_at"), page, index, "deployment")
                if stop_before is not None and parse_time(item["created_at"]) < stop_before:  # type: ignore[operator]
                    reached = True
                    break
                take(item)
            if len(deployments) + len(statuses) >= batch_size:
                loader.upsert(DEPLOYMENT_STATUSES, statuses, run)
                loader.upsert(DEPLOYMENTS, deployments, run)
                deployments, statuses = [], []
            if reached:
                break
        for deployment_id, (_updated, latest) in known.items():
            if deployment_id not in seen and latest not in TERMINAL_STATES:
                url = f"{base}/{deployment_id}"
                take(
                    require_at(
                        client.get_json(url), ("id", "created_at"), client.url_for(url), "the body", "deployment"
                    )
                )
        assert window_end is not None
        state = {"cursor": window_end.isoformat()}
        loader.upsert(DEPLOYMENT_STATUSES, statuses, run)
        loader.upsert(DEPLOYMENTS, deployments, run, state=state)
        return state

    return run_scopes(client, loader, SOURCE, STREAM, repos, sync_repo)


def main(argv: Sequence[str] | None = None) -> int:
    return cli(
        STREAM,
        "Sync GitHub deployments and statuses into raw_github.deployments / deployment_statuses.",
        lambda client, loader, repos: sync_deployments(client, loader, repos),
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
