"""GitLab connectors against the fake GitLab over real HTTP: pages, incremental windows, retries, keys."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest

from ingestion.gitlab.client import gitlab_client
from ingestion.gitlab.deployments import sync_deployments
from ingestion.gitlab.environments import sync_environments
from ingestion.gitlab.merge_requests import sync_merge_requests
from ingestion.gitlab.pipelines import sync_pipelines
from ingestion.http import HttpClient
from ingestion.loader import RawLoader
from ingestion.runs import SyncSummary
from simulation.company import Company, generate_company
from simulation.gitlab_api import GitLabApi
from simulation.gitlab_payloads import GitLabView
from simulation.server import FakeApiServer
from tests.ingestion.conftest import SleepRecorder

ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)
PROJECTS = ["acme/ml-platform", "acme/recommendations"]
ONE = ["acme/ml-platform"]
TOKEN = "glpat-ingestion-test"
TABLES = {
    "merge_requests": ("id",),
    "mr_commits": ("mr_id", "sha"),
    "mr_notes": ("id",),
    "mr_approvals": ("mr_id",),
    "pipelines": ("id",),
    "jobs": ("id",),
    "deployments": ("id",),
    "environments": ("id",),
}
SYNCS: tuple[Callable[..., SyncSummary], ...] = (
    sync_merge_requests,
    sync_pipelines,
    sync_deployments,
    sync_environments,
)


def make_company(history_days: int = 30) -> Company:
    return generate_company(seed=42, scale=0.3, anchor=ANCHOR, history_days=history_days)


def client_for(server: FakeApiServer, sleeps: Callable[[float], None], **kwargs: Any) -> HttpClient:
    return gitlab_client(
        server.base_url("gitlab") + "/api/v4",
        TOKEN,
        token_env="TECHLEDGER_TEST_GITLAB_TOKEN",
        sleep=sleeps,
        rng=random.Random(7),
        timeout=(2.0, 5.0),
        **kwargs,
    )


def sync_all(client: HttpClient, loader: RawLoader, projects: list[str], **kwargs: Any) -> dict[str, SyncSummary]:
    result = {}
    for sync in SYNCS:
        options = {} if sync is sync_environments else kwargs
        result[sync.__name__] = sync(client, loader, projects, **options)
    return result


def served(company: Company, project_path: str) -> dict[str, dict[Any, Any]]:
    """What the fake serves right now, by natural key (ground truth for the raw tables)."""
    view = GitLabView(company)
    project = view.project(project_path)
    assert project is not None
    mrs = view.merge_requests(project)
    runs = view.runs(project)
    return {
        "merge_requests": {mr.id: view.merge_request_payload(project, mr) for mr in mrs},
        "pipelines": {r.id: view.pipeline_payload(project, r, full=True) for r in runs},
        "jobs": {j["id"]: j for r in runs for j in view.jobs(project, r, include_retried=True)},
        "deployments": {d.id: view.deployment_payload(project, d, iid) for iid, d in view.iter_deployments(project)},
        "environments": {e["id"]: e for e in view.environments(project)},
    }


def as_json(by_key: dict[Any, Any]) -> dict[Any, Any]:
    return {key: json.loads(json.dumps(value)) for key, value in by_key.items()}


def payloads(con: duckdb.DuckDBPyConnection, table: str, project: str) -> dict[Any, Any]:
    rows = con.execute(f"SELECT id, payload FROM raw_gitlab.{table} WHERE project = ?", [project]).fetchall()
    return {row[0]: json.loads(row[1]) for row in rows}


@pytest.fixture(scope="module")
def synced() -> Iterator[tuple[Company, FakeApiServer, duckdb.DuckDBPyConnection, dict[str, SyncSummary]]]:
    """One full sync of both projects with small pages (many pages per list) over a clock that never moves."""
    company = make_company()
    with FakeApiServer(company, sources=[GitLabApi()]) as server, duckdb.connect() as con:
        with client_for(server, SleepRecorder()) as client:
            summaries = sync_all(client, RawLoader(con), PROJECTS, per_page=20)
        yield company, server, con, summaries


def test_full_sync_follows_every_page_and_stores_payloads_as_served(synced: Any) -> None:
    company, server, con, summaries = synced
    assert all(s.ok for s in summaries.values())
    for project in PROJECTS:
        truth = served(company, project)
        for table, expected in truth.items():
            stored = payloads(con, table, project)
            assert stored == as_json(expected), f"{table} of {project}"
        assert len(truth["merge_requests"]) > 40 and len(truth["pipelines"]) > 40  # > 2 pages of 20
    paths = server.stats.paths("gitlab")
    later_pages = [p for p in paths if "/merge_requests?" in p and "page=3" in p]
    assert later_pages, "the walk must follow Link rel=next beyond page 2"
    mr_children = con.execute("SELECT count(*) FROM raw_gitlab.mr_notes WHERE NOT system").fetchone()
    approved = con.execute("SELECT count(*) FROM raw_gitlab.mr_approvals WHERE approved").fetchone()
    assert mr_children is not None and mr_children[0] > 0 and approved is not None and approved[0] > 0


def test_retried_jobs_are_captured(synced: Any) -> None:
    company, _server, con, _ = synced
    expected = {j["id"] for project in PROJECTS for j in served(company, project)["jobs"].values() if j["retried"]}
    stored = {r[0] for r in con.execute("SELECT id FROM raw_gitlab.jobs WHERE retried").fetchall()}
    assert expected and stored == expected
    statuses = con.execute("SELECT DISTINCT status FROM raw_gitlab.jobs WHERE retried").fetchall()
    assert statuses == [("failed",)]


def test_deployments_are_listed_with_order_by_updated_at(synced: Any) -> None:
    _company, server, _con, _ = synced
    listed = [urlsplit(p) for p in server.stats.paths("gitlab") if urlsplit(p).path.endswith("/deployments")]
    assert listed
    for url in listed:
        query = parse_qs(url.query)
        assert query["order_by"] == ["updated_at"] and query["sort"] == ["asc"] and "updated_before" in query
    assert server.stats.by_status("gitlab").get(400, 0) == 0


def test_keys_unique_after_two_overlapping_syncs() -> None:
    company = make_company(history_days=14)
    with FakeApiServer(company, sources=[GitLabApi()]) as server, duckdb.connect() as con:
        with client_for(server, SleepRecorder()) as client:
            loader = RawLoader(con)
            sync_all(client, loader, ONE)
            company.advance(days=0.5)
            second = sync_all(client, loader, ONE, overlap=timedelta(days=5))  # re-reads 5 days it already has
        assert second["sync_merge_requests"].records > 0 and second["sync_pipelines"].records > 0
        for table, key in TABLES.items():
            columns = ", ".join(key)
            total, distinct = con.execute(
                f"SELECT count(*), count(DISTINCT ({columns})) FROM raw_gitlab.{table}"
            ).fetchone()  # type: ignore[misc]
            assert total == distinct > 0, table
        truth = served(company, ONE[0])
        assert set(payloads(con, "pipelines", ONE[0])) == set(truth["pipelines"])
        assert payloads(con, "deployments", ONE[0]) == as_json(truth["deployments"])


def test_429_and_5xx_are_recovered() -> None:
    company = make_company(history_days=10)
    sleeps = SleepRecorder()
    with FakeApiServer(company, sources=[GitLabApi()]) as server, duckdb.connect() as con:
        server.faults.inject("gitlab", "rate_limit_429", times=2, path_contains="/pipelines", retry_after=7)
        server.faults.inject("gitlab", "server_error", times=2, path_contains="/deployments", status=502)
        server.faults.inject("gitlab", "server_error", times=1, path_contains="/merge_requests", status=500)
        server.faults.inject("gitlab", "truncated_body", times=1, path_contains="/jobs")
        with client_for(server, sleeps) as client:
            summaries = sync_all(client, RawLoader(con), ONE)
        assert all(s.ok for s in summaries.values())
        assert sleeps.calls.count(7.0) == 2  # Retry-After honoured
        assert server.faults.pending() == []
        statuses = server.stats.by_status("gitlab")
        assert statuses[429] == 2 and statuses[502] == 2 and statuses[500] == 1
        truth = served(company, ONE[0])
        for table in ("pipelines", "jobs", "deployments", "merge_requests"):
            assert set(payloads(con, table, ONE[0])) == set(truth[table]), table
        retries = con.execute(
            "SELECT sum(retries) FROM meta.sync_runs WHERE source = 'gitlab' AND outcome = 'success'"
        ).fetchone()
        assert retries is not None and retries[0] >= 6


def run_requests(con: duckdb.DuckDBPyConnection, stream: str) -> list[int]:
    rows = con.execute(
        "SELECT requests FROM meta.sync_runs WHERE source = 'gitlab' AND stream = ? ORDER BY started_at", [stream]
    ).fetchall()
    return [int(r[0]) for r in rows]


def test_incremental_sync_after_a_day_fetches_only_changed_items() -> None:
    company = make_company()
    with FakeApiServer(company, sources=[GitLabApi()]) as server, duckdb.connect() as con:
        with client_for(server, SleepRecorder()) as client:
            loader = RawLoader(con)
            sync_all(client, loader, ONE)
            cursors = {
                stream: datetime.fromisoformat(json.loads(state)["cursor"])
                for stream, state in con.execute(
                    "SELECT stream, state FROM meta.sync_state WHERE source = 'gitlab' AND stream <> 'environments'"
                ).fetchall()
            }
            company.advance(days=1)
            second = sync_all(client, loader, ONE)
        view = GitLabView(company)
        project = view.project(ONE[0])
        assert project is not None
        now = company.now
        overlap = timedelta(minutes=10)
        changed_mrs = [
            mr for mr in view.merge_requests(project) if mr.updated_at(now) >= cursors["merge_requests"] - overlap
        ]
        open_before = con.execute(
            "SELECT count(*) FROM raw_gitlab.merge_requests WHERE project = ? AND state = 'opened'", [ONE[0]]
        ).fetchone()
        changed_runs = [r for r in view.runs(project) if view.pipeline_updated_at(r) > cursors["pipelines"] - overlap]
        changed_deploys = [
            d
            for _, d in view.iter_deployments(project)
            if view.deployment_updated_at(d) > cursors["deployments"] - overlap
        ]
        assert changed_mrs and changed_runs and changed_deploys
        mr_first, mr_second = run_requests(con, "merge_requests")
        pipe_first, pipe_second = run_requests(con, "pipelines")
        _dep_first, dep_second = run_requests(con, "deployments")
        # probe + one list page + 3 children per changed MR (+ GET and children of MRs still open)
        assert open_before is not None
        assert mr_second <= 2 + 3 * len(changed_mrs) + 4 * open_before[0]
        assert pipe_second <= 2 + 2 * len(changed_runs) + 4  # probe + list + (detail + jobs) each; few still running
        assert dep_second <= 2 + 2
        assert mr_second < mr_first / 4 and pipe_second < pipe_first / 4
        assert (
            second["sync_merge_requests"].records
            < con.execute("SELECT count(*) FROM raw_gitlab.merge_requests").fetchone()[0]
        )  # type: ignore[index]
        stored = payloads(con, "merge_requests", ONE[0])
        for mr in changed_mrs:
            assert stored[mr.id]["updated_at"] == view.merge_request_payload(project, mr)["updated_at"]


def test_running_pipeline_and_pending_deployment_land_with_their_final_state() -> None:
    company = make_company(history_days=7)
    view = GitLabView(company)
    project = view.project(ONE[0])
    assert project is not None
    upcoming = next(
        d for d in company.delivery.deployments(project.service.name) if d.created_at > company.now + timedelta(hours=1)
    )
    with FakeApiServer(company, sources=[GitLabApi()]) as server, duckdb.connect() as con:
        with client_for(server, SleepRecorder()) as client:
            loader = RawLoader(con)
            middle = upcoming.started_at + (upcoming.finished_at - upcoming.started_at) / 2
            company.advance(days=(middle - company.now).total_seconds() / 86400)
            sync_pipelines(client, loader, ONE)
            sync_deployments(client, loader, ONE)
            deployment = con.execute("SELECT status FROM raw_gitlab.deployments WHERE id = ?", [upcoming.id]).fetchone()
            assert deployment == ("running",)
            running = {
                r[0]
                for r in con.execute(
                    "SELECT id FROM raw_gitlab.pipelines WHERE status IN ('running', 'pending')"
                ).fetchall()
            }
            assert running
            company.advance(days=1)
            sync_pipelines(client, loader, ONE)
            sync_deployments(client, loader, ONE)
        final = {"success": "success", "failure": "failed"}[upcoming.result]
        row = con.execute("SELECT status, payload->>'$.status' FROM raw_gitlab.deployments WHERE id = ?", [upcoming.id])
        assert row.fetchone() == (final, final)
        still_running = con.execute(
            "SELECT count(*) FROM raw_gitlab.pipelines "
            "WHERE id IN (SELECT unnest(?)) AND status IN ('running', 'pending')",
            [sorted(running)],
        ).fetchone()
        assert still_running == (0,)
        jobs = con.execute(
            "SELECT count(*) FROM raw_gitlab.jobs WHERE pipeline_id IN (SELECT unnest(?)) AND status = 'running'",
            [sorted(running)],
        ).fetchone()
        assert jobs == (0,)


def test_pending_deployment_is_reread_by_id_when_the_list_misses_it() -> None:
    """Non-terminal set (source-apis.md §0.5): stored non-terminal deployments are re-read by id."""
    company = make_company(history_days=7)
    view = GitLabView(company)
    project = view.project(ONE[0])
    assert project is not None
    upcoming = next(
        d for d in company.delivery.deployments(project.service.name) if d.created_at > company.now + timedelta(hours=1)
    )
    with FakeApiServer(company, sources=[GitLabApi()]) as server, duckdb.connect() as con:
        with client_for(server, SleepRecorder()) as client:
            loader = RawLoader(con)
            pending = upcoming.created_at + (upcoming.started_at - upcoming.created_at) / 2
            company.advance(days=(pending - company.now).total_seconds() / 86400)
            sync_deployments(client, loader, ONE, buffer=timedelta(seconds=5))
            assert con.execute("SELECT status FROM raw_gitlab.deployments WHERE id = ?", [upcoming.id]).fetchone() == (
                "created",
            )
            company.advance(days=1)
            # A cursor far ahead hides the change from the updated_after walk: only the re-read can find it.
            state = json.dumps({"cursor": (company.now + timedelta(days=30)).isoformat()})
            con.execute(
                "UPDATE meta.sync_state SET state = ? WHERE source = 'gitlab' AND stream = 'deployments'", [state]
            )
            sync_deployments(client, loader, ONE)
        final = {"success": "success", "failure": "failed"}[upcoming.result]
        assert con.execute("SELECT status FROM raw_gitlab.deployments WHERE id = ?", [upcoming.id]).fetchone() == (
            final,
        )
        assert any(f"/deployments/{upcoming.id}" in p for p in server.stats.paths("gitlab"))


def test_an_edit_while_paging_does_not_skip_the_next_item() -> None:
    """Editing an already-served MR moves it out of the window (updated_before pins the end), shifting the
    next page left by one; the walk notices x-total shrank and re-reads the window, so nothing is skipped."""
    company = make_company(history_days=14)
    view = GitLabView(company)
    project = view.project(ONE[0])
    assert project is not None
    oldest_first = sorted(view.merge_requests(project), key=lambda mr: (mr.updated_at(company.now), mr.id))
    assert len(oldest_first) > 25
    with FakeApiServer(company, sources=[GitLabApi()]) as server, duckdb.connect() as con:
        server.faults.update_during_paging(ONE[0], oldest_first[0].iid, before_page=2, source="gitlab")
        with client_for(server, SleepRecorder()) as client:
            sync_merge_requests(client, RawLoader(con), ONE, per_page=10)
        assert server.faults.take_paging_mutations("gitlab", ONE[0], 99) == []  # the edit happened
        stored = set(payloads(con, "merge_requests", ONE[0]))
        assert oldest_first[10].id in stored  # first item of page 2, shifted onto page 1 by the edit
        assert stored == {mr.id for mr in oldest_first}
