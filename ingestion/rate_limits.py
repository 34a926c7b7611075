"""How a source says "slow down", and how long to wait.

Sources signal throttling differently (GitHub uses 403 *and* 429 for two kinds of limits, and 403 also
means "no permission"), so the HTTP client asks a per-source `RateLimitPolicy` to classify throttling
answers. `Retry-After` dates are read against the server's `Date` (same clock, whatever the local skew); reset
epochs against the local clock (see `reset_wait_seconds`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal, Protocol

from ingestion.response import ApiResponse, server_time

# Numbers above this are epoch seconds; below it, a relative number of seconds (IETF RateLimit-Reset).
_EPOCH_THRESHOLD = 1_000_000_000


@dataclass(frozen=True)
class RateLimitDecision:
    """What to do with a throttling/forbidden answer.

    action "retry": wait `wait` seconds (None = the client's exponential backoff) and repeat.
    action "deny": a permission problem; fail at once, retrying cannot help.
    """

    action: Literal["retry", "deny"]
    kind: str  # "primary", "secondary", "throttled", "permission"
    wait: float | None
    reason: str


class RateLimitPolicy(Protocol):
    """Classifies non-2xx answers that may be rate limiting. Returns None to let the client decide."""

    permission_hint: str  # completes "check that <the token> ..." in PermissionDeniedError messages

    def classify(self, response: ApiResponse, *, previous_waits: int) -> RateLimitDecision | None:
        """`previous_waits` counts rate-limit waits already done for this request (for escalation)."""
        ...


def retry_after_seconds(response: ApiResponse) -> float | None:
    """`Retry-After` in seconds, whether sent as delay-seconds or as an HTTP date (RFC 9110)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - server_time(response)).total_seconds())


def reset_wait_seconds(
    response: ApiResponse, header: str = "x-ratelimit-reset", *, clock: Callable[[], float] = time.time
) -> float | None:
    """Seconds until the quota in `header` resets, plus one second of margin.

    Accepts epoch seconds (GitHub, GitLab), relative seconds (IETF draft) and ISO timestamps (Jira).
    Absolute resets are compared with the local clock: GitHub documents `x-ratelimit-reset` as UTC
    epoch seconds and mature clients (octokit) subtract the local time; the simulated APIs also run
    their quota windows on the wall clock while their `Date` is the simulated company's. The margin
    covers one-second resolution: asking exactly at the reset second can still hit the old window.
    """
    value = response.headers.get(header)
    if value is None:
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - clock()) + 1.0
    if number >= _EPOCH_THRESHOLD:
        return max(0.0, number - clock()) + 1.0
    return max(0.0, number) + 1.0


class DefaultRateLimitPolicy:
    """For sources without special rules: 429 and 503 mean "slow down".

    Waits for `Retry-After` first, then for a reset header when the quota is exhausted, else lets the
    client back off exponentially. A plain 403 is left to the client (permission denied).
    """

    permission_hint = "has read access to this resource"

    def classify(self, response: ApiResponse, *, previous_waits: int) -> RateLimitDecision | None:
        if response.status_code not in (429, 503):
            return None
        retry_after = retry_after_seconds(response)
        if retry_after is not None:
            return RateLimitDecision("retry", "throttled", retry_after, f"Retry-After: {retry_after:g} s")
        if response.status_code == 429:
            reset = reset_wait_seconds(response) or reset_wait_seconds(response, "ratelimit-reset")
            if reset is not None:
                return RateLimitDecision("retry", "throttled", reset, "waiting for the rate-limit reset")
        return RateLimitDecision("retry", "throttled", None, f"HTTP {response.status_code} without Retry-After")
