"""The fake PagerDuty: default one-month window, 6-month range cap, offset+limit cap (code 2002), classic paging,
log entries with acknowledgement times, auth and 429s."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from simulation.company import Company
from simulation.pagerduty_api import PagerDutyApi, pd_id
from simulation.server import FakeApiServer
from simulation.timefmt import iso_z


class PagerDuty:
    def __init__(self, server: FakeApiServer, key: str = "pd-key") -> None:
        self.base = server.base_url("pagerduty")
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Token token={key}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.base + path, params=params, timeout=10)

    def json(self, path: str, **params: Any) -> Any:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def pd(server: FakeApiServer) -> Iterator[PagerDuty]:
    client = PagerDuty(server)
    yield client
    client.session.close()


def _visible(company: Company) -> list[Any]:
    return [i for i in company.delivery.incidents() if i.started_at <= company.now]


def test_without_since_or_until_only_the_last_month_is_listed(pd: PagerDuty, company: Company) -> None:
    visible = _visible(company)
    recent = [i for i in visible if i.started_at >= company.now - timedelta(days=30)]
    assert 0 < len(recent) < len(visible)
    default = pd.json("/incidents", limit=100, total="true")
    assert default["total"] == len(recent)
    everything = pd.json("/incidents", limit=100, total="true", date_range="all")
    assert everything["total"] == len(visible)
    assert pd.json("/incidents", limit=100)["total"] is None  # only with total=true


def test_since_until_filter_on_created_time_and_cap_the_range(pd: PagerDuty, company: Company) -> None:
    lo, hi = company.now - timedelta(days=50), company.now - timedelta(days=20)
    body = pd.json("/incidents", since=iso_z(lo), until=iso_z(hi), limit=100, sort_by="created_at:asc")
    expected = [i.number for i in _visible(company) if lo <= i.started_at < hi]
    assert [i["incident_number"] for i in body["incidents"]] == expected
    too_long = pd.get("/incidents", since=iso_z(company.now - timedelta(days=200)), until=iso_z(company.now))
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == 2001


def test_classic_pagination_and_the_10000_offset_cap(pd: PagerDuty) -> None:
    first = pd.json("/incidents", limit=5, offset=0, date_range="all")
    second = pd.json("/incidents", limit=5, offset=5, date_range="all")
    assert first["more"] is True and first["limit"] == 5 and second["offset"] == 5
    assert not {i["id"] for i in first["incidents"]} & {i["id"] for i in second["incidents"]}
    assert pd.json("/incidents", limit=500)["limit"] == 100
    over = pd.get("/incidents", limit=100, offset=9_901)
    assert over.status_code == 400
    assert over.json() == {
        "error": {
            "message": "Arguments Caused Error",
            "code": 2002,
            "errors": ["Offset+limit exceeds maximum allowed value of 10000."],
        }
    }
    assert pd.get("/incidents", limit=100, offset=9_900).status_code == 200


def test_bulk_incidents_exceed_the_offset_cap_in_one_window(fresh_server: FakeApiServer) -> None:
    company = fresh_server.company
    api = fresh_server.source("pagerduty")
    assert isinstance(api, PagerDutyApi)
    api.add_bulk_incidents("platform-infra", "platform", 10_050, company.now - timedelta(days=10), company.now)
    pd = PagerDuty(fresh_server)
    service = pd_id("service", "platform-infra")
    body = pd.json("/incidents", **{"service_ids[]": service, "limit": 1, "total": "true"})
    assert body["total"] > 10_000


def test_log_entries_keep_the_acknowledgement_time_the_resolved_incident_drops(pd: PagerDuty, company: Company) -> None:
    incident = _visible(company)[0]
    listed = pd.json("/incidents", date_range="all", limit=1)["incidents"][0]
    assert listed["incident_number"] == incident.number
    assert listed["status"] == "resolved" and listed["acknowledgements"] == []
    assert pd.json(f"/incidents/{listed['id']}")["incident"]["id"] == listed["id"]
    entries = pd.json(f"/incidents/{listed['id']}/log_entries")["log_entries"]
    by_type = {e["type"]: e["created_at"] for e in entries}
    assert by_type["acknowledge_log_entry"] == iso_z(incident.acknowledged_at)
    assert by_type["resolve_log_entry"] == iso_z(incident.resolved_at)
    assert pd.get("/incidents/QNOPE00").status_code == 404


def test_services_and_teams_page_by_offset(pd: PagerDuty, company: Company) -> None:
    services = pd.json("/services", limit=100, total="true")
    assert services["total"] == len(company.delivery.services())
    assert {s["name"] for s in services["services"]} == {s.name for s in company.delivery.services()}
    teams = pd.json("/teams", limit=2)
    assert len(teams["teams"]) == 2 and teams["more"] is True


def test_token_auth_and_rate_limit_headers(server: FakeApiServer, pd: PagerDuty) -> None:
    base = server.base_url("pagerduty")
    assert requests.get(base + "/services", timeout=10).status_code == 401
    assert requests.get(base + "/services", headers={"Authorization": "Token x"}, timeout=10).status_code == 401
    server.faults.inject("pagerduty", "rate_limit_429", retry_after=3)
    limited = pd.get("/services")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3" and limited.headers["ratelimit-reset"] == "3"
    server.faults.inject("pagerduty", "ratelimit_reset_429", retry_after=2)
    limited = pd.get("/services")
    assert limited.status_code == 429 and "Retry-After" not in limited.headers
    assert pd.get("/services").status_code == 200
