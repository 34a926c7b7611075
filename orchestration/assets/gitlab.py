"""GitLab ingestion assets: merge requests (+ commits, notes, approvals), pipelines and jobs, deployments,
environments. Thin: each calls one `ingestion.gitlab.*` sync per configured project and reports its cost.

Register with ``GITLAB_ASSETS`` and the resource key ``"gitlab"`` (see orchestration/definitions.py), e.g.

    "gitlab": GitLabResource(base_url=..., token=dg.EnvVar("GITLAB_TOKEN"), token_env="GITLAB_TOKEN",
                             projects=["acme/ml-platform"])
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg

from ingestion.gitlab.client import gitlab_client
from ingestion.gitlab.deployments import sync_deployments
from ingestion.gitlab.environments import sync_environments
from ingestion.gitlab.merge_requests import sync_merge_requests
from ingestion.gitlab.pipelines import sync_pipelines
from ingestion.http import HttpClient
from orchestration.assets.ingestion import WRITER_POOL, Sync, run_sync
from orchestration.resources import WarehouseResource

GROUP = "ingestion"
KINDS = {"gitlab", "duckdb"}


class GitLabResource(dg.ConfigurableResource):
    """A GitLab REST API v4 source: API root, the token (pass ``dg.EnvVar``), the projects (paths or ids) to read."""

    base_url: str  # e.g. https://gitlab.com/api/v4
    token: str | None = None
    token_env: str | None = None  # the env var's NAME, for actionable error messages only
    projects: list[str]
    per_page: int = 100
    overlap_minutes: int = 10
    timeout_seconds: float = 30.0

    def client(self) -> HttpClient:
        return gitlab_client(self.base_url, self.token, token_env=self.token_env, timeout=(10.0, self.timeout_seconds))

    @property
    def overlap(self) -> timedelta:
        return timedelta(minutes=self.overlap_minutes)


def _run(warehouse: WarehouseResource, gitlab: GitLabResource, sync: Sync) -> dict[str, dg.MetadataValue]:
    return run_sync(warehouse, gitlab.client(), sync, gitlab.projects, "projects")


def _spec(stream: str, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(key=["raw_gitlab", stream], group_name=GROUP, kinds=KINDS, description=description)


MR_STREAMS = ("merge_requests", "mr_commits", "mr_notes", "mr_approvals")


@dg.multi_asset(
    specs=[
        _spec("merge_requests", "GitLab merge requests, incremental by updated_at; open ones re-read every run."),
        _spec("mr_commits", "Commits of the merge requests that changed (or are still open)."),
        _spec("mr_notes", "Notes (comments and system events) of changed merge requests."),
        _spec("mr_approvals", "Approval state of changed merge requests."),
    ],
    pool=WRITER_POOL,
    name="gitlab_merge_requests_and_children",
)
def gitlab_merge_requests(warehouse: WarehouseResource, gitlab: GitLabResource) -> Iterator[dg.MaterializeResult]:
    metadata = _run(
        warehouse,
        gitlab,
        lambda c, lo, p: sync_merge_requests(c, lo, p, overlap=gitlab.overlap, per_page=gitlab.per_page),
    )
    for stream in MR_STREAMS:
        yield dg.MaterializeResult(asset_key=["raw_gitlab", stream], metadata=metadata)


@dg.multi_asset(
    specs=[
        _spec("pipelines", "GitLab pipelines by updated_at (order_by=updated_at&sort=asc); running ones re-read."),
        _spec("jobs", "Jobs of changed pipelines, retried jobs included (include_retried=true)."),
    ],
    pool=WRITER_POOL,
    name="gitlab_pipelines_and_jobs",
)
def gitlab_pipelines(warehouse: WarehouseResource, gitlab: GitLabResource) -> Iterator[dg.MaterializeResult]:
    metadata = _run(
        warehouse, gitlab, lambda c, lo, p: sync_pipelines(c, lo, p, overlap=gitlab.overlap, per_page=gitlab.per_page)
    )
    yield dg.MaterializeResult(asset_key=["raw_gitlab", "pipelines"], metadata=metadata)
    yield dg.MaterializeResult(asset_key=["raw_gitlab", "jobs"], metadata=metadata)


@dg.asset(
    key=["raw_gitlab", "deployments"],
    group_name=GROUP,
    pool=WRITER_POOL,
    kinds=KINDS,
    description="GitLab deployments, updated_after + order_by=updated_at; non-terminal ones re-read by id.",
)
def gitlab_deployments(warehouse: WarehouseResource, gitlab: GitLabResource) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata=_run(
            warehouse,
            gitlab,
            lambda c, lo, p: sync_deployments(c, lo, p, overlap=gitlab.overlap, per_page=gitlab.per_page),
        )
    )


@dg.asset(
    key=["raw_gitlab", "environments"],
    group_name=GROUP,
    pool=WRITER_POOL,
    kinds=KINDS,
    description="GitLab environments with their tier (production, staging...), full list every run.",
)
def gitlab_environments(warehouse: WarehouseResource, gitlab: GitLabResource) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata=_run(warehouse, gitlab, lambda c, lo, p: sync_environments(c, lo, p, per_page=gitlab.per_page))
    )


GITLAB_ASSETS = [gitlab_merge_requests, gitlab_pipelines, gitlab_deployments, gitlab_environments]
