"""GitHub delivery connectors end to end: fake GitHub over HTTP -> DuckDB (reviews, commits, Actions,
deployments, issues, releases). Each test builds its own company: most move its clock."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import duckdb
import pytest

from ingestion.github.commits import sync_commits
from ingestion.github.deployments import sync_deployments
from ingestion.github.issues import sync_issues
from ingestion.github.pr_children import sync_pr_children
from ingestion.github.pull_requests import sync_pull_requests
from ingestion.github.releases import sync_releases
from ingestion.github.workflow_runs import sync_workflow_runs
from ingestion.http import HttpClient
from ingestion.loader import RawLoader
from simulation.company import Company
from simulation.server import FakeApiServer

from .conftest import SleepRecorder, make_company

REPO = "acme/checkout-service"  # has the flaky test: runs with two attempts
SMALL = "acme/checkout-web"  # the smallest repo


@pytest.fixture
def company() -> Company:
    return make_company()


def _visible_runs(company: Company, repo: str) -> list:
    service = company.delivery.service_for_repo(repo)
    assert service is not None
    return [r for r in company.delivery.ci_runs(service.name) if r.created_at <= company.now]


def _count(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> int:
    row = con.execute(sql, list(params)).fetchone()
    assert row is not None
    return int(row[0])


def test_workflow_runs_load_every_attempt_and_every_job(
    client: HttpClient, loader: RawLoader, warehouse: duckdb.DuckDBPyConnection, company: Company
) -> None:
    summary = sync_workflow_runs(client, loader, [REPO], initial_days=70, per_page=30)

    runs = _visible_runs(company, REPO)
    attempts = {(r.id, a.attempt) for r in runs for a in r.attempts_at(company.now)}
    jobs = {j.id for r in runs for a in r.attempts_at(company.now) for j in a.jobs}
    stored = set(warehouse.execute("SELECT id, run_attempt FROM raw_github.workflow_runs").fetchall())
    assert stored == attempts
    assert {row[0] for row in warehouse.execute("SELECT id FROM raw_github.workflow_jobs").fetchall()} == jobs
    assert any(attempt == 2 for _, attempt in stored)  # the flaky test's re-runs
    assert summary.ok and summary.records == len(attempts) + len(jobs)


def test_a_day_with_more_than_1000_runs_is_bisected_and_loses_none(
    client: HttpClient, loader: RawLoader, warehouse: duckdb.DuckDBPyConnection, company: Company
) -> None:
    day = (company.now - timedelta(days=3)).date()
    company.delivery.add_run_burst(SMALL, day, 1200)
    runs = _visible_runs(company, SMALL)
    on_day = {r.id for r in runs if r.created_at.date() == day}
    assert len(on_day) >= 1200

    sync_workflow_runs(client, loader, [SMALL], initial_days=10)

    stored = {
        row[0]
        for row in warehouse.execute(
            "SELECT id FROM raw_github.workflow_runs WHERE CAST(created_at AT TIME ZONE 'UTC' AS DATE) = ?", [day]
        ).fetchall()
    }
    assert stored == on_day
    state = loader.get_state("github", "workflow_runs", SMALL)
    assert state is not None and state["windows"] > 11  # the busy day was split


def test_a_running_ci_run_and_a_pending_deployment_land_later_with_their_final_state(
    client: HttpClient, loader: RawLoader, warehouse: duckdb.DuckDBPyConnection, company: Company
) -> None:
    service = company.delivery.service_for_repo(REPO)
    assert service is not None
    future = [
        d
        for d in company.delivery.deployments(service.name)
        if d.created_at > company.now and d.finished_at - d.started_at > timedelta(minutes=3)
    ]
    deployment = future[0]
    moment = deployment.started_at + timedelta(minutes=2)  # deploying: its deploy run is in progress too
    company.advance((moment - company.now).total_seconds() / 86400)
    running = [r for r in _visible_runs(company, REPO) if r.workflow == "deploy" and r.head_sha == deployment.sha]
    assert running and running[-1].attempts[-1].completed_at > company.now

    sync_workflow_runs(client, loader, [REPO], initial_days=3)
    sync_deployments(client, loader, [REPO])
    assert warehouse.execute(
        "SELECT latest_state FROM raw_github.deployments WHERE id = ?", [deployment.id]
    ).fetchone() == ("in_progress",)
    running = running[-1:]
    run_id = running[0].id
    assert _count(
        warehouse, "SELECT count(*) FROM raw_github.workflow_runs WHERE id = ? AND status != 'completed'", run_id
    )

    company.advance(1)
    sync_workflow_runs(client, loader, [REPO])
    sync_deployments(client, loader, [REPO])

    final = warehouse.execute(
        "SELECT latest_state, payload->>'$.updated_at' FROM raw_github.deployments WHERE id = ?", [deployment.id]
    ).fetchone()
    assert final is not None and final[0] == deployment.result
    assert (
        _count(warehouse, "SELECT count(*) FROM raw_github.deployment_statuses WHERE deployment_id = ?", deployment.id)
        == 3
    )
    statuses = warehouse.execute(
        "SELECT status FROM raw_github.workflow_runs WHERE id = ? ORDER BY run_attempt DESC", [run_id]
    ).fetchall()
    assert statuses[0] == ("completed",)
    jobs = warehouse.execute(
        "SELECT DISTINCT status FROM raw_github.workflow_jobs WHERE run_id = ?", [run_id]
    ).fetchall()
    assert jobs == [("completed",)]


def test_child_stream_recovers_from_secondary_rate_limit_and_server_errors(
    server: FakeApiServer,
    client: HttpClient,
    loader: RawLoader,
    warehouse: duckdb.DuckDBPyConnection,
    company: Company,
    sleeps: SleepRecorder,
) -> None:
    sync_pull_requests(client, loader, [SMALL])
    server.faults.inject("github", "secondary_403", times=1, path_contains="/reviews", retry_after=7)
    server.faults.inject("github", "server_error", times=2, path_contains="/commits", status=502)

    summary = sync_pr_children(client, loader, [SMALL])

    assert summary.ok
    assert 7.0 in sleeps.calls and len(sleeps.calls) >= 3
    prs = company.pull_requests(SMALL)
    reviews = {r.id for pr in prs for r in pr.reviews if r.submitted_at <= company.now}
    commits = {(pr.id, c.sha) for pr in prs for c in pr.commits if c.committed_at <= company.now}
    assert {row[0] for row in warehouse.execute("SELECT id FROM raw_github.pr_reviews").fetchall()} == reviews
    assert set(warehouse.execute("SELECT pr_id, sha FROM raw_github.pr_commits").fetchall()) == commits


def _sync_all(client: HttpClient, loader: RawLoader, repos: list[str]) -> dict[str, int]:
    requests = {}
    requests["pull_requests"] = sync_pull_requests(client, loader, repos).requests
    requests["pr_children"] = sync_pr_children(client, loader, repos).requests
    requests["commits"] = sync_commits(client, loader, repos).requests
    requests["deployments"] = sync_deployments(client, loader, repos).requests
    requests["workflow_runs"] = sync_workflow_runs(client, loader, repos, initial_days=70).requests
    requests["issues"] = sync_issues(client, loader, repos).requests
    requests["releases"] = sync_releases(client, loader, repos).requests
    return requests


def test_incremental_sync_after_one_day_fetches_only_what_changed(
    client: HttpClient, loader: RawLoader, warehouse: duckdb.DuckDBPyConnection, company: Company
) -> None:
    repos = [SMALL]
    full = _sync_all(client, loader, repos)
    before = company.now
    company.advance(1)
    service = company.delivery.service_for_repo(SMALL)
    assert service is not None
    new_runs = [
        r
        for r in _visible_runs(company, SMALL)
        if any(a.completed_at > before - timedelta(minutes=2) for a in r.attempts)
    ]
    changed_prs = [s for s in company.pull_request_states(SMALL) if s.updated_at >= before - timedelta(minutes=12)]
    deploys = [
        d
        for d in company.delivery.deployments(service.name)
        if d.finished_at > before - timedelta(days=7) and d.created_at <= company.now
    ]

    incremental = _sync_all(client, loader, repos)

    recorded = dict(
        warehouse.execute(
            "SELECT stream, requests FROM meta.sync_runs WHERE started_at = "
            "(SELECT max(started_at) FROM meta.sync_runs m WHERE m.stream = sync_runs.stream)"
        ).fetchall()
    )
    assert recorded == incremental  # meta.sync_runs shows each stream's request count
    assert incremental["pull_requests"] <= 1 + math.ceil(len(changed_prs) / 100)
    assert incremental["pr_children"] <= 2 * len(changed_prs) + 2
    assert incremental["commits"] <= 2
    # One list page, plus one statuses call per deployment created or moved within the 7-day lookback.
    assert incremental["deployments"] <= 2 + len(deploys)
    # A probe, one (mostly 304) request per re-scanned day window, a jobs call per new/changed run.
    assert incremental["workflow_runs"] <= 1 + 34 + 2 * len(new_runs)
    assert incremental["issues"] <= 2 and incremental["releases"] <= 2
    assert sum(incremental.values()) < sum(full.values()) / 4


def test_primary_keys_stay_unique_and_payloads_are_the_served_json(
    client: HttpClient, loader: RawLoader, warehouse: duckdb.DuckDBPyConnection, company: Company
) -> None:
    repos = [REPO]
    _sync_all(client, loader, repos)
    company.advance(0.5)
    _sync_all(client, loader, repos)

    keys = {
        "pr_reviews": "id",
        "pr_commits": "pr_id, sha",
        "commits": "sha",
        "deployments": "id",
        "deployment_statuses": "id",
        "workflow_runs": "id, run_attempt",
        "workflow_jobs": "id",
        "issues": "id",
        "releases": "id",
    }
    for table, key in keys.items():
        total = _count(warehouse, f"SELECT count(*) FROM raw_github.{table}")
        distinct = _count(warehouse, f"SELECT count(*) FROM (SELECT DISTINCT {key} FROM raw_github.{table})")
        assert total == distinct > 0, table
    # Payloads are exactly what the API served (latest version).
    newest = client.get_json(f"/repos/{REPO}/deployments", {"per_page": 5})
    for item in newest:
        stored = warehouse.execute("SELECT payload FROM raw_github.deployments WHERE id = ?", [item["id"]]).fetchone()
        assert stored is not None and json.loads(stored[0]) == item
    # Issues keep labels and never include pull requests; some name the root-cause commit.
    labels = {
        row[0]
        for row in warehouse.execute(
            "SELECT DISTINCT unnest(payload->'$.labels[*].name') FROM raw_github.issues"
        ).fetchall()
    }
    assert {'"incident"', '"bug"'} <= labels
    assert (
        _count(
            warehouse,
            "SELECT count(*) FROM raw_github.issues WHERE json_extract(payload, '$.pull_request') IS NOT NULL",
        )
        == 0
    )
    assert (
        _count(warehouse, "SELECT count(*) FROM raw_github.issues WHERE payload->>'$.body' LIKE '%root cause: %'") > 0
    )


def test_every_page_is_followed_for_small_pages(
    client: HttpClient, loader: RawLoader, warehouse: duckdb.DuckDBPyConnection, company: Company
) -> None:
    sync_deployments(client, loader, [REPO], per_page=7)
    sync_commits(client, loader, [REPO], per_page=9)
    service = company.delivery.service_for_repo(REPO)
    assert service is not None
    visible = [d for d in company.delivery.deployments(service.name) if d.created_at <= company.now]
    merged = [c for c in company.delivery.changes(service.name) if c.merged_at <= company.now]
    assert _count(warehouse, "SELECT count(*) FROM raw_github.deployments") == len(visible) > 7
    assert _count(warehouse, "SELECT count(*) FROM raw_github.commits") == len(merged) > 9
