"""Classification of GitHub 403/429 answers (source-apis.md §1.3) and wait computations.

These are pure functions of a response; the HTTP tests show the same behaviour end to end.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from requests.structures import CaseInsensitiveDict

from ingestion.github.rate_limits import GitHubRateLimitPolicy
from ingestion.rate_limits import DefaultRateLimitPolicy, reset_wait_seconds, retry_after_seconds
from ingestion.response import ApiResponse, server_time

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
DATE = "Mon, 01 Jun 2026 12:00:00 GMT"


def answer(status: int, message: str = "", **headers: str) -> ApiResponse:
    all_headers = {"Date": DATE, "Content-Type": "application/json; charset=utf-8"}
    all_headers.update({k.replace("_", "-"): v for k, v in headers.items()})
    body = json.dumps({"message": message, "documentation_url": "https://docs.github.com"}).encode()
    return ApiResponse(status, CaseInsensitiveDict(all_headers), "https://api.github.com/x", body)


def reset_in_30() -> str:
    """A reset epoch 30 s from now: reset epochs are read against the local clock."""
    return str(int(time.time()) + 30)


POLICY = GitHubRateLimitPolicy()


def test_server_time_comes_from_the_date_header() -> None:
    assert server_time(answer(200)) == NOW


@pytest.mark.parametrize("status", [403, 429])
def test_primary_limit_waits_until_reset_plus_a_second(status: int) -> None:
    response = answer(
        status,
        "API rate limit exceeded for user ID 1.",
        x_ratelimit_remaining="0",
        x_ratelimit_reset=reset_in_30(),
    )
    decision = POLICY.classify(response, previous_waits=0)
    assert decision is not None and decision.wait is not None
    assert (decision.action, decision.kind) == ("retry", "primary")
    assert 30.0 <= decision.wait <= 31.0


def test_primary_limit_prefers_retry_after() -> None:
    response = answer(403, "API rate limit exceeded", x_ratelimit_remaining="0", x_ratelimit_reset=reset_in_30())
    response.headers["Retry-After"] = "5"
    decision = POLICY.classify(response, previous_waits=0)
    assert decision is not None and decision.wait == 5.0 and decision.kind == "primary"


def test_secondary_limit_without_retry_after_waits_a_minute_then_doubles() -> None:
    response = answer(403, "You have exceeded a secondary rate limit.", x_ratelimit_remaining="4000")
    waits = [POLICY.classify(response, previous_waits=n) for n in range(3)]
    assert [(d.kind, d.wait) for d in waits if d] == [("secondary", 60.0), ("secondary", 120.0), ("secondary", 240.0)]


def test_secondary_limit_with_zero_remaining_waits_for_reset() -> None:
    response = answer(
        403, "You have exceeded a secondary rate limit", x_ratelimit_remaining="0", x_ratelimit_reset=reset_in_30()
    )
    decision = POLICY.classify(response, previous_waits=0)
    assert decision is not None and decision.wait is not None and decision.kind == "secondary"
    assert 30.0 <= decision.wait <= 31.0


def test_429_without_zero_remaining_is_secondary_and_honours_retry_after_as_http_date() -> None:
    response = answer(429, "slow down", x_ratelimit_remaining="10", retry_after="Mon, 01 Jun 2026 12:00:07 GMT")
    decision = POLICY.classify(response, previous_waits=0)
    assert decision is not None and (decision.kind, decision.wait) == ("secondary", 7.0)


def test_plain_403_is_a_permission_problem() -> None:
    response = answer(403, "Resource not accessible by personal access token", x_ratelimit_remaining="4999")
    decision = POLICY.classify(response, previous_waits=0)
    assert decision is not None and (decision.action, decision.kind) == ("deny", "permission")


def test_other_statuses_are_left_to_the_client() -> None:
    assert POLICY.classify(answer(502), previous_waits=0) is None
    assert POLICY.classify(answer(404), previous_waits=0) is None


def test_default_policy_throttles_on_429_and_503_only() -> None:
    policy = DefaultRateLimitPolicy()
    assert policy.classify(answer(403, "nope"), previous_waits=0) is None
    decision = policy.classify(answer(503, retry_after="12"), previous_waits=0)
    assert decision is not None and decision.wait == 12.0
    decision = policy.classify(answer(429), previous_waits=0)
    assert decision is not None and decision.wait is None  # client backoff


def test_reset_header_forms() -> None:
    def clock() -> float:
        return NOW.timestamp()

    epoch = str(int(NOW.timestamp()) + 30)
    assert reset_wait_seconds(answer(429, x_ratelimit_reset=epoch), clock=clock) == 31.0
    assert reset_wait_seconds(answer(429, x_ratelimit_reset="20"), clock=clock) == 21.0  # relative seconds
    assert reset_wait_seconds(answer(429, x_ratelimit_reset="2026-06-01T12:00:10Z"), clock=clock) == 11.0  # ISO
    assert reset_wait_seconds(answer(429)) is None
    assert retry_after_seconds(answer(429, retry_after="garbage")) is None
