"""Jenkins builds end to end: fake Jenkins over HTTP -> raw_jenkins.builds. Each test builds its own company."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import duckdb
import pytest
import requests

from ingestion.http import HttpClient
from ingestion.jenkins.builds import BUILD_FIELDS, main, sync_builds
from ingestion.jenkins.client import jenkins_client
from ingestion.loader import RawLoader
from simulation.company import Company
from simulation.server import FakeApiServer

from .conftest import SleepRecorder, make_company

USER = "techledger"
TOKEN = "jenkins-api-token"
CI_JOB = "ci/billing-legacy/main"
DEPLOY_JOB = "deploy/billing-legacy"


@pytest.fixture
def company() -> Company:
    return make_company()


@pytest.fixture
def jenkins(server: FakeApiServer, sleeps: SleepRecorder) -> Iterator[Callable[..., HttpClient]]:
    clients: list[HttpClient] = []

    def make(**kwargs: Any) -> HttpClient:
        options: dict[str, Any] = {"sleep": sleeps, "rng": random.Random(7), "timeout": (2.0, 5.0)}
        options.update(kwargs)
        client = jenkins_client(server.base_url("jenkins"), USER, TOKEN, token_env="JENKINS_TOKEN", **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _ci_builds(company: Company) -> int:
    runs = company.delivery.ci_runs("billing-legacy")
    return sum(1 for r in runs if r.event == "push" for a in r.attempts if a.started_at <= company.now)


def _deploy_builds(company: Company) -> list[Any]:
    return [d for d in company.delivery.deployments("billing-legacy") if d.started_at <= company.now]


def _stored(con: duckdb.DuckDBPyConnection, job: str) -> dict[int, tuple[bool, str | None]]:
    rows = con.execute("SELECT number, building, result FROM raw_jenkins.builds WHERE job_full_name = ?", [job])
    return {int(r[0]): (r[1], r[2]) for r in rows.fetchall()}


def test_history_beyond_100_builds_is_read_with_all_builds_ranges(
    jenkins: Callable[..., HttpClient], loader: RawLoader, warehouse: duckdb.DuckDBPyConnection, company: Company
) -> None:
    expected = _ci_builds(company)
    assert expected > 100  # `builds` would lose the oldest ones

    summary = sync_builds(jenkins(), loader, ["ci"])

    assert set(_stored(warehouse, CI_JOB)) == set(range(1, expected + 1))
    assert summary.ok and summary["ci"].records == expected


def test_folders_and_multibranch_projects_are_recursed(
    jenkins: Callable[..., HttpClient],
    loader: RawLoader,
    warehouse: duckdb.DuckDBPyConnection,
    company: Company,
    server: FakeApiServer,
) -> None:
    summary = sync_builds(jenkins(), loader, [])  # empty = every top-level item

    assert [r.scope for r in summary.results] == ["ci", "deploy"]
    jobs = dict(warehouse.execute("SELECT job_full_name, count(*) FROM raw_jenkins.builds GROUP BY 1").fetchall())
    assert jobs == {CI_JOB: _ci_builds(company), DEPLOY_JOB: len(_deploy_builds(company))}
    paths = [unquote(p) for p in server.stats.paths("jenkins")]
    assert any(p.startswith("/jenkins/job/ci/job/billing-legacy/api/json?tree=name,url,jobs[") for p in paths)


def test_a_building_build_is_synced_later_with_its_result(
    jenkins: Callable[..., HttpClient],
    loader: RawLoader,
    warehouse: duckdb.DuckDBPyConnection,
    company: Company,
    server: FakeApiServer,
) -> None:
    deployment = next(
        d
        for d in company.delivery.deployments("billing-legacy")
        if d.started_at > company.now and d.finished_at - d.started_at > timedelta(minutes=5)
    )
    company.advance((deployment.started_at + timedelta(minutes=3) - company.now).total_seconds() / 86400)
    client = jenkins()
    # No overlap: the next walk stops above the running build, so only the re-fetch by number can finish it.
    sync_builds(client, loader, ["deploy"], overlap=timedelta(0))
    number = max(_stored(warehouse, DEPLOY_JOB))
    assert _stored(warehouse, DEPLOY_JOB)[number] == (True, None)

    company.advance(1)
    sync_builds(client, loader, ["deploy"], overlap=timedelta(0))

    expected = "SUCCESS" if deployment.result == "success" else "FAILURE"
    assert _stored(warehouse, DEPLOY_JOB)[number] == (False, expected)
    assert any(f"/job/deploy/job/billing-legacy/{number}/api/json" in p for p in server.stats.paths("jenkins"))


def test_429_and_5xx_are_retried_and_nothing_is_lost(
    jenkins: Callable[..., HttpClient],
    loader: RawLoader,
    warehouse: duckdb.DuckDBPyConnection,
    company: Company,
    server: FakeApiServer,
    sleeps: SleepRecorder,
) -> None:
    server.faults.inject("jenkins", "rate_limit_429", times=2, path_contains="allBuilds", retry_after=4)
    server.faults.inject("jenkins", "server_error", times=2, path_contains="allBuilds", status=503)
    server.faults.inject("jenkins", "server_error", times=1, path_contains="jobs", status=502)

    summary = sync_builds(jenkins(), loader, [])

    assert summary.ok
    assert sleeps.calls.count(4.0) == 2
    assert len(sleeps.calls) == 5
    assert len(_stored(warehouse, CI_JOB)) == _ci_builds(company)
    assert server.stats.by_status("jenkins").get(429) == 2


def test_after_a_day_an_incremental_sync_reads_only_new_builds(
    jenkins: Callable[..., HttpClient], loader: RawLoader, warehouse: duckdb.DuckDBPyConnection, company: Company
) -> None:
    client = jenkins()
    sync_builds(client, loader, [])
    before = {job: set(_stored(warehouse, job)) for job in (CI_JOB, DEPLOY_JOB)}

    company.advance(1)
    summary = sync_builds(client, loader, [])

    new = {job: set(_stored(warehouse, job)) - before[job] for job in (CI_JOB, DEPLOY_JOB)}
    assert summary["ci"].records == len(new[CI_JOB]) < 20
    assert summary["deploy"].records == len(new[DEPLOY_JOB]) < 20
    runs = warehouse.execute(
        "SELECT scope, requests, records FROM meta.sync_runs WHERE source = 'jenkins' ORDER BY started_at"
    ).fetchall()
    first, second = runs[:2], runs[2:]
    assert [r[0] for r in second] == ["ci", "deploy"]
    # ci: folder + multibranch + one page of the branch job; deploy: folder + one page of the job
    assert [r[1] for r in second] == [3, 2]
    assert sum(r[1] for r in first) == 3 + 1 + 2  # the first run needed two pages for the 115 CI builds


def test_keys_stay_unique_over_overlapping_syncs_and_payloads_are_stored_as_served(
    jenkins: Callable[..., HttpClient],
    loader: RawLoader,
    warehouse: duckdb.DuckDBPyConnection,
    company: Company,
    server: FakeApiServer,
) -> None:
    client = jenkins()
    sync_builds(client, loader, [], overlap=timedelta(days=3))
    company.advance(0.5)
    sync_builds(client, loader, [], overlap=timedelta(days=3))

    total, distinct = warehouse.execute(
        "SELECT count(*), count(DISTINCT (job_full_name, number)) FROM raw_jenkins.builds"
    ).fetchone() or (0, 0)
    assert total == distinct == _ci_builds(company) + len(_deploy_builds(company))
    url = server.base_url("jenkins") + "/job/deploy/job/billing-legacy/api/json"
    served = requests.get(url, params={"tree": f"allBuilds[{BUILD_FIELDS}]"}, auth=(USER, TOKEN), timeout=10).json()
    stored = {
        int(r[0]): json.loads(r[1])
        for r in warehouse.execute(
            "SELECT number, payload FROM raw_jenkins.builds WHERE job_full_name = ?", [DEPLOY_JOB]
        ).fetchall()
    }
    assert {b["number"]: b for b in served["allBuilds"]} == stored


def test_command_line_entry_point_syncs_and_reports(
    server: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TECHLEDGER_TEST_JENKINS_TOKEN", TOKEN)
    warehouse = tmp_path / "cli.duckdb"
    args = ["--warehouse", str(warehouse), "--base-url", server.base_url("jenkins"), "--user", USER]
    assert main([*args, "--token-env", "TECHLEDGER_TEST_JENKINS_TOKEN", "--jobs", "deploy"]) == 0
    assert "deploy:" in capsys.readouterr().out
    assert main([*args, "--token-env", "TECHLEDGER_TEST_UNSET_VARIABLE"]) == 2
