"""The fake GitLab v4 API behaves like GitLab where clients can trip: pagination headers (totals dropped
above 10,000), the deployments `updated_*` filter that needs `order_by=updated_at`, auth, rate limits,
ETags, retried jobs, and state that moves with the company clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from simulation.company import Company, generate_company
from simulation.gitlab_api import GitLabApi
from simulation.gitlab_payloads import GitLabView
from simulation.server import FakeApiServer

ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)
PROJECT = "acme/ml-platform"
ENCODED = "acme%2Fml-platform"


def make_company() -> Company:
    return generate_company(seed=42, scale=0.3, anchor=ANCHOR, history_days=30)


class GitLab:
    def __init__(self, server: FakeApiServer, headers: dict[str, str] | None = None) -> None:
        self.server = server
        self.base = server.base_url("gitlab") + "/api/v4"
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers.update({"PRIVATE-TOKEN": "glpat-test"} if headers is None else headers)

    def get(self, path: str, **params: Any) -> requests.Response:
        url = path if path.startswith("http") else self.base + path
        return self.session.get(url, params=params or None, timeout=10)


@pytest.fixture(scope="module")
def shared_server() -> Iterator[FakeApiServer]:
    with FakeApiServer(make_company(), sources=[GitLabApi()]) as server:
        yield server


@pytest.fixture
def gl(shared_server: FakeApiServer) -> Iterator[GitLab]:
    shared_server.faults.clear()
    shared_server.quotas.reset()
    client = GitLab(shared_server)
    yield client
    client.session.close()
    assert shared_server.company.now == ANCHOR


def test_gitlab_is_a_default_source() -> None:
    from simulation.sources import DEFAULT_SOURCES

    assert GitLabApi in DEFAULT_SOURCES


def test_pagination_headers_and_link_walk_every_page(gl: GitLab) -> None:
    first = gl.get(f"/projects/{ENCODED}/pipelines", per_page=10)
    assert first.status_code == 200
    total = int(first.headers["x-total"])
    assert total > 20
    assert first.headers["x-total-pages"] == str(-(-total // 10))
    assert (first.headers["x-page"], first.headers["x-per-page"], first.headers["x-prev-page"]) == ("1", "10", "")
    assert first.headers["x-next-page"] == "2"
    ids, response = [], first
    while True:
        ids += [p["id"] for p in response.json()]
        if "next" not in response.links:
            assert response.headers["x-next-page"] == ""
            assert 'rel="last"' in response.headers["Link"] and 'rel="prev"' in response.headers["Link"]
            break
        response = gl.get(response.links["next"]["url"])
    assert len(ids) == len(set(ids)) == total
    assert int(gl.get(f"/projects/{ENCODED}/pipelines", per_page=500).headers["x-per-page"]) == 100  # clamped
    assert len(gl.get(f"/projects/{ENCODED}/pipelines").json()) == 20  # GitLab's default


def test_totals_are_dropped_above_the_limit(gl: GitLab) -> None:
    api = gl.server.source("gitlab")
    assert isinstance(api, GitLabApi)
    api.totals_limit = 50
    try:
        response = gl.get(f"/projects/{ENCODED}/pipelines", per_page=20)
    finally:
        api.totals_limit = 10_000
    assert "x-total" not in response.headers and "x-total-pages" not in response.headers
    assert 'rel="last"' not in response.headers["Link"]
    assert response.headers["x-next-page"] == "2" and "next" in response.links


def test_deployments_updated_after_requires_order_by_updated_at(gl: GitLab) -> None:
    path = f"/projects/{ENCODED}/deployments"
    since = (ANCHOR - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for params in ({"updated_after": since}, {"updated_before": since, "order_by": "id"}):
        rejected = gl.get(path, **params)
        assert rejected.status_code == 400
        assert "order_by=updated_at" in rejected.json()["message"]
    accepted = gl.get(path, updated_after=since, order_by="updated_at", sort="asc", per_page=100)
    assert accepted.status_code == 200
    stamps = [d["updated_at"] for d in accepted.json()]
    assert stamps and stamps == sorted(stamps) and all(s > since for s in stamps)
    assert len(accepted.json()) < int(gl.get(path).headers["x-total"])


def test_auth_private_token_or_bearer_else_401(gl: GitLab) -> None:
    path = f"/projects/{ENCODED}/environments"
    anonymous = GitLab(gl.server, headers={}).get(path)
    assert anonymous.status_code == 401 and anonymous.json() == {"message": "401 Unauthorized"}
    assert GitLab(gl.server, headers={"Authorization": "Bearer oauth-token"}).get(path).status_code == 200
    environments = gl.get(path).json()
    assert {(e["name"], e["tier"]) for e in environments} == {("production", "production"), ("staging", "staging")}


def test_project_by_id_or_path_and_unknown_project(gl: GitLab) -> None:
    project = gl.get(f"/projects/{ENCODED}").json()
    assert project["path_with_namespace"] == PROJECT
    assert gl.get(f"/projects/{project['id']}/merge_requests").status_code == 200
    missing = gl.get("/projects/acme%2Fnope/merge_requests")
    assert missing.status_code == 404 and missing.json() == {"message": "404 Project Not Found"}


def test_date_rate_limit_headers_429_and_etags(gl: GitLab) -> None:
    path = f"/projects/{ENCODED}/environments"
    response = gl.get(path)
    assert response.headers["Date"] == "Mon, 01 Jun 2026 00:00:00 GMT"
    remaining = int(response.headers["RateLimit-Remaining"])
    assert int(response.headers["RateLimit-Limit"]) == 2000 and int(response.headers["RateLimit-Reset"]) > 0
    cached = gl.session.get(gl.base + path, headers={"If-None-Match": response.headers["ETag"]}, timeout=10)
    assert cached.status_code == 304
    assert int(cached.headers["RateLimit-Remaining"]) == remaining  # conditional hits are free
    gl.server.faults.inject("gitlab", "rate_limit_429", retry_after=3)
    throttled = gl.get(path)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"
    assert throttled.headers["RateLimit-Remaining"] == "0"
    assert gl.get(path).status_code == 200


def test_merge_requests_states_filters_and_children(gl: GitLab) -> None:
    path = f"/projects/{ENCODED}/merge_requests"
    everything = gl.get(path, per_page=100, state="all")
    total = int(everything.headers["x-total"])
    by_state = {s: int(gl.get(path, state=s).headers["x-total"]) for s in ("opened", "closed", "merged")}
    assert by_state["merged"] > 0 and by_state["closed"] > 0 and by_state["opened"] > 0
    assert sum(by_state.values()) == total
    merged = next(mr for mr in everything.json() if mr["state"] == "merged")
    assert merged["merge_commit_sha"] and merged["merged_at"] and merged["author"]["username"]
    assert {"iid", "id", "project_id", "sha", "squash_commit_sha", "draft", "labels"} <= merged.keys()
    iid = merged["iid"]
    notes = gl.get(f"{path}/{iid}/notes").json()
    assert any(not n["system"] for n in notes)
    assert gl.get(f"{path}/{iid}/approvals").json()["approved"] is True
    commits = gl.get(f"{path}/{iid}/commits").json()
    assert commits[0]["id"] == merged["sha"] and commits[0]["authored_date"].endswith("+02:00")
    since = (ANCHOR - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = gl.get(path, updated_after=since, order_by="updated_at", sort="asc", per_page=100).json()
    assert recent and all(mr["updated_at"] >= since for mr in recent) and len(recent) < total


def test_retried_jobs_are_listed_only_with_include_retried(gl: GitLab) -> None:
    view = GitLabView(gl.server.company)
    project = view.project(PROJECT)
    assert project is not None
    flaky = [r for r in view.runs(project) if view._retry_jobs(r)]
    assert flaky, "the fake should retry some flaky jobs in place"
    path = f"/projects/{project.id}/pipelines/{flaky[0].id}/jobs"
    plain = gl.get(path).json()
    everything = gl.get(path, include_retried="true").json()
    assert len(everything) == len(plain) + 1
    retried = [j for j in everything if j["retried"]]
    assert len(retried) == 1 and retried[0]["status"] == "failed" and retried[0]["name"] == "integration-tests"
    assert not any(j["retried"] for j in plain)


def test_pipeline_and_deployment_status_follow_the_clock() -> None:
    company = make_company()
    view = GitLabView(company)
    project = view.project(PROJECT)
    assert project is not None
    upcoming = next(
        d for d in company.delivery.deployments(project.service.name) if d.created_at > company.now + timedelta(hours=1)
    )
    with FakeApiServer(company, sources=[GitLabApi()]) as server:
        gl = GitLab(server)
        company.advance(days=(upcoming.created_at - company.now).total_seconds() / 86400 + 1e-6)
        pending = gl.get(f"/projects/{ENCODED}/deployments/{upcoming.id}").json()
        assert pending["status"] == "created" and pending["finished_at"] is None
        pipeline_id = pending["deployable"]["pipeline"]["id"]
        assert gl.get(f"/projects/{ENCODED}/pipelines/{pipeline_id}").json()["status"] == "pending"
        company.advance(days=(upcoming.started_at - company.now).total_seconds() / 86400 + 1e-6)
        assert gl.get(f"/projects/{ENCODED}/deployments/{upcoming.id}").json()["status"] == "running"
        assert gl.get(f"/projects/{ENCODED}/pipelines/{pipeline_id}").json()["status"] == "running"
        company.advance(days=1)
        done = gl.get(f"/projects/{ENCODED}/deployments/{upcoming.id}").json()
        assert done["status"] == {"success": "success", "failure": "failed"}[upcoming.result]
        assert done["updated_at"] > pending["updated_at"]
