"""GitHub delivery ingestion assets: reviews and PR commits, default-branch commits, deployments, Actions
runs and jobs, issues, releases. Thin: each calls one `ingestion.github.*` sync and reports its cost.

Streams that write two raw tables (a list and its children) are multi-assets: one sync, two keys.
Register with ``GITHUB_DELIVERY_ASSETS`` (see orchestration/definitions.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from ingestion.github.commits import sync_commits
from ingestion.github.deployments import sync_deployments
from ingestion.github.issues import sync_issues
from ingestion.github.pr_children import sync_pr_children
from ingestion.github.releases import sync_releases
from ingestion.github.workflow_runs import sync_workflow_runs
from orchestration.assets.ingestion import WRITER_POOL, Sync, run_sync
from orchestration.resources import GitHubResource, WarehouseResource

GROUP = "ingestion"
KINDS = {"github", "duckdb"}
PULL_REQUESTS = dg.AssetKey(["raw_github", "pull_requests"])


def _run(warehouse: WarehouseResource, github: GitHubResource, sync: Sync) -> dict[str, dg.MetadataValue]:
    return run_sync(warehouse, github.client(), sync, github.repos, "repos")


def _spec(stream: str, description: str, deps: tuple[dg.AssetKey, ...] = ()) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=["raw_github", stream], group_name=GROUP, kinds=KINDS, description=description, deps=list(deps)
    )


@dg.multi_asset(
    specs=[
        _spec("pr_reviews", "Reviews of the pull requests that changed since the last run.", (PULL_REQUESTS,)),
        _spec("pr_commits", "Commits of the pull requests that changed since the last run.", (PULL_REQUESTS,)),
    ],
    pool=WRITER_POOL,
    name="github_pr_reviews_and_commits",
)
def github_pr_children(warehouse: WarehouseResource, github: GitHubResource) -> Iterator[dg.MaterializeResult]:
    """Reads the PR stream's cursor to know which PRs changed (see ingestion.github.pr_children)."""
    metadata = _run(warehouse, github, lambda c, lo, r: sync_pr_children(c, lo, r, per_page=github.per_page))
    yield dg.MaterializeResult(asset_key=["raw_github", "pr_reviews"], metadata=metadata)
    yield dg.MaterializeResult(asset_key=["raw_github", "pr_commits"], metadata=metadata)


@dg.asset(
    key=["raw_github", "commits"],
    group_name=GROUP,
    pool=WRITER_POOL,
    kinds=KINDS,
    description="Default-branch commits (merge commits with both parents), incremental with a 1-day overlap.",
)
def github_commits(warehouse: WarehouseResource, github: GitHubResource) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=_run(warehouse, github, lambda c, lo, r: sync_commits(c, lo, r)))


@dg.multi_asset(
    specs=[
        _spec("deployments", "GitHub deployments, newest first down to cursor - 7 days; non-terminal ones re-read."),
        _spec("deployment_statuses", "Statuses of new or changed deployments."),
    ],
    pool=WRITER_POOL,
    name="github_deployments_and_statuses",
)
def github_deployments(warehouse: WarehouseResource, github: GitHubResource) -> Iterator[dg.MaterializeResult]:
    metadata = _run(warehouse, github, lambda c, lo, r: sync_deployments(c, lo, r))
    yield dg.MaterializeResult(asset_key=["raw_github", "deployments"], metadata=metadata)
    yield dg.MaterializeResult(asset_key=["raw_github", "deployment_statuses"], metadata=metadata)


@dg.multi_asset(
    specs=[
        _spec("workflow_runs", "Actions workflow runs, every attempt; day windows bisected under the 1,000 cap."),
        _spec("workflow_jobs", "Actions jobs of every attempt of new or changed runs."),
    ],
    pool=WRITER_POOL,
    name="github_workflow_runs_and_jobs",
)
def github_workflow_runs(warehouse: WarehouseResource, github: GitHubResource) -> Iterator[dg.MaterializeResult]:
    metadata = _run(warehouse, github, lambda c, lo, r: sync_workflow_runs(c, lo, r))
    yield dg.MaterializeResult(asset_key=["raw_github", "workflow_runs"], metadata=metadata)
    yield dg.MaterializeResult(asset_key=["raw_github", "workflow_jobs"], metadata=metadata)


@dg.asset(
    key=["raw_github", "issues"],
    group_name=GROUP,
    pool=WRITER_POOL,
    kinds=KINDS,
    description="GitHub issues (pull requests dropped), labels kept for incident/bug classification in dbt.",
)
def github_issues(warehouse: WarehouseResource, github: GitHubResource) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=_run(warehouse, github, lambda c, lo, r: sync_issues(c, lo, r)))


@dg.asset(
    key=["raw_github", "releases"],
    group_name=GROUP,
    pool=WRITER_POOL,
    kinds=KINDS,
    description="GitHub releases, newest first down to cursor - 7 days.",
)
def github_releases(warehouse: WarehouseResource, github: GitHubResource) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=_run(warehouse, github, lambda c, lo, r: sync_releases(c, lo, r)))


GITHUB_DELIVERY_ASSETS = [
    github_pr_children,
    github_commits,
    github_deployments,
    github_workflow_runs,
    github_issues,
    github_releases,
]
