"""GitLab pipelines and their jobs (retried ones included) -> `raw_gitlab.pipelines`, `raw_gitlab.jobs`.

`GET /projects/:id/pipelines` walked by `updated_at` (`updated_after=cursor - overlap&updated_before=
window end&order_by=updated_at&sort=asc`, see `ingestion.gitlab.common`). For every pipeline in the
window the single-pipeline endpoint is read (only it has `started_at`, `finished_at`, `duration`,
`queued_duration`; that payload is stored) and its jobs with `include_retried=true`: a job retried in
place (a flaky test re-run) is only listed that way, and is what the flaky-CI metrics count.
Pipelines stored in a non-terminal status (created, pending, running...) that the walk did not return
are re-read by id every run, so a running pipeline lands with its final state. The cursor is the
window end (server Date - buffer), committed with the last batch.

    python -m ingestion.gitlab.pipelines --warehouse data/warehouse.duckdb \
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

STREAM = "pipelines"
TERMINAL_STATUSES = frozenset({"success", "failed", "canceled", "skipped"})

PIPELINES = RawTable(
    source=SOURCE,
    stream="pipelines",
    primary_key=("id",),
    columns={
        "id": "BIGINT",
        "project": "VARCHAR",
        "project_id": "BIGINT",
        "status": "VARCHAR",
        "ref": "VARCHAR",
        "sha": "VARCHAR",
        "created_at": "TIMESTAMPTZ",
        "updated_at": "TIMESTAMPTZ",
    },
)
JOBS = RawTable(
    source=SOURCE,
    stream="jobs",
    primary_key=("id",),
    columns={
        "id": "BIGINT",
        "pipeline_id": "BIGINT",
        "project": "VARCHAR",
        "name": "VARCHAR",
        "status": "VARCHAR",
        "retried": "BOOLEAN",
        "started_at": "TIMESTAMPTZ",
    },
)


def sync_pipelines(
    client: HttpClient,
    loader: RawLoader,
    projects: Sequence[str],
    *,
    overlap: timedelta = timedelta(minutes=10),
    buffer: timedelta = timedelta(minutes=1),
    per_page: int = 100,
    batch_size: int = 500,
) -> SyncSummary:
    """Sync pipelines (+ all jobs, retried included) of each project path; see the module docstring."""
    for project in projects:
        project_ref(project)
    loader.ensure_table(PIPELINES)
    loader.ensure_table(JOBS)

    def sync_project(project: str, run: SyncRun) -> Mapping[str, Any]:
        base = f"{project_base(project)}/pipelines"
        cursor = read_cursor(loader.get_state(SOURCE, STREAM, project), STREAM, project)
        start, end = window(client, project, cursor, overlap, buffer)
        unfinished = [
            int(r[0])
            for r in loader.con.execute(
                "SELECT id FROM raw_gitlab.pipelines WHERE project = ? AND status NOT IN "
                f"({', '.join('?' * len(TERMINAL_STATUSES))}) ORDER BY id",
                [project, *sorted(TERMINAL_STATUSES)],
            ).fetchall()
        ]
        pipelines: list[dict[str, Any]] = []
        jobs: list[dict[str, Any]] = []
        seen: set[int] = set()

        def flush(state: dict[str, Any] | None = None) -> None:
            nonlocal pipelines, jobs
            loader.upsert(JOBS, jobs, run)
            loader.upsert(PIPELINES, pipelines, run, state=state)
            pipelines, jobs = [], []

        def take(pipeline_id: int) -> None:
            if pipeline_id in seen:
                return
            seen.add(pipeline_id)
            url = f"{base}/{pipeline_id}"
            detail = require(client.get_json(url), ("id", "status"), client.url_for(url), "the body", "pipeline")
            pipelines.append(
                {
                    "id": detail["id"],
                    "project": project,
                    "project_id": detail.get("project_id"),
                    "status": detail["status"],
                    "ref": detail.get("ref"),
                    "sha": detail.get("sha"),
                    "created_at": detail.get("created_at"),
                    "updated_at": detail.get("updated_at") or detail.get("created_at"),
                    "payload": detail,
                }
            )
            jobs.extend(_jobs(client, project, base, pipeline_id, per_page))
            if len(pipelines) + len(jobs) >= batch_size:
                flush()

        for page in walk_updated(client, base, start, end, per_page):
            for item in page_items(page, ("id",), "pipeline"):
                take(int(item["id"]))
        reread = [pipeline_id for pipeline_id in unfinished if pipeline_id not in seen]
        for pipeline_id in reread:
            take(pipeline_id)
        state = {"cursor": end.isoformat(), "unfinished_reread": len(reread)}
        flush(state)
        return state

    return run_scopes(client, loader, SOURCE, STREAM, projects, sync_project)


def _jobs(client: HttpClient, project: str, base: str, pipeline_id: int, per_page: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in client.paginate(f"{base}/{pipeline_id}/jobs", {"include_retried": "true", "per_page": per_page}):
        found.extend(page_items(page, ("id",), "job"))
    # A job is retried when a newer job of the same name exists in the pipeline (GitLab's own rule);
    # an explicit `retried` flag in the payload wins.
    newest: dict[str, int] = {}
    for job in found:
        name = str(job.get("name"))
        newest[name] = max(newest.get(name, 0), int(job["id"]))
    return [
        {
            "id": job["id"],
            "pipeline_id": pipeline_id,
            "project": project,
            "name": job.get("name"),
            "status": job.get("status"),
            "retried": job["retried"]
            if isinstance(job.get("retried"), bool)
            else int(job["id"]) != newest[str(job.get("name"))],
            "started_at": job.get("started_at"),
            "payload": job,
        }
        for job in found
    ]


def main(argv: Sequence[str] | None = None) -> int:
    return cli(
        STREAM,
        "Sync GitLab pipelines and jobs (retried included) into raw_gitlab.pipelines / jobs.",
        lambda client, loader, projects: sync_pipelines(client, loader, projects),
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
