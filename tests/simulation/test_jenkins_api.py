"""The fake Jenkins: tree filtering with {M,N} ranges, `builds` capped at 100, folders, building builds, auth."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from simulation.company import Company
from simulation.jenkins_api import TreeError, parse_tree
from simulation.server import FakeApiServer

CI_JOB = "/job/ci/job/billing-legacy/job/main"
DEPLOY_JOB = "/job/deploy/job/billing-legacy"


class Jenkins:
    def __init__(self, server: FakeApiServer, user: str = "me", token: str = "api-token") -> None:
        self.base = server.base_url("jenkins")
        self.session = requests.Session()
        self.session.trust_env = False
        basic = base64.b64encode(f"{user}:{token}".encode()).decode()
        self.session.headers["Authorization"] = f"Basic {basic}"

    def get(self, path: str, tree: str | None = None) -> requests.Response:
        params = {"tree": tree} if tree is not None else {}
        return self.session.get(self.base + path, params=params, timeout=10)

    def json(self, path: str, tree: str | None = None) -> Any:
        response = self.get(path, tree)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def jenkins(server: FakeApiServer) -> Iterator[Jenkins]:
    client = Jenkins(server)
    yield client
    client.session.close()


def _ci_attempts(company: Company) -> int:
    runs = company.delivery.ci_runs("billing-legacy")
    return sum(1 for r in runs if r.event == "push" for a in r.attempts if a.started_at <= company.now)


def test_folders_and_multibranch_projects_list_their_jobs(jenkins: Jenkins) -> None:
    root = jenkins.json("/api/json", "jobs[name,url,_class]")
    assert {j["name"] for j in root["jobs"]} == {"ci", "deploy"}
    assert all(j["url"].endswith("/") for j in root["jobs"])
    multibranch = jenkins.json("/job/ci/job/billing-legacy/api/json", "jobs[name,url,_class]")
    assert multibranch["_class"].endswith("WorkflowMultiBranchProject")
    assert [j["name"] for j in multibranch["jobs"]] == ["main"]


def test_builds_stops_at_100_but_all_builds_ranges_reach_every_build(jenkins: Jenkins, company: Company) -> None:
    expected = _ci_attempts(company)
    assert expected > 100
    builds = jenkins.json(f"{CI_JOB}/api/json", "builds[number]")["builds"]
    assert len(builds) == 100
    first = jenkins.json(f"{CI_JOB}/api/json", "allBuilds[number]{0,100}")["allBuilds"]
    rest = jenkins.json(f"{CI_JOB}/api/json", "allBuilds[number]{100,200}")["allBuilds"]
    numbers = [b["number"] for b in first + rest]
    assert numbers == sorted(numbers, reverse=True)  # newest first
    assert numbers == list(range(expected, 0, -1))  # M inclusive, N exclusive: no gap, no repeat
    assert set(b["number"] for b in builds) == set(numbers[:100])


def test_tree_keeps_only_the_named_fields_and_rejects_malformed_trees(jenkins: Jenkins) -> None:
    data = jenkins.json(f"{DEPLOY_JOB}/api/json", "allBuilds[number,actions[lastBuiltRevision[SHA1]]]{0,1}")
    build = data["allBuilds"][0]
    assert set(build) == {"_class", "number", "actions"}
    assert any(a.get("lastBuiltRevision", {}).get("SHA1") for a in build["actions"])
    for bad in ("allBuilds[number", "allBuilds[number]{a,b}", "allBuilds[number]{5,2}", "jobs[,]"):
        response = jenkins.get(f"{DEPLOY_JOB}/api/json", bad)
        assert response.status_code == 400, bad
    with pytest.raises(TreeError):
        parse_tree("a,,b")


def test_deploy_builds_carry_parameters_revision_and_change_sets(jenkins: Jenkins, company: Company) -> None:
    deployments = [d for d in company.delivery.deployments("billing-legacy") if d.started_at <= company.now]
    tree = "allBuilds[number,actions[parameters[name,value],lastBuiltRevision[SHA1]],changeSets[items[commitId]]]"
    builds = jenkins.json(f"{DEPLOY_JOB}/api/json", tree)["allBuilds"]
    assert len(builds) == len(deployments)
    newest = builds[0]
    params = {p["name"]: p["value"] for a in newest["actions"] for p in a.get("parameters", [])}
    latest = max(deployments, key=lambda d: (d.started_at, d.id))
    assert params["GIT_SHA"] == latest.sha and params["ENVIRONMENT"] == latest.environment
    shipped = [i["commitId"] for cs in newest["changeSets"] for i in cs["items"]]
    assert shipped == list(latest.shipped)


def test_a_running_build_has_null_result_and_zero_duration(fresh_server: FakeApiServer) -> None:
    company = fresh_server.company
    future = next(
        d
        for d in company.delivery.deployments("billing-legacy")
        if d.started_at > company.now and d.finished_at - d.started_at > timedelta(minutes=2)
    )
    company.advance((future.started_at + timedelta(minutes=1) - company.now).total_seconds() / 86400)
    jenkins = Jenkins(fresh_server)
    newest = jenkins.json(f"{DEPLOY_JOB}/api/json", "allBuilds[number,building,result,duration,timestamp]{0,1}")
    build = newest["allBuilds"][0]
    assert build["building"] is True and build["result"] is None and build["duration"] == 0
    assert build["timestamp"] == int(future.started_at.timestamp() * 1000)
    by_number = jenkins.json(f"{DEPLOY_JOB}/{build['number']}/api/json")
    assert by_number["building"] is True and by_number["result"] is None
    company.advance(1)
    assert jenkins.json(f"{DEPLOY_JOB}/{build['number']}/api/json")["result"] in {"SUCCESS", "FAILURE"}


def test_basic_auth_is_required_and_unknown_jobs_are_404(server: FakeApiServer, jenkins: Jenkins) -> None:
    base = server.base_url("jenkins")
    assert requests.get(base + "/api/json", timeout=10).status_code == 401
    bearer = requests.get(base + "/api/json", headers={"Authorization": "Bearer x"}, timeout=10)
    assert bearer.status_code == 401
    assert jenkins.get("/job/nope/api/json").status_code == 404
    assert jenkins.get(f"{DEPLOY_JOB}/999999/api/json").status_code == 404
    assert "Date" in jenkins.get("/api/json").headers
