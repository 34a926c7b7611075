"""GitHub pull-request connector end to end: fake GitHub over HTTP -> DuckDB.

Each test builds its own company because the tests move its clock or edit its pull requests.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.errors import SyncFailedError
from ingestion.github.pull_requests import main, sync_pull_requests
from ingestion.http import HttpClient
from ingestion.loader import RawLoader
from simulation.company import Company
from simulation.server import FakeApiServer

from .conftest import TOKEN, TOKEN_ENV, company_prs, make_company, repos_by_size, warehouse_prs


@pytest.fixture
def company() -> Company:
    return make_company()


def all_repos(company: Company) -> list[str]:
    return [repo.full_name for repo in company.repos]


def cursor_of(loader: RawLoader, repo: str) -> datetime:
    state = loader.get_state("github", "pull_requests", repo)
    assert state is not None
    return datetime.fromisoformat(state["cursor"])


def test_full_sync_loads_every_pull_request_as_served(
    client: HttpClient, loader: RawLoader, warehouse: duckdb.DuckDBPyConnection, company: Company
) -> None:
    repos = all_repos(company)
    summary = sync_pull_requests(client, loader, repos, per_page=500)

    expected = company_prs(company, repos)
    assert warehouse_prs(warehouse) == expected
    assert summary.ok and summary.records == len(expected)
    # Typed columns agree with the payload.
    rows = warehouse.execute(
        "SELECT count(*) FROM raw_github.pull_requests "
        "WHERE number = CAST((payload->>'$.number') AS INTEGER) AND state = (payload->>'$.state') "
        "AND updated_at = CAST((payload->>'$.updated_at') AS TIMESTAMPTZ) "
        "AND created_at = CAST((payload->>'$.created_at') AS TIMESTAMPTZ) "
        "AND repo = (payload->>'$.base.repo.full_name')"
    ).fetchone()
    assert rows == (len(expected),)
    # One successful run per repo; a first sync reads every page (100 per page after clamping).
    runs = warehouse.execute(
        "SELECT scope, outcome, records, requests, error FROM meta.sync_runs ORDER BY scope"
    ).fetchall()
    sizes = {repo: len(company.list_pull_requests(repo)) for repo in repos}
    assert runs == [
        (repo, "success", sizes[repo], max(1, math.ceil(sizes[repo] / 100)), None) for repo in sorted(repos)
    ]


def test_cursor_is_the_window_end_on_the_server_clock_not_the_newest_update(
    client: HttpClient, loader: RawLoader, company: Company
) -> None:
    repo = repos_by_size(company)[0]
    sync_pull_requests(client, loader, [repo], buffer=timedelta(minutes=1))
    newest = max(datetime.fromisoformat(pr["updated_at"]) for pr in company.list_pull_requests(repo))
    assert cursor_of(loader, repo) == company.now - timedelta(minutes=1)
    assert cursor_of(loader, repo) != newest


def test_incremental_sync_reads_only_the_recent_pages_and_picks_up_new_and_changed_prs(
    client: HttpClient,
    loader: RawLoader,
    warehouse: duckdb.DuckDBPyConnection,
    server: FakeApiServer,
    company: Company,
) -> None:
    repos = all_repos(company)
    sync_pull_requests(client, loader, repos, per_page=10)
    full_requests = server.stats.requests("github")
    before = company_prs(company, repos)
    cursors = {repo: cursor_of(loader, repo) for repo in repos}

    company.advance(days=1)
    after = company_prs(company, repos)
    new = set(after) - set(before)
    changed = {i for i in set(after) & set(before) if after[i] != before[i]}
    assert new and changed, "the simulated day should create and change pull requests"

    server.stats.reset()
    summary = sync_pull_requests(client, loader, repos, per_page=10)

    assert warehouse_prs(warehouse) == after
    assert server.stats.requests("github") < full_requests / 4
    # Exactly the PRs updated since cursor - overlap were read, per repo.
    for repo in repos:
        since = cursors[repo] - timedelta(minutes=10)
        recent = [pr for pr in company.list_pull_requests(repo) if datetime.fromisoformat(pr["updated_at"]) >= since]
        assert summary[repo].records == len(recent)


def test_a_pr_updated_while_the_client_pages_is_captured_by_the_next_sync(
    client: HttpClient,
    loader: RawLoader,
    warehouse: duckdb.DuckDBPyConnection,
    server: FakeApiServer,
    company: Company,
) -> None:
    repo = repos_by_size(company)[0]
    prs = company.list_pull_requests(repo)
    stalest = min(prs, key=lambda pr: pr["updated_at"])  # the last item of the newest-first walk
    server.faults.update_during_paging(repo, stalest["number"], before_page=2)

    sync_pull_requests(client, loader, [repo], per_page=20)
    touched = next(pr for pr in company.list_pull_requests(repo) if pr["id"] == stalest["id"])
    assert datetime.fromisoformat(touched["updated_at"]) == company.now
    # The PR jumped to page 1 behind the walk: this sync cannot have its new version.
    assert warehouse_prs(warehouse).get(stalest["id"]) != json.loads(json.dumps(touched))

    sync_pull_requests(client, loader, [repo], per_page=20)

    assert warehouse_prs(warehouse)[stalest["id"]] == json.loads(json.dumps(touched))
    assert warehouse_prs(warehouse) == company_prs(company, [repo])


def test_repeated_syncs_are_idempotent(
    client: HttpClient, loader: RawLoader, warehouse: duckdb.DuckDBPyConnection, company: Company
) -> None:
    repos = all_repos(company)[:3]
    sync_pull_requests(client, loader, repos, per_page=30, batch_size=25)
    first = warehouse_prs(warehouse)

    summary = sync_pull_requests(client, loader, repos, per_page=30, batch_size=25)
    # Nothing changed: each repo's first page is a free 304 answered from the ETag cache.
    assert [r.not_modified for r in summary.results] == [1, 1, 1]
    warehouse.execute("DELETE FROM meta.sync_state")  # force a full re-read over the existing rows
    sync_pull_requests(client, loader, repos, per_page=30, batch_size=25)

    assert warehouse_prs(warehouse) == first
    assert warehouse.execute("SELECT count(*) - count(DISTINCT id) FROM raw_github.pull_requests").fetchone() == (0,)


def test_a_failing_repo_does_not_stop_the_others(
    client: HttpClient,
    loader: RawLoader,
    warehouse: duckdb.DuckDBPyConnection,
    server: FakeApiServer,
    company: Company,
) -> None:
    good_a, bad, good_b = all_repos(company)[:3]
    server.faults.inject(source="github", kind="permission_403", times=1, path_contains=f"/repos/{bad}/")

    with pytest.raises(SyncFailedError) as caught:
        sync_pull_requests(client, loader, [good_a, bad, good_b])

    error = caught.value
    assert list(error.failures) == [bad]
    assert f"1 of 3 scopes failed: {bad} (github GET /github/repos/{bad}/pulls" in str(error)
    assert "HTTP 403 permission denied" in str(error)
    assert set(warehouse_prs(warehouse)) == set(company_prs(company, [good_a, good_b]))
    runs = dict(warehouse.execute("SELECT scope, outcome FROM meta.sync_runs").fetchall())
    assert runs == {good_a: "success", bad: "failed", good_b: "success"}
    stored_error = warehouse.execute("SELECT error FROM meta.sync_runs WHERE scope = ?", [bad]).fetchone()[0]
    assert "HTTP 403 permission denied" in stored_error and TOKEN_ENV in stored_error
    assert loader.get_state("github", "pull_requests", bad) is None

    summary = sync_pull_requests(client, loader, [good_a, bad, good_b])
    assert summary.ok
    assert warehouse_prs(warehouse) == company_prs(company, [good_a, bad, good_b])


def test_sync_runs_record_the_request_cost_of_each_repo(
    client: HttpClient,
    loader: RawLoader,
    warehouse: duckdb.DuckDBPyConnection,
    server: FakeApiServer,
    company: Company,
) -> None:
    first, second = all_repos(company)[:2]
    server.faults.inject(source="github", kind="server_error", times=1, status=502, path_contains=f"/repos/{second}/")
    progress: list[tuple[str, int]] = []
    sync_pull_requests(
        client, loader, [first, second], per_page=50, batch_size=40, progress=lambda r, n: progress.append((r, n))
    )

    rows = {
        row[0]: row[1:]
        for row in warehouse.execute(
            "SELECT scope, requests, retries, not_modified, http_errors FROM meta.sync_runs"
        ).fetchall()
    }
    pages = {repo: math.ceil(len(company.list_pull_requests(repo)) / 50) for repo in (first, second)}
    assert rows[first][:3] == (pages[first], 0, 0) and json.loads(rows[first][3]) == {}
    assert rows[second][:3] == (pages[second] + 1, 1, 0) and json.loads(rows[second][3]) == {"502": 1}
    # Progress reports committed counts, rising per repo, ending at the repo's total.
    for repo in (first, second):
        counts = [n for r, n in progress if r == repo]
        assert counts == sorted(counts) and counts[-1] == len(company.list_pull_requests(repo))


def test_command_line_entry_point(
    server: FakeApiServer,
    company: Company,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repos = all_repos(company)[:2]
    warehouse_path = str(tmp_path / "cli.duckdb")
    args = ["--warehouse", warehouse_path, "--base-url", server.base_url("github"), "--repos", ",".join(repos)]

    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert main([*args, "--token-env", TOKEN_ENV]) == 2
    assert f"environment variable {TOKEN_ENV} is not set" in capsys.readouterr().err

    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    assert main([*args, "--token-env", TOKEN_ENV, "--per-page", "50"]) == 0
    out = capsys.readouterr().out
    assert f"{repos[0]}: {len(company.list_pull_requests(repos[0]))} records" in out
    with duckdb.connect(warehouse_path) as con:
        assert warehouse_prs(con) == company_prs(company, repos)
