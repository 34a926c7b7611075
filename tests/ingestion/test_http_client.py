"""HttpClient against the simulated GitHub over real HTTP: pagination, retries, rate limits, ETags.

Waits go through a recording `sleep`, so rate-limit tests assert the exact wait without sitting it out.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import pytest

from ingestion.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitExhaustedError,
    RetriesExhaustedError,
    SourceError,
)
from ingestion.http import HttpClient, server_time
from simulation.company import Company
from simulation.server import FakeApiServer

from .conftest import TOKEN, TOKEN_ENV, SleepRecorder, repos_by_size


def pulls_path(repo: str) -> str:
    return f"/repos/{repo}/pulls"


def first_repo(company: Company) -> str:
    return repos_by_size(company)[0]


# ---------------------------------------------------------------------------------------------- pagination


def test_pagination_follows_every_link_and_per_page_is_clamped_to_100(
    client: HttpClient, server: FakeApiServer, company: Company
) -> None:
    repo = first_repo(company)
    expected = company.list_pull_requests(repo)
    assert len(expected) > 100, "the test needs a repository with more than one page of 100"

    pages = list(client.paginate(pulls_path(repo), {"state": "all", "per_page": 500}))

    assert len(pages) == math.ceil(len(expected) / 100)
    assert [len(p.items) for p in pages[:-1]] == [100] * (len(pages) - 1)
    assert 0 < len(pages[-1].items) <= 100
    assert [p.page_number for p in pages] == list(range(1, len(pages) + 1))
    # Every page after the first is requested at exactly the URL the previous page linked to.
    for previous, page in itertools.pairwise(pages):
        assert page.url == previous.response.links["next"]
    assert "next" not in pages[-1].response.links
    assert sorted(item["id"] for p in pages for item in p.items) == sorted(pr["id"] for pr in expected)
    assert server.stats.requests("github") == len(pages)


def test_server_time_is_the_simulated_clock(client: HttpClient, company: Company) -> None:
    response = client.get(pulls_path(first_repo(company)), {"per_page": 1})
    assert server_time(response) == company.now


def test_absolute_urls_to_another_host_are_refused(client: HttpClient) -> None:
    with pytest.raises(SourceError, match=r"refusing to request /steal on https://evil\.example"):
        client.get("https://evil.example/steal")


# ---------------------------------------------------------------------------------------------- rate limits


def test_429_with_retry_after_sleeps_exactly_retry_after(
    client: HttpClient, server: FakeApiServer, sleeps: SleepRecorder, company: Company
) -> None:
    server.faults.inject(source="github", kind="rate_limit_429", times=1, retry_after=1)
    response = client.get(pulls_path(first_repo(company)))
    assert response.status_code == 200
    assert sleeps.calls == [1.0]
    assert client.stats.retries == 1 and client.stats.http_errors[429] == 1
    assert server.stats.requests("github") == 2


@pytest.mark.parametrize("kind", ["secondary_403", "secondary_429"])
def test_secondary_limit_without_retry_after_backs_off_at_least_a_minute(
    kind: str, client: HttpClient, server: FakeApiServer, sleeps: SleepRecorder, company: Company
) -> None:
    server.faults.inject(source="github", kind=kind, times=2)
    response = client.get(pulls_path(first_repo(company)))
    assert response.status_code == 200
    assert sleeps.calls == [60.0, 120.0]  # at least a minute, doubling on repeats
    assert server.stats.requests("github") == 3


def test_secondary_limit_with_retry_after_uses_it(
    client: HttpClient, server: FakeApiServer, sleeps: SleepRecorder, company: Company
) -> None:
    server.faults.inject(source="github", kind="secondary_403", times=1, retry_after=7)
    client.get(pulls_path(first_repo(company)))
    assert sleeps.calls == [7.0]


@pytest.mark.parametrize("kind", ["primary_403", "primary_429"])
def test_primary_limit_waits_until_the_reset_header(
    kind: str, client: HttpClient, server: FakeApiServer, sleeps: SleepRecorder, company: Company
) -> None:
    server.faults.inject(source="github", kind=kind, times=1, reset_in=2)
    response = client.get(pulls_path(first_repo(company)))
    assert response.status_code == 200
    # reset = now + 2 s (epoch, wall clock); the client waits until then plus one second of margin.
    assert len(sleeps.calls) == 1 and 2.0 <= sleeps.calls[0] <= 3.1
    assert client.stats.http_errors[int(kind[-3:])] == 1


def test_a_wait_longer_than_max_wait_fails_fast_with_an_actionable_message(
    make_client: Callable[..., HttpClient], server: FakeApiServer, sleeps: SleepRecorder, company: Company
) -> None:
    client = make_client(max_wait=60)
    server.faults.inject(source="github", kind="primary_403", times=1, reset_in=3600)
    with pytest.raises(RateLimitExhaustedError) as caught:
        client.get(pulls_path(first_repo(company)))
    message = str(caught.value)
    assert "primary rate limit" in message and "max_wait=60" in message and "rerun after the limit resets" in message
    assert sleeps.calls == []


# ---------------------------------------------------------------------------------------------- transient failures


def test_5xx_then_success_backs_off_with_jitter(
    client: HttpClient, server: FakeApiServer, sleeps: SleepRecorder, company: Company
) -> None:
    server.faults.inject(source="github", kind="server_error", times=2, status=502)
    response = client.get(pulls_path(first_repo(company)))
    assert response.status_code == 200
    assert len(sleeps.calls) == 2
    assert 0 <= sleeps.calls[0] <= 1.0 and 0 <= sleeps.calls[1] <= 2.0  # full jitter, base 1 s, doubling
    assert client.stats.http_errors[502] == 2 and client.stats.retries == 2


def test_timeout_then_success(
    make_client: Callable[..., HttpClient], server: FakeApiServer, sleeps: SleepRecorder, company: Company
) -> None:
    client = make_client(timeout=(2.0, 0.3))
    server.faults.inject(source="github", kind="timeout", times=1, delay=1.0)
    response = client.get(pulls_path(first_repo(company)))
    assert response.status_code == 200 and response.json()
    assert client.stats.retries == 1 and len(sleeps.calls) == 1


def test_truncated_body_then_success(
    client: HttpClient, server: FakeApiServer, sleeps: SleepRecorder, company: Company
) -> None:
    repo = first_repo(company)
    server.faults.inject(source="github", kind="truncated_body", times=1)
    items = client.get_json(pulls_path(repo), {"state": "all", "per_page": 100})
    assert len(items) == 100
    assert client.stats.retries == 1 and len(sleeps.calls) == 1


def test_retries_are_capped_and_the_error_says_what_happened(
    make_client: Callable[..., HttpClient], server: FakeApiServer, sleeps: SleepRecorder, company: Company
) -> None:
    client = make_client(max_retries=2)
    repo = first_repo(company)
    server.faults.inject(source="github", kind="server_error", times=10, status=503)
    with pytest.raises(RetriesExhaustedError) as caught:
        client.get(pulls_path(repo), {"state": "all"})
    message = str(caught.value)
    assert message.startswith(f"github GET /github/repos/{repo}/pulls?state=all: gave up after 3 attempts")
    assert "HTTP 503" in message and "rerun later" in message and "\n" not in message
    assert server.stats.requests("github") == 3 and len(sleeps.calls) == 2


# ---------------------------------------------------------------------------------------------- permanent failures


def test_permission_403_fails_at_once_with_a_clear_message(
    client: HttpClient, server: FakeApiServer, sleeps: SleepRecorder, company: Company
) -> None:
    repo = first_repo(company)
    server.faults.inject(source="github", kind="permission_403", times=1)
    with pytest.raises(PermissionDeniedError) as caught:
        client.get(pulls_path(repo), {"state": "all"})
    message = str(caught.value)
    assert message.startswith(f"github GET /github/repos/{repo}/pulls?state=all: HTTP 403 permission denied")
    assert f"check that the token in env var {TOKEN_ENV} has read access to this repository" in message
    assert caught.value.status == 403
    assert server.stats.requests("github") == 1
    assert sleeps.calls == []


def test_a_transient_401_is_retried_once(
    client: HttpClient, server: FakeApiServer, sleeps: SleepRecorder, company: Company
) -> None:
    server.faults.inject(source="github", kind="unauthorized_401", times=1)
    assert client.get(pulls_path(first_repo(company))).status_code == 200
    assert server.stats.requests("github") == 2


def test_a_rejected_token_fails_after_one_retry(
    client: HttpClient, server: FakeApiServer, sleeps: SleepRecorder, company: Company
) -> None:
    server.faults.inject(source="github", kind="unauthorized_401", times=5)
    with pytest.raises(AuthenticationError, match=f"HTTP 401 .* the token in env var {TOKEN_ENV} was rejected"):
        client.get(pulls_path(first_repo(company)))
    assert server.stats.requests("github") == 2


def test_unknown_repository_is_not_found_without_retry(client: HttpClient, server: FakeApiServer) -> None:
    with pytest.raises(NotFoundError, match=r"HTTP 404 not found.*check the name in the configuration"):
        client.get(pulls_path("acme/does-not-exist"))
    assert server.stats.requests("github") == 1


# ---------------------------------------------------------------------------------------------- conditional requests


def test_repeated_conditional_request_is_a_free_304_served_from_cache(
    client: HttpClient, server: FakeApiServer, company: Company
) -> None:
    path = pulls_path(first_repo(company))
    params = {"state": "all", "sort": "updated", "direction": "desc", "per_page": 50}
    first = client.get(path, params)
    quota_after_first = server.stats.quota_remaining("github", TOKEN)

    second = client.get(path, params)

    assert not first.from_cache and second.from_cache
    assert second.json() == first.json()
    assert second.links == first.links
    assert server.stats.quota_remaining("github", TOKEN) == quota_after_first
    assert server.stats.by_status("github").get(304) == 1
    assert client.stats.not_modified == 1 and client.stats.requests == 2
