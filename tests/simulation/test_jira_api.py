"""The fake Jira: the traps of the real API (timezone literals, eventual consistency, truncated changelogs,
removed search endpoints, unbounded JQL, bulkfetch limits), its determinism and the company's Jira stories."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from simulation.company import Company
from simulation.jira_model import DONE, IN_PROGRESS, IN_REVIEW, TODO
from simulation.server import FakeApiServer

from .conftest import small_company


class Jira:
    def __init__(self, server: FakeApiServer, *, bearer: str | None = None) -> None:
        self.base = server.base_url("jira")
        self.session = requests.Session()
        self.session.trust_env = False
        if bearer:
            self.session.headers["Authorization"] = f"Bearer {bearer}"
        else:
            basic = base64.b64encode(b"me@acme.example:api-token").decode()
            self.session.headers["Authorization"] = f"Basic {basic}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.base + path, params=params, timeout=10)

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.session.post(self.base + path, json=body, timeout=10)

    def search(self, jql: str, **body: Any) -> requests.Response:
        return self.post("/rest/api/3/search/jql", {"jql": jql, **body})

    def all_ids(self, jql: str) -> list[str]:
        ids: list[str] = []
        token = None
        while True:
            body: dict[str, Any] = {"maxResults": 5000}
            if token:
                body["nextPageToken"] = token
            data = self.search(jql, **body).json()
            ids += [i["id"] for i in data["issues"]]
            token = data.get("nextPageToken")
            if not token:
                return ids


@pytest.fixture
def jira_company() -> Company:
    return small_company(history_days=20)


@pytest.fixture
def jira_server(jira_company: Company) -> Iterator[FakeApiServer]:
    with FakeApiServer(jira_company) as srv:
        yield srv


@pytest.fixture
def jira(jira_server: FakeApiServer) -> Iterator[Jira]:
    client = Jira(jira_server)
    yield client
    client.session.close()


def test_string_date_literals_are_read_in_the_users_timezone_and_epoch_ms_are_not(
    jira_company: Company, jira: Jira
) -> None:
    site = jira_company.jira
    cut = (jira_company.now - timedelta(days=3)).replace(hour=10, minute=17, second=42)  # a Friday morning
    ms = int(cut.timestamp() * 1000)
    utc_text = cut.strftime("%Y-%m-%d %H:%M")  # what a naive client sends: UTC digits, no zone
    truth = {str(i.id) for i in site.issues() if i.created_at >= cut}
    for zone in ("America/Los_Angeles", "Asia/Kolkata"):
        site.settings.user_timezone = zone
        assert set(jira.all_ids(f"project in (PAY, OPS, SRCH, PLAT, CHK, DATA) AND created >= {ms}")) == truth
        naive = set(jira.all_ids(f'project in (PAY, OPS, SRCH, PLAT, CHK, DATA) AND created >= "{utc_text}"'))
        local = cut.astimezone(ZoneInfo(zone)).strftime("%Y/%m/%d %H:%M")
        zoned = set(jira.all_ids(f"project in (PAY, OPS, SRCH, PLAT, CHK, DATA) AND created >= '{local}'"))
        if zone == "America/Los_Angeles":
            assert naive < truth  # UTC digits read as LA time: 7 hours of issues skipped
        else:
            assert naive > truth  # read as IST: 5.5 hours re-read
        minute = cut.replace(second=0, microsecond=0)  # minute granularity
        assert zoned == {str(i.id) for i in site.issues() if i.created_at >= minute}


def test_timestamps_are_rendered_in_the_users_timezone(jira_company: Company, jira: Jira) -> None:
    jira_company.jira.settings.user_timezone = "Asia/Kolkata"
    issue = jira.search("project = PAY", fields=["created", "updated"], maxResults=1).json()["issues"][0]
    created = issue["fields"]["created"]
    assert created.endswith("+0530") and len(created) == len("2026-01-01T00:00:00.000+0530")
    parsed = datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%f%z")
    assert parsed == jira_company.jira.issue(int(issue["id"])).created_at


def test_search_is_eventually_consistent(jira_company: Company, jira: Jira) -> None:
    site = jira_company.jira
    issue = site.issues(projects=["PAY"])[0]
    since = int((jira_company.now - timedelta(minutes=2)).timestamp() * 1000)
    site.touch_issue(issue.id)
    assert jira.all_ids(f"project = PAY AND updated >= {since}") == []
    jira_company.advance(site.settings.index_lag_seconds / 86400 + 1e-6)
    assert jira.all_ids(f"project = PAY AND updated >= {since}") == [str(issue.id)]


def test_default_fields_paging_and_page_shift_ordering(jira_company: Company, jira: Jira) -> None:
    first = jira.search("project = PAY ORDER BY created ASC", maxResults=5).json()
    assert set(first["issues"][0]) == {"expand", "id", "self", "key"}  # default fields: id only
    assert first["nextPageToken"] and first["isLast"] is False
    all_fields = jira.search("project = PAY", fields=["*all"], maxResults=100).json()
    assert len(all_fields["issues"]) == 20  # fewer than asked when every field is requested
    last = jira.search("project = PAY AND created >= 0", maxResults=5000, fields=["id"]).json()
    assert "nextPageToken" not in last and last["isLast"] is True
    bad = jira.search("project = PAY", nextPageToken="bm9wZQ")
    assert bad.status_code == 400 and "errorMessages" in bad.json()


def test_unbounded_and_unparsed_jql_get_400(jira: Jira) -> None:
    for jql in ("", "ORDER BY created DESC", "assignee = currentUser()", "project = PAY OR project = OPS"):
        response = jira.search(jql)
        assert response.status_code == 400, jql
        assert response.json()["errorMessages"], jql


def test_old_search_endpoints_are_gone_on_cloud_and_served_on_data_center(
    jira_company: Company, jira_server: FakeApiServer, jira: Jira
) -> None:
    for path in ("/rest/api/3/search", "/rest/api/2/search"):
        response = jira.get(path, jql="project = PAY")
        assert response.status_code == 410
        assert "CHANGE-2046" in response.json()["errorMessages"][0]
    jira_company.jira.settings.deployment = "data_center"
    dc = Jira(jira_server, bearer="personal-access-token")
    page = dc.get("/rest/api/2/search", jql="project = PAY", startAt=3, maxResults=4).json()
    assert (
        page["startAt"] == 3
        and page["maxResults"] == 4
        and page["total"] == len(jira_company.jira.issues(jira_company.now - timedelta(minutes=1), ["PAY"]))
    )
    assert len(page["issues"]) == 4
    assert dc.get("/rest/api/3/field").status_code == 404  # no v3 on Data Center
    assert Jira(jira_server, bearer="x").get("/rest/api/2/field").status_code == 200
    jira_company.jira.settings.deployment = "cloud"
    assert Jira(jira_server, bearer="x").get("/rest/api/3/field").status_code == 401  # no PATs on Cloud


def test_embedded_changelog_is_truncated_but_bulkfetch_is_complete(jira_company: Company, jira: Jira) -> None:
    site = jira_company.jira
    now = jira_company.now
    long_issue = next(i for i in site.issues() if len(i.histories_at(now)) > 20)
    embedded = jira.search(f"project = {long_issue.project_key}", expand="changelog", maxResults=5000).json()
    found = next(i for i in embedded["issues"] if i["id"] == str(long_issue.id))
    assert len(found["changelog"]["histories"]) == 20 < found["changelog"]["total"]
    histories: list[dict[str, Any]] = []
    token = None
    while True:
        body: dict[str, Any] = {"issueIdsOrKeys": [long_issue.key], "fieldIds": ["status"], "maxResults": 7}
        if token:
            body["nextPageToken"] = token
        data = jira.post("/rest/api/3/changelog/bulkfetch", body).json()
        histories += [h for log in data["issueChangeLogs"] for h in log["changeHistories"]]
        token = data.get("nextPageToken")
        if not token:
            break
    transitions = [(i["from"], i["to"]) for h in histories for i in h["items"]]
    assert transitions == [(a, b) for _, a, b in long_issue.transitions(now)]
    too_many = jira.post("/rest/api/3/changelog/bulkfetch", {"issueIdsOrKeys": [str(n) for n in range(1001)]})
    assert too_many.status_code == 400 and "1,000" in too_many.json()["errorMessages"][0]


def test_rate_limit_faults_carry_retry_after(jira_server: FakeApiServer, jira: Jira) -> None:
    jira_server.faults.inject("jira", "rate_limit_429", retry_after=4)
    jira_server.faults.inject("jira", "unavailable_503", retry_after=2)
    first = jira.get("/rest/api/3/status")
    assert first.status_code == 429 and first.headers["Retry-After"] == "4" and first.headers["X-RateLimit-Reset"]
    second = jira.get("/rest/api/3/status")
    assert second.status_code == 503 and second.headers["Retry-After"] == "2"
    assert jira.get("/rest/api/3/status").status_code == 200


def test_workflows_sprints_and_clock(jira_company: Company, jira: Jira) -> None:
    site = jira_company.jira
    issues = site.issues()
    transitions = [t for i in issues for t in i.transitions(jira_company.now)]
    moves = {(a, b) for _, a, b in transitions}
    assert {(TODO, IN_PROGRESS), (IN_PROGRESS, IN_REVIEW), (IN_REVIEW, DONE)} <= moves
    assert (IN_REVIEW, IN_PROGRESS) in moves and (DONE, TODO) in moves  # moves back and reopen
    assert any(b == "10002" for _, _, b in transitions)  # Blocked
    sprints = jira.get("/rest/agile/1.0/board/1/sprint", state="active").json()["values"]
    assert len(sprints) == 1
    assert jira.get("/rest/agile/1.0/board/6/sprint").status_code == 400  # OPS is kanban
    before = len(issues)
    truth = site.ground_truth()
    assert len(truth) == before and all(t["transitions"] or t["status"] == "To Do" for t in truth.values())
    jira_company.advance(3)
    assert len(site.issues()) > before
    # A scripted transition is served at once by bulkfetch (the changelog is not eventually consistent).
    key = next(k for k, t in truth.items() if t["status"] == "Done")
    site.transition_issue(key, TODO)
    data = jira.post("/rest/api/3/changelog/bulkfetch", {"issueIdsOrKeys": [key], "fieldIds": ["status"]}).json()
    last = data["issueChangeLogs"][-1]["changeHistories"][-1]["items"][0]
    assert (last["fromString"], last["toString"]) == ("Done", "To Do")


def test_site_is_deterministic() -> None:
    one = small_company(history_days=10).jira
    two = small_company(history_days=10).jira
    assert [(i.key, i.created_at, [h.id for h in i.histories]) for i in one.issues()] == [
        (i.key, i.created_at, [h.id for h in i.histories]) for i in two.issues()
    ]


def test_ops_p1_share_and_payments_unplanned_share_climb() -> None:
    company = small_company(history_days=120)
    site = company.jira
    split = company.now - timedelta(weeks=4)
    old_start = company.now - timedelta(weeks=16)

    def share(project: str, test: Any, start: datetime, end: datetime) -> float:
        chosen = [i for i in site.issues(projects=[project]) if start <= i.created_at < end and i.issue_type != "Epic"]
        return sum(1 for i in chosen if test(i)) / len(chosen)

    p1 = lambda i: i.priority == "1"  # noqa: E731
    unplanned = lambda i: "unplanned" in i.labels  # noqa: E731
    assert share("OPS", p1, split, company.now) > share("OPS", p1, old_start, split - timedelta(weeks=4)) + 0.1
    assert share("PAY", unplanned, split, company.now) > share("PAY", unplanned, old_start, split) + 0.1
    assert datetime(2026, 1, 1, tzinfo=UTC) < company.now


def test_ordering_by_updated_shifts_pages_when_an_issue_is_edited_while_paging(
    jira_company: Company, jira_server: FakeApiServer, jira: Jira
) -> None:
    site = jira_company.jira

    def walk(order: str) -> list[str]:
        jql = f"project = PAY AND created >= 0 ORDER BY {order} ASC"
        first = jira.search(jql, maxResults=10).json()
        target = first["issues"][0]["id"]
        ids = [i["id"] for i in first["issues"]]
        jira_server.faults.update_during_paging("search", int(target), before_page=2, source="jira")
        token = first["nextPageToken"]
        while token:
            page = jira.search(jql, maxResults=10, nextPageToken=token).json()
            ids += [i["id"] for i in page["issues"]]
            token = page.get("nextPageToken")
        return ids

    truth = {str(i.id) for i in site.issues(jira_company.now - timedelta(minutes=1), ["PAY"])}
    by_updated = walk("updated")
    assert len(truth - set(by_updated)) == 1  # the issue behind the edited one slid onto page 1: never seen
    by_created = walk("created")
    assert set(by_created) == truth  # created order does not move when an issue is edited
