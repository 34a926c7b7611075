"""GitLab deployments -> `raw_gitlab.deployments`.

`GET /projects/:id/deployments` with `updated_after=cursor - overlap&updated_before=window end`
**and `order_by=updated_at&sort=asc`**: GitLab rejects the `updated_*` filters with a 400 unless the
list is sorted by `updated_at` (app/finders/deployments_finder.rb; source-apis.md §3.1). A
deployment's `updated_at` moves with every status change, so the walk sees them; deployments stored
as non-terminal (created, running, blocked) that the walk did not return are re-read by id, so a
deployment pending at one sync lands with its final state at a later one. The payload embeds the
environment and the deploy job (`deployable`, with its pipeline); the environment tier comes from
`raw_gitlab.environments`.

    python -m ingestion.gitlab.deployments --warehouse data/warehouse.duckdb \
        --base-url https://gitlab.com/api/v4 --projects acme/ml-platform --token-env GITLAB_TOKEN
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from ingestion.gitlab.common import (
    SOURCE,
    cli,
    page_items,
    project_base,
    project_ref,
    read_cursor,
    require,
    walk_updated,
    window,
)
from ingestion.http import HttpClient
from ingestion.loader import RawLoader, RawTable
from ingestion.meta import SyncRun
from ingestion.runs import SyncSummary, run_scopes

STREAM = "deployments"
TERMINAL_STATUSES = frozenset({"success", "failed", "canceled", "skipped"})

DEPLOYMENTS = RawTable(
    source=SOURCE,
    stream="deployments",
    primary_key=("id",),
    columns={
        "id": "BIGINT",
        "project": "VARCHAR",
        "iid": "INTEGER",
        "environment": "VARCHAR",
        "status": "VARCHAR",
        "sha": "VARCHAR",
        "created_at": "TIMESTAMPTZ",
        "updated_at": "TIMESTAMPTZ",
    },
)


def sync_deployments(
    client: HttpClient,
    loader: RawLoader,
    projects: Sequence[str],
    *,
    overlap: timedelta = timedelta(minutes=10),
    buffer: timedelta = timedelta(minutes=1),
    per_page: int = 100,
    batch_size: int = 500,
) -> SyncSummary:
    """Sync the deployments of each project path; see the module docstring."""
    for project in projects:
        project_ref(project)
    loader.ensure_table(DEPLOYMENTS)

    def sync_project(project: str, run: SyncRun) -> Mapping[str, Any]:
        base = f"{project_base(project)}/deployments"
        cursor = read_cursor(loader.get_state(SOURCE, STREAM, project), STREAM, project)
        start, end = window(client, project, cursor, overlap, buffer)
        unfinished = [
            int(r[0])
            for r in loader.con.execute(
                "SELECT id FROM raw_gitlab.deployments WHERE project = ? AND status NOT IN "
                f"({', '.join('?' * len(TERMINAL_STATUSES))}) ORDER BY id",
                [project, *sorted(TERMINAL_STATUSES)],
            ).fetchall()
        ]
        batch: list[dict[str, Any]] = []
        seen: set[int] = set()

        def take(item: dict[str, Any]) -> None:
            seen.add(int(item["id"]))
            batch.append(
                {
                    "id": item["id"],
                    "project": project,
                    "iid": item.get("iid"),
                    "environment": (item.get("environment") or {}).get("name"),
                    "status": item.get("status"),
                    "sha": item.get("sha"),
                    "created_at": item.get("created_at"),
                    "updated_at": item["updated_at"],
                    "payload": item,
                }
            )

        for page in walk_updated(client, base, start, end, per_page):
            for item in page_items(page, ("id", "updated_at"), "deployment"):
                take(item)
            if len(batch) >= batch_size:
                loader.upsert(DEPLOYMENTS, batch, run)
                batch = []
        reread = [deployment_id for deployment_id in unfinished if deployment_id not in seen]
        for deployment_id in reread:
            url = f"{base}/{deployment_id}"
            take(require(client.get_json(url), ("id", "updated_at"), client.url_for(url), "the body", "deployment"))
        state = {"cursor": end.isoformat(), "unfinished_reread": len(reread)}
        loader.upsert(DEPLOYMENTS, batch, run, state=state)
        return state

    return run_scopes(client, loader, SOURCE, STREAM, projects, sync_project)


def main(argv: Sequence[str] | None = None) -> int:
    return cli(
        STREAM,
        "Sync GitLab deployments into raw_gitlab.deployments.",
        lambda client, loader, projects: sync_deployments(client, loader, projects),
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
