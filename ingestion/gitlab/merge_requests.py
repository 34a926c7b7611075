"""GitLab merge requests and their commits, notes and approvals -> `raw_gitlab.merge_requests`,
`raw_gitlab.mr_commits`, `raw_gitlab.mr_notes`, `raw_gitlab.mr_approvals`.

`GET /projects/:id/merge_requests?state=all` walked by `updated_at` (see `ingestion.gitlab.common`):
cursor = window end (server Date - buffer), committed with the walk's last batch; the next run
re-reads from `cursor - overlap`. Children (commits, notes, approvals) are read for every MR in the
window. Pushing commits to an MR does *not* move its `updated_at` (DevLake #8959), so MRs stored as
`opened` that the walk did not return are re-read by iid with their children every run.

    python -m ingestion.gitlab.merge_requests --warehouse data/warehouse.duckdb \
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

STREAM = "merge_requests"

MERGE_REQUESTS = RawTable(
    source=SOURCE,
    stream="merge_requests",
    primary_key=("id",),
    columns={
        "id": "BIGINT",
        "project": "VARCHAR",
        "project_id": "BIGINT",
        "iid": "INTEGER",
        "state": "VARCHAR",
        "created_at": "TIMESTAMPTZ",
        "updated_at": "TIMESTAMPTZ",
        "merged_at": "TIMESTAMPTZ",
    },
)
MR_COMMITS = RawTable(
    source=SOURCE,
    stream="mr_commits",
    primary_key=("mr_id", "sha"),
    columns={
        "mr_id": "BIGINT",
        "sha": "VARCHAR",
        "project": "VARCHAR",
        "mr_iid": "INTEGER",
        "authored_at": "TIMESTAMPTZ",
    },
)
MR_NOTES = RawTable(
    source=SOURCE,
    stream="mr_notes",
    primary_key=("id",),
    columns={
        "id": "BIGINT",
        "mr_id": "BIGINT",
        "project": "VARCHAR",
        "mr_iid": "INTEGER",
        "system": "BOOLEAN",
        "created_at": "TIMESTAMPTZ",
    },
)
MR_APPROVALS = RawTable(
    source=SOURCE,
    stream="mr_approvals",
    primary_key=("mr_id",),
    columns={
        "mr_id": "BIGINT",
        "project": "VARCHAR",
        "mr_iid": "INTEGER",
        "approved": "BOOLEAN",
        "updated_at": "TIMESTAMPTZ",
    },
)
TABLES = (MERGE_REQUESTS, MR_COMMITS, MR_NOTES, MR_APPROVALS)


def sync_merge_requests(
    client: HttpClient,
    loader: RawLoader,
    projects: Sequence[str],
    *,
    overlap: timedelta = timedelta(minutes=10),
    buffer: timedelta = timedelta(minutes=1),
    per_page: int = 100,
    batch_size: int = 500,
) -> SyncSummary:
    """Sync MRs (+ children of changed and open MRs) of each project path; see the module docstring."""
    for project in projects:
        project_ref(project)
    for table in TABLES:
        loader.ensure_table(table)

    def sync_project(project: str, run: SyncRun) -> Mapping[str, Any]:
        base = f"{project_base(project)}/merge_requests"
        cursor = read_cursor(loader.get_state(SOURCE, STREAM, project), STREAM, project)
        start, end = window(client, project, cursor, overlap, buffer)
        stored_open = [
            int(r[0])
            for r in loader.con.execute(
                "SELECT iid FROM raw_gitlab.merge_requests WHERE project = ? AND state = 'opened' ORDER BY iid",
                [project],
            ).fetchall()
        ]
        rows: dict[str, list[dict[str, Any]]] = {table.stream: [] for table in TABLES}
        seen: set[int] = set()

        def flush(state: dict[str, Any] | None = None) -> None:
            for table in (MR_COMMITS, MR_NOTES, MR_APPROVALS):
                loader.upsert(table, rows[table.stream], run)
                rows[table.stream] = []
            loader.upsert(MERGE_REQUESTS, rows[MERGE_REQUESTS.stream], run, state=state)
            rows[MERGE_REQUESTS.stream] = []

        def take(mr: dict[str, Any]) -> None:
            iid = int(mr["iid"])
            if iid in seen:
                return  # a re-walk of the window: already read in this run
            seen.add(iid)
            rows[MERGE_REQUESTS.stream].append(
                {
                    "id": mr["id"],
                    "project": project,
                    "project_id": mr.get("project_id"),
                    "iid": iid,
                    "state": mr.get("state"),
                    "created_at": mr.get("created_at"),
                    "updated_at": mr["updated_at"],
                    "merged_at": mr.get("merged_at"),
                    "payload": mr,
                }
            )
            _children(client, project, base, mr, per_page, rows)
            if sum(len(r) for r in rows.values()) >= batch_size:
                flush()

        for page in walk_updated(client, base, start, end, per_page, {"state": "all"}):
            for mr in page_items(page, ("id", "iid", "updated_at"), "merge request"):
                take(mr)
        reread = 0
        for iid in stored_open:
            if iid not in seen:
                reread += 1
                url = f"{base}/{iid}"
                take(require(client.get_json(url), ("id", "iid", "updated_at"), client.url_for(url), "the body", "MR"))
        state = {"cursor": end.isoformat(), "open_reread": reread}
        flush(state)
        return state

    return run_scopes(client, loader, SOURCE, STREAM, projects, sync_project)


def _children(
    client: HttpClient,
    project: str,
    base: str,
    mr: dict[str, Any],
    per_page: int,
    rows: dict[str, list[dict[str, Any]]],
) -> None:
    mr_id, iid = int(mr["id"]), int(mr["iid"])
    for page in client.paginate(f"{base}/{iid}/commits", {"per_page": per_page}):
        for commit in page_items(page, ("id",), "commit"):
            rows[MR_COMMITS.stream].append(
                {
                    "mr_id": mr_id,
                    "sha": commit["id"],
                    "project": project,
                    "mr_iid": iid,
                    "authored_at": commit.get("authored_date"),
                    "payload": commit,
                }
            )
    for page in client.paginate(f"{base}/{iid}/notes", {"per_page": per_page, "sort": "asc"}):
        for note in page_items(page, ("id",), "note"):
            rows[MR_NOTES.stream].append(
                {
                    "id": note["id"],
                    "mr_id": mr_id,
                    "project": project,
                    "mr_iid": iid,
                    "system": bool(note.get("system")),
                    "created_at": note.get("created_at"),
                    "payload": note,
                }
            )
    url = f"{base}/{iid}/approvals"
    approvals = require(client.get_json(url), (), client.url_for(url), "the body", "approvals")
    rows[MR_APPROVALS.stream].append(
        {
            "mr_id": mr_id,
            "project": project,
            "mr_iid": iid,
            "approved": approvals.get("approved") if isinstance(approvals.get("approved"), bool) else None,
            "updated_at": approvals.get("updated_at") or mr["updated_at"],
            "payload": approvals,
        }
    )


def main(argv: Sequence[str] | None = None) -> int:
    return cli(
        STREAM,
        "Sync GitLab merge requests (+ commits, notes, approvals) into raw_gitlab.merge_requests / mr_*.",
        lambda client, loader, projects: sync_merge_requests(client, loader, projects),
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
