"""GitLab environments -> `raw_gitlab.environments` (full list every run: a project has a handful).

`tier` (production, staging, testing, development, other) is how DORA metrics pick production
deployments on GitLab; environment names are free text.

    python -m ingestion.gitlab.environments --warehouse data/warehouse.duckdb \
        --base-url https://gitlab.com/api/v4 --projects acme/ml-platform --token-env GITLAB_TOKEN
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ingestion.gitlab.common import SOURCE, cli, page_items, project_base, project_ref
from ingestion.http import HttpClient, server_time
from ingestion.loader import RawLoader, RawTable
from ingestion.meta import SyncRun
from ingestion.runs import SyncSummary, run_scopes

STREAM = "environments"

ENVIRONMENTS = RawTable(
    source=SOURCE,
    stream="environments",
    primary_key=("id",),
    columns={"id": "BIGINT", "project": "VARCHAR", "name": "VARCHAR", "tier": "VARCHAR"},
)


def sync_environments(
    client: HttpClient, loader: RawLoader, projects: Sequence[str], *, per_page: int = 100
) -> SyncSummary:
    for project in projects:
        project_ref(project)
    loader.ensure_table(ENVIRONMENTS)

    def sync_project(project: str, run: SyncRun) -> Mapping[str, Any]:
        rows: list[dict[str, Any]] = []
        synced_at = None
        for page in client.paginate(f"{project_base(project)}/environments", {"per_page": per_page}):
            synced_at = synced_at or server_time(page.response)
            for env in page_items(page, ("id", "name"), "environment"):
                rows.append(
                    {
                        "id": env["id"],
                        "project": project,
                        "name": env["name"],
                        "tier": env.get("tier"),
                        "payload": env,
                    }
                )
        state = {"synced_at": synced_at.isoformat() if synced_at else None, "environments": len(rows)}
        loader.upsert(ENVIRONMENTS, rows, run, state=state)
        return state

    return run_scopes(client, loader, SOURCE, STREAM, projects, sync_project)


def main(argv: Sequence[str] | None = None) -> int:
    return cli(
        STREAM,
        "Sync GitLab environments into raw_gitlab.environments.",
        lambda client, loader, projects: sync_environments(client, loader, projects),
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
