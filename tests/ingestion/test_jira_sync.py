"""Jira connector end to end: the simulated company's Jira over real HTTP -> DuckDB, compared with its truth.

Each test builds its own company (they move the clock, edit or delete issues, or change site settings).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingestion.errors import SyncFailedError
from ingestion.http import HttpClient
from ingestion.jira.client import JiraConfigurationError, endpoints, jira_client
from ingestion.jira.issues import census_deletions, sync_issues
from ingestion.jira.metadata import discover_fields, fetch_fields
from ingestion.jira.sync import main, sync_jira
from ingestion.loader import RawLoader
from simulation.company import Company, generate_company
from simulation.server import FakeApiServer

from .conftest import SleepRecorder

ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)
PROJECTS = ["PAY", "SRCH", "PLAT", "CHK", "DATA", "OPS"]
EMAIL = "sync@acme.example"
TOKEN = "jira-test-api-token"
CHANGELOG_FIELDS = {"status", "resolution", "priority", "assignee", "customfield_10016", "customfield_10020"}


def jira_company(history_days: int = 30) -> Company:
    return generate_company(seed=42, scale=0.3, anchor=ANCHOR, history_days=history_days)


@pytest.fixture
def company() -> Company:
    return jira_company()


@pytest.fixture
def jira(make_jira: Callable[..., HttpClient]) -> HttpClient:
    return make_jira()


@pytest.fixture
def make_jira(server: FakeApiServer, sleeps: SleepRecorder) -> Iterator[Callable[..., HttpClient]]:
    clients: list[HttpClient] = []

    def make(**kwargs: Any) -> HttpClient:
        options: dict[str, Any] = {"email": EMAIL, "token": TOKEN, "sleep": sleeps, "rng": random.Random(3)}
        options.update(kwargs)
        client = jira_client(server.base_url("jira"), timeout=(2.0, 10.0), **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def warehouse_issues(con: duckdb.DuckDBPyConnection) -> dict[int, datetime]:
    return dict(con.execute("SELECT id, updated_at FROM raw_jira.issues").fetchall())


def cursor(loader: RawLoader, project: str) -> datetime:
    state = loader.get_state("jira", "issues", project)
    assert state is not None
    return datetime.fromisoformat(state["cursor"])


def relevant_history_ids(company: Company, issue_id: int, at: datetime) -> set[int]:
    """Ids of the histories bulkfetch serves with our fieldIds (label edits are filtered out)."""
    issue = company.jira.issue(issue_id)
    relevant = {"status", "resolution", "priority", "assignee", "sprint", "story_points"}
    return {h.id for h in issue.histories_at(at) if any(i.field_id in relevant for i in h.items)}


def assert_matches_truth(company: Company, con: duckdb.DuckDBPyConnection, end: datetime, projects: list[str]) -> int:
    """Every issue whose latest change is at or before the last window end is stored, at its latest version."""
    site = company.jira
    index_time = company.now - timedelta(seconds=site.settings.index_lag_seconds)
    stored = warehouse_issues(con)
    expected = {}
    for issue in site.issues(index_time, projects):
        state = site.state(issue, index_time)
        if state.updated <= end:
            expected[issue.id] = state.updated
    assert set(stored) <= {i.id for i in site.issues(index_time, projects)}, "an issue that does not exist was stored"
    missing = set(expected) - set(stored)
    assert not missing, f"{len(missing)} issues missed, e.g. {sorted(missing)[:5]}"
    stale = {i for i, updated in expected.items() if stored[i] != updated}
    assert not stale, f"{len(stale)} issues stored at an old version, e.g. {sorted(stale)[:5]}"
    histories: dict[int, set[int]] = {}
    for issue_id, history_id in con.execute("SELECT issue_id, history_id FROM raw_jira.changelogs").fetchall():
        histories.setdefault(issue_id, set()).add(history_id)
    for issue_id in expected:
        assert histories.get(issue_id, set()) == relevant_history_ids(company, issue_id, end), issue_id
    return len(expected)


@pytest.mark.parametrize("user_timezone", ["America/Los_Angeles", "Asia/Kolkata"])
def test_repeated_incremental_syncs_miss_none_and_duplicate_none(
    server: FakeApiServer, company: Company, jira: HttpClient, loader: RawLoader, user_timezone: str
) -> None:
    site = company.jira
    site.settings.user_timezone = user_timezone
    ends = endpoints("cloud")
    fields = discover_fields(fetch_fields(jira, ends))
    rng = random.Random(11)
    projects = ["PAY", "OPS"]

    sync_issues(jira, loader, ends, projects, fields, page_size=5)
    assert_matches_truth(company, loader.con, cursor(loader, "PAY"), projects)
    for _ in range(3):
        company.advance(0.3)
        candidates = site.issues(projects=projects)
        for issue in rng.sample(candidates, 5):
            site.touch_issue(issue.id)  # edited now: inside the consistency window
        # An issue of the first page is edited (and indexed) while the client pages: it leaves the window,
        # and with offset-like page tokens the issues behind it shift one place towards the pages already read.
        start = cursor(loader, "PAY") - timedelta(minutes=15)
        end = company.now - timedelta(minutes=5)
        lagged = company.now - timedelta(seconds=site.settings.index_lag_seconds)
        in_window = [i for i in site.issues(lagged, ["PAY"]) if start <= site.state(i, lagged).updated <= end]
        server.faults.update_during_paging("search", in_window[0].id, before_page=2, source="jira")
        summary = sync_issues(jira, loader, ends, projects, fields, page_size=5)
        assert summary.ok
        assert_matches_truth(company, loader.con, cursor(loader, "PAY"), projects)
        assert cursor(loader, "PAY") == company.now - timedelta(minutes=5)
    company.advance(0.1)
    sync_issues(jira, loader, ends, projects, fields, page_size=5)
    checked = assert_matches_truth(company, loader.con, cursor(loader, "PAY"), projects)
    assert checked > 100
    # The windows used epoch-millisecond literals, never zone-dependent "yyyy-MM-dd HH:mm" strings.
    bodies = [p for p in server.stats.paths("jira") if "search" in p]
    assert bodies and all("/rest/api/3/search/jql" in p for p in bodies)


def test_issue_updated_inside_consistency_window_is_picked_up_by_next_sync(
    company: Company, jira: HttpClient, loader: RawLoader
) -> None:
    site = company.jira
    ends = endpoints("cloud")
    fields = discover_fields(fetch_fields(jira, ends))
    sync_issues(jira, loader, ends, ["SRCH"], fields, overlap=timedelta(0))
    issue = site.issues(projects=["SRCH"])[3]
    history = site.touch_issue(issue.id, at=company.now - timedelta(seconds=30))  # not yet indexed by search

    sync_issues(jira, loader, ends, ["SRCH"], fields, overlap=timedelta(0))
    assert warehouse_issues(loader.con)[issue.id] < history.at

    company.advance(1 / 24)
    sync_issues(jira, loader, ends, ["SRCH"], fields, overlap=timedelta(0))
    assert warehouse_issues(loader.con)[issue.id] == history.at


def test_changelogs_are_complete_for_issues_with_more_transitions_than_the_embedded_limit(
    server: FakeApiServer, jira: HttpClient, loader: RawLoader
) -> None:
    company = server.company
    ends = endpoints("cloud")
    fields = discover_fields(fetch_fields(jira, ends))
    assert sync_issues(jira, loader, ends, ["PAY"], fields, page_size=100).ok
    end = cursor(loader, "PAY")
    long_lived = [
        i
        for i in company.jira.issues(end, ["PAY"])
        if len(i.transitions(end)) > company.jira.settings.embedded_changelog_limit
    ]
    assert long_lived, "the generator should produce issues with more transitions than the embedded limit"
    for issue in long_lived:
        rows = loader.con.execute(
            "SELECT payload FROM raw_jira.changelogs WHERE issue_id = ? ORDER BY created_at, history_id", [issue.id]
        ).fetchall()
        transitions = [
            (item["from"], item["to"])
            for (payload,) in rows
            for item in json.loads(payload)["items"]
            if item["fieldId"] == "status"
        ]
        assert transitions == [(a, b) for _, a, b in issue.transitions(end)]


@pytest.fixture
def big_company() -> Company:
    return generate_company(seed=42, scale=4.0, anchor=ANCHOR, history_days=100)


@pytest.fixture
def big_server(big_company: Company) -> Iterator[FakeApiServer]:
    with FakeApiServer(big_company) as running:
        yield running


def test_bulkfetch_splits_more_than_1000_changed_issues(
    big_server: FakeApiServer, sleeps: SleepRecorder, loader: RawLoader
) -> None:
    client = jira_client(big_server.base_url("jira"), email=EMAIL, token=TOKEN, sleep=sleeps)
    with client:
        ends = endpoints("cloud")
        fields = discover_fields(fetch_fields(client, ends))
        assert sync_issues(client, loader, ends, ["PAY"], fields, page_size=100).ok
    count = loader.con.execute("SELECT count(*) FROM raw_jira.issues").fetchone()
    assert count is not None and count[0] > 1000
    bulk_calls = [p for p in big_server.stats.paths("jira") if "changelog/bulkfetch" in p]
    assert len(bulk_calls) >= 2  # the fake answers 400 to a single call with more than 1,000 ids
    assert 400 not in big_server.stats.by_status("jira")
    stored = loader.con.execute("SELECT count(*) FROM raw_jira.changelogs").fetchone()
    now = big_server.company.now
    ids = warehouse_issues(loader.con)
    assert stored == (sum(len(relevant_history_ids(big_server.company, i, now)) for i in ids),)


def test_custom_fields_are_discovered_on_a_site_with_other_ids(
    company: Company, jira: HttpClient, loader: RawLoader
) -> None:
    settings = company.jira.settings
    settings.story_points_field = "customfield_10234"
    settings.story_points_name = "Story Points"
    settings.sprint_field = "customfield_10555"
    sync_jira(jira, loader, ["PAY", "OPS"])

    rows = loader.con.execute(
        "SELECT id, story_points, sprint_ids, story_points_field, sprint_field FROM raw_jira.issues"
    ).fetchall()
    assert {(r[3], r[4]) for r in rows} == {("customfield_10234", "customfield_10555")}
    end = cursor(loader, "PAY")
    site = company.jira
    truth = {i.id: site.state(i, end) for i in site.issues(end, ["PAY", "OPS"])}
    with_points = [r for r in rows if r[1] is not None]
    assert with_points
    for issue_id, points, sprint_ids, *_ in rows:
        if issue_id in truth and truth[issue_id].updated <= end:
            assert points == truth[issue_id].story_points
            assert json.loads(sprint_ids) == list(truth[issue_id].sprint_ids)
    roles = dict(loader.con.execute("SELECT role, id FROM raw_jira.fields WHERE role IS NOT NULL").fetchall())
    assert roles == {"story_points": "customfield_10234", "sprint": "customfield_10555"}
    changed_fields = loader.con.execute(
        "SELECT DISTINCT i.fieldId FROM (SELECT unnest(from_json(payload -> '$.items', '[\"json\"]')) AS j "
        "FROM raw_jira.changelogs), LATERAL (SELECT j ->> 'fieldId' AS fieldId) i"
    ).fetchall()
    assert {"customfield_10555"} <= {r[0] for r in changed_fields}


def test_old_search_endpoint_on_cloud_fails_with_a_clear_message(jira: HttpClient, loader: RawLoader) -> None:
    with pytest.raises(SyncFailedError) as caught:
        sync_jira(jira, loader, ["PAY"], search_api="legacy", metadata=False)
    message = str(caught.value)
    assert "410" in message and "search_api" in message and "enhanced" in message
    assert loader.get_state("jira", "issues", "PAY") is None  # no cursor moved
    errors = loader.con.execute("SELECT outcome, error FROM meta.sync_runs WHERE stream = 'issues'").fetchall()
    assert errors[0][0] == "failed" and "CHANGE-2046" in errors[0][1]


def test_data_center_site_syncs_with_offset_paging_and_a_pat(
    company: Company, make_jira: Callable[..., HttpClient], loader: RawLoader
) -> None:
    company.jira.settings.deployment = "data_center"
    cloud = make_jira()
    with pytest.raises(JiraConfigurationError) as caught:  # a DC site configured as Cloud: clear, not silent
        sync_jira(cloud, loader, ["PAY"], metadata=False)
    assert "deployment='data_center'" in str(caught.value)

    dc = make_jira(deployment="data_center", email=None, token="dc-personal-access-token")
    summaries = sync_jira(dc, loader, ["PAY", "OPS"], deployment="data_center", page_size=40)
    assert all(s.ok for s in summaries.values())
    end = cursor(loader, "PAY")
    assert_matches_truth(company, loader.con, end, ["PAY", "OPS"])


def test_deleted_issues_are_marked_deleted_after_a_census(
    company: Company, jira: HttpClient, loader: RawLoader
) -> None:
    ends = endpoints("cloud")
    sync_jira(jira, loader, ["CHK"], metadata=False)
    victims = company.jira.issues(projects=["CHK"])[5:8]
    for issue in victims:
        company.jira.delete_issue(issue.id)
    company.advance(0.1)
    census_deletions(jira, loader, ends, ["CHK"])
    deleted = loader.con.execute("SELECT issue_id FROM raw_jira.issue_deletions WHERE is_deleted").fetchall()
    assert {r[0] for r in deleted} == {i.id for i in victims}
    # The raw issue rows stay as served; still-live issues are not flagged.
    assert loader.con.execute("SELECT count(*) FROM raw_jira.issue_deletions").fetchone() == (3,)


def test_rate_limits_429_and_503_with_retry_after_are_honoured(
    server: FakeApiServer, jira: HttpClient, loader: RawLoader, sleeps: SleepRecorder
) -> None:
    server.faults.inject("jira", "rate_limit_429", times=2, path_contains="search/jql", retry_after=7)
    server.faults.inject("jira", "unavailable_503", times=1, path_contains="bulkfetch", retry_after=3)
    summaries = sync_jira(jira, loader, ["PAY"], metadata=False)
    assert summaries["issues"].ok
    assert sleeps.calls == [7.0, 7.0, 3.0]
    assert server.stats.by_status("jira")[429] == 2 and server.stats.by_status("jira")[503] == 1


def test_a_repeated_next_page_token_raises_instead_of_looping(
    server: FakeApiServer, jira: HttpClient, loader: RawLoader
) -> None:
    server.faults.inject("jira", "repeat_token", times=1, path_contains="search/jql")
    with pytest.raises(SyncFailedError) as caught:
        sync_jira(jira, loader, ["PAY"], metadata=False, page_size=20)
    assert "nextPageToken already used" in str(caught.value)
    assert isinstance(caught.value.__cause__, SyncFailedError)
    assert loader.get_state("jira", "issues", "PAY") is None
    assert len([p for p in server.stats.paths("jira") if "search/jql" in p]) == 2


def test_discovery_rejects_an_override_the_site_does_not_have(jira: HttpClient) -> None:
    with pytest.raises(ValueError, match="customfield_99999"):
        discover_fields(fetch_fields(jira, endpoints("cloud")), story_points_field="customfield_99999")


def test_command_line_sync_and_its_exit_codes(
    server: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TEST_JIRA_TOKEN", TOKEN)
    warehouse = str(tmp_path / "cli.duckdb")
    args = ["--warehouse", warehouse, "--base-url", server.base_url("jira"), "--email", EMAIL]
    args += ["--token-env", "TEST_JIRA_TOKEN", "--projects", "OPS"]
    assert main([*args, "--census"]) == 0
    assert "issues OPS:" in capsys.readouterr().out
    assert main([*args, "--search-api", "legacy"]) == 1
    assert "search_api" in capsys.readouterr().err
    monkeypatch.delenv("TEST_JIRA_TOKEN")
    assert main(args) == 2
    with duckdb.connect(warehouse, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_jira.issues").fetchone() == (
            len(company_ops_ids(server.company, warehouse)),
        )


def company_ops_ids(company: Company, warehouse: str) -> set[int]:
    with duckdb.connect(warehouse, read_only=True) as con:
        state = con.execute(
            "SELECT state FROM meta.sync_state WHERE source = 'jira' AND stream = 'issues' AND scope = 'OPS'"
        ).fetchone()
    assert state is not None
    end = datetime.fromisoformat(json.loads(state[0])["cursor"])
    site = company.jira
    return {i.id for i in site.issues(end, ["OPS"])}
