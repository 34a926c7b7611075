"""Shared fake-API behaviours over real HTTP: faults, quota, ETags, the simulated Date, stats."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import pytest
import requests

from simulation.company import Company
from simulation.server import FakeApiServer
from tests.simulation.conftest import TOKEN, GitHub

REPO = "acme/payments-api"
PULLS = f"/repos/{REPO}/pulls"
SECONDARY = "You have exceeded a secondary rate limit"


def remaining(response: requests.Response) -> int:
    return int(response.headers["x-ratelimit-remaining"])


# -- headers --------------------------------------------------------------------------------------
def test_every_response_carries_rate_limit_headers_and_the_simulated_date(gh: GitHub, company: Company) -> None:
    for response in (gh.pulls(), gh.pulls(repo="acme/nope"), gh.pulls(state="bogus")):
        headers = response.headers
        assert headers["x-ratelimit-limit"] == "5000"
        assert int(headers["x-ratelimit-used"]) == 5000 - remaining(response)
        reset = int(headers["x-ratelimit-reset"])
        assert reset % 3600 == 0 and 0 < reset - time.time() <= 3600
        assert headers["x-ratelimit-resource"] == "core"
        assert headers["x-github-request-id"]
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        assert parsedate_to_datetime(headers["Date"]) == company.now
    ids = {gh.pulls().headers["x-github-request-id"] for _ in range(3)}
    assert len(ids) == 3


def test_date_header_follows_the_clock_when_advanced_over_http(fresh_gh: GitHub, fresh_company: Company) -> None:
    before = parsedate_to_datetime(fresh_gh.pulls().headers["Date"])
    moved = fresh_gh.session.post(fresh_gh.server.url + "/_sim/advance", params={"days": 1.5}, timeout=5)
    assert moved.status_code == 200
    after = parsedate_to_datetime(fresh_gh.pulls().headers["Date"])
    assert (after - before).total_seconds() == 1.5 * 86400
    assert moved.json()["now"] == after.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- quota ----------------------------------------------------------------------------------------
def test_quota_is_per_token_and_spent_by_every_non_304_request(server: FakeApiServer) -> None:
    alice, bob = GitHub(server, "alice"), GitHub(server, "bob")
    assert server.quota_remaining("github", "alice") == 5000
    assert remaining(alice.pulls()) == 4999
    assert remaining(alice.pulls(repo="acme/nope")) == 4998  # errors cost too
    assert remaining(bob.pulls()) == 4999
    assert server.quota_remaining("github", "alice") == 4998
    assert server.stats.quota_remaining("github", "bob") == 4999
    limits = alice.get("/rate_limit")
    assert limits.json()["resources"]["core"]["remaining"] == 4998, "rate_limit itself is free"
    assert limits.json()["rate"] == limits.json()["resources"]["core"]
    assert server.quota_remaining("github", "alice") == 4998


def test_exhausted_quota_gives_a_primary_limit_403(server: FakeApiServer, gh: GitHub) -> None:
    server.quotas.set_remaining("github", TOKEN, 1)
    assert gh.pulls().status_code == 200
    exhausted = gh.pulls()
    assert exhausted.status_code == 403
    assert exhausted.json()["message"].startswith("API rate limit exceeded for user ID")
    assert remaining(exhausted) == 0
    assert "Retry-After" not in exhausted.headers


# -- ETags ----------------------------------------------------------------------------------------
def test_etag_304_costs_no_quota_but_counts_in_stats(server: FakeApiServer, gh: GitHub) -> None:
    first = gh.pulls(state="all")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    server.stats.reset()
    spent_before = server.quota_remaining("github", TOKEN)
    cached = gh.get(PULLS, params={"state": "all"}, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    assert cached.headers["ETag"] == etag
    assert remaining(cached) == spent_before == server.quota_remaining("github", TOKEN)
    assert server.stats.requests("github") == 1 and server.stats.by_status("github") == {304: 1}
    weak = gh.get(PULLS, params={"state": "all"}, headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    stale = gh.get(PULLS, params={"state": "all"}, headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200 and remaining(stale) == spent_before - 1
    other_page = gh.get(PULLS, params={"state": "all", "page": 2}, headers={"If-None-Match": etag})
    assert other_page.status_code == 200, "ETags are per exact URL"


def test_etag_changes_when_the_content_changes(fresh_gh: GitHub, fresh_company: Company) -> None:
    etag = fresh_gh.pulls(state="all", sort="updated", direction="desc").headers["ETag"]
    fresh_company.advance(1)
    again = fresh_gh.get(
        PULLS, params={"state": "all", "sort": "updated", "direction": "desc"}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 200 and again.headers["ETag"] != etag


# -- faults -----------------------------------------------------------------------------------------
def test_rate_limit_429_with_retry_after(server: FakeApiServer, gh: GitHub) -> None:
    server.faults.inject("github", "rate_limit_429", times=2, retry_after=3)
    for _ in range(2):
        response = gh.pulls()
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "3"
        assert set(response.json()) >= {"message", "documentation_url"}
    assert gh.pulls().status_code == 200
    server.faults.inject("github", "rate_limit_429")
    assert gh.pulls().headers["Retry-After"] == "1"


@pytest.mark.parametrize("kind,status", [("secondary_403", 403), ("secondary_429", 429)])
def test_secondary_limits(server: FakeApiServer, gh: GitHub, kind: str, status: int) -> None:
    server.faults.inject("github", kind)
    response = gh.pulls()
    assert response.status_code == status
    assert response.json()["message"].startswith(SECONDARY)
    assert response.headers["x-github-request-id"] in response.json()["message"]
    assert remaining(response) > 0
    assert "Retry-After" not in response.headers
    server.faults.inject("github", kind, retry_after=7)
    assert gh.pulls().headers["Retry-After"] == "7"


@pytest.mark.parametrize("kind,status", [("primary_403", 403), ("primary_429", 429)])
def test_primary_limits(server: FakeApiServer, gh: GitHub, kind: str, status: int) -> None:
    server.faults.inject("github", kind, reset_in=5)
    response = gh.pulls()
    assert response.status_code == status
    assert response.json()["message"].startswith("API rate limit exceeded for user ID 123.")
    assert remaining(response) == 0
    assert abs(int(response.headers["x-ratelimit-reset"]) - (time.time() + 5)) <= 2
    assert "Retry-After" not in response.headers
    assert gh.pulls().status_code == 200


def test_permission_403_is_not_a_rate_limit(server: FakeApiServer, gh: GitHub) -> None:
    server.faults.inject("github", "permission_403")
    response = gh.pulls()
    assert response.status_code == 403
    body = response.json()
    assert body["message"] == "Resource not accessible by personal access token"
    assert body["status"] == "403" and body["documentation_url"]
    assert remaining(response) > 0 and "Retry-After" not in response.headers


def test_server_errors(server: FakeApiServer, gh: GitHub) -> None:
    server.faults.inject("github", "server_error")
    bad_gateway = gh.pulls()
    assert bad_gateway.status_code == 502 and "text/html" in bad_gateway.headers["Content-Type"]
    assert "x-ratelimit-remaining" in bad_gateway.headers
    server.faults.inject("github", "server_error", status=500)
    internal = gh.pulls()
    assert internal.status_code == 500 and internal.json()["message"] == "Server Error"
    server.faults.inject("github", "server_error", status=504)
    assert gh.pulls().status_code == 504
    assert gh.pulls().status_code == 200


def test_unauthorized_401(server: FakeApiServer, gh: GitHub) -> None:
    server.faults.inject("github", "unauthorized_401")
    before = server.quota_remaining("github", TOKEN)
    response = gh.pulls()
    assert response.status_code == 401 and response.json()["message"] == "Bad credentials"
    assert server.quota_remaining("github", TOKEN) == before
    assert gh.pulls().status_code == 200


def test_timeout_delays_then_answers_normally(server: FakeApiServer, gh: GitHub) -> None:
    server.faults.inject("github", "timeout", delay=0.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        gh.get(PULLS, timeout=0.2)
    server.faults.inject("github", "timeout", delay=0.2)
    started = time.monotonic()
    assert gh.pulls().status_code == 200
    assert time.monotonic() - started >= 0.2


def test_truncated_body_breaks_the_read(server: FakeApiServer, gh: GitHub) -> None:
    server.faults.inject("github", "truncated_body")
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        gh.pulls(state="all")
    assert gh.pulls().status_code == 200, "the next request is served normally"


def test_faults_match_paths_and_are_consumed_in_order(server: FakeApiServer, gh: GitHub) -> None:
    server.faults.inject("github", "server_error", path_contains="page=2")
    server.faults.inject("github", "server_error", status=503)
    assert gh.pulls(page=1).status_code == 503, "the page=2 fault does not match"
    assert gh.pulls(page=1).status_code == 200
    assert gh.pulls(page=2).status_code == 502
    assert gh.pulls(page=2).status_code == 200
    server.faults.inject("github", "server_error", times=3)
    server.faults.clear()
    assert gh.pulls().status_code == 200
    with pytest.raises(ValueError, match="no fault kind"):
        server.faults.inject("github", "meteor_strike")
    with pytest.raises(ValueError, match="unknown source"):
        server.faults.inject("gitlub", "server_error")


def test_update_during_paging_touches_the_pr_once_before_that_page(
    fresh_server: FakeApiServer, fresh_gh: GitHub, fresh_company: Company
) -> None:
    params = {"state": "all", "sort": "updated", "direction": "desc", "per_page": 10}
    page1 = fresh_gh.pulls(**params).json()
    victim = fresh_gh.pulls(**params, page=4).json()[0]
    fresh_server.faults.update_during_paging(REPO, victim["number"], before_page=2)
    page2 = fresh_gh.pulls(**params, page=2).json()
    later_pages = (page2, fresh_gh.pulls(**params, page=3).json(), fresh_gh.pulls(**params, page=4).json())
    numbers_2_to_4 = {pr["number"] for page in later_pages for pr in page}
    assert victim["number"] not in numbers_2_to_4, "it jumped to page 1, which the client already read"
    assert victim["number"] not in {pr["number"] for pr in page1}
    touched = fresh_company.get_pull_request(REPO, victim["number"])
    assert touched is not None and touched["updated_at"] == fresh_company.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert fresh_gh.pulls(**params).json()[0]["number"] == victim["number"]
    fresh_company.advance(0.5)
    fresh_gh.pulls(**params, page=3)
    again = fresh_company.get_pull_request(REPO, victim["number"])
    assert again is not None and again["updated_at"] == touched["updated_at"], "one-shot: no second touch"


# -- server plumbing ------------------------------------------------------------------------------
def test_stats_count_requests_statuses_and_paths(fresh_server: FakeApiServer, fresh_gh: GitHub) -> None:
    # a server of its own: on the shared one, a request another test's client gave up on (timeout, truncated
    # body) can still be counted when the server finishes it, after this test's stats were reset
    server, gh = fresh_server, fresh_gh
    server.faults.inject("github", "server_error")
    gh.pulls(page=1)
    gh.pulls(page=2)
    gh.get(PULLS + "/999999")
    gh.session.get(server.url + "/_sim/now", timeout=5)
    assert server.stats.requests() == server.stats.requests("github") == 3
    assert server.stats.by_status("github") == {502: 1, 200: 1, 404: 1}
    assert server.stats.paths("github") == [
        f"/github{PULLS}?page=1",
        f"/github{PULLS}?page=2",
        f"/github{PULLS}/999999",
    ]
    assert server.stats.requests("gitlab") == 0
    server.stats.reset()
    assert server.stats.requests() == 0 and server.stats.paths("github") == []


def test_control_endpoints(fresh_server: FakeApiServer, fresh_company: Company) -> None:
    with requests.Session() as http:
        http.trust_env = False
        now = http.get(fresh_server.url + "/_sim/now", timeout=5).json()
        assert now["now"] == now["anchor"] == "2026-03-02T00:00:00Z"
        truth = http.get(fresh_server.url + "/_sim/ground_truth", timeout=5).json()
        assert truth == fresh_company.ground_truth()
        assert http.post(fresh_server.url + "/_sim/advance?days=0.25", timeout=5).json() == {
            "now": "2026-03-02T06:00:00Z"
        }
        assert http.post(fresh_server.url + "/_sim/advance?days=-1", timeout=5).status_code == 400
        assert http.post(fresh_server.url + "/_sim/advance?days=soon", timeout=5).status_code == 400
        assert http.get(fresh_server.url + "/_sim/advance", timeout=5).status_code == 405
        sources = http.get(fresh_server.url + "/_sim/sources", timeout=5).json()
        assert sources["github"] == fresh_server.base_url("github")
        assert sources == {name: fresh_server.base_url(name) for name in fresh_server.source_names}
        assert http.get(fresh_server.url + "/nowhere/x", timeout=5).status_code == 404
    assert fresh_server.quota_remaining("github", "") == 5000
    assert fresh_server.stats.requests() == 0


def test_latency_slows_every_response(company: Company) -> None:
    with FakeApiServer(company, latency=0.2) as slow:
        client = GitHub(slow)
        started = time.monotonic()
        assert client.pulls().status_code == 200
        assert time.monotonic() - started >= 0.2
        client.close()


def test_stop_drops_keep_alive_connections(company: Company) -> None:
    server = FakeApiServer(company).start()
    client = GitHub(server)
    assert client.pulls().status_code == 200
    url = server.url
    server.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        client.session.get(url + "/github" + PULLS, timeout=2)
    client.close()
    server.stop()  # idempotent
