"""GitHub's three meanings of 403/429 (source-apis.md §1.3).

GitHub answers both a primary-limit and a secondary-limit hit with 403 *or* 429, and also uses 403 for
"this token may not read that". Treating every 403 as fatal loses syncs to throttling; treating every
403 as throttling makes a missing permission look like a hang. The headers and the body tell them apart:

- primary: x-ratelimit-remaining == "0" -> wait for Retry-After if given, else until x-ratelimit-reset.
- secondary: the body mentions "secondary rate limit" (or a 429 that is not primary) -> Retry-After if
  given; else the reset if remaining == "0"; else at least 60 s, doubling on repeats.
- permission: 403 without Retry-After, remaining > 0, message not about rate limits -> fail at once.
"""

from __future__ import annotations

from ingestion.rate_limits import RateLimitDecision, reset_wait_seconds, retry_after_seconds
from ingestion.response import ApiResponse

SECONDARY_MIN_WAIT = 60.0  # GitHub: "wait at least one minute before retrying"

_SECONDARY_MARKERS = ("secondary rate limit", "abuse detection")


class GitHubRateLimitPolicy:
    """Classifies GitHub 403/429 answers; see the module docstring for the table."""

    permission_hint = (
        "has read access to this repository "
        "(classic PAT: 'repo' scope for private repos; fine-grained PAT or GitHub App: "
        "the repository is selected and 'Pull requests'/'Contents'/'Actions' read permission is granted)"
    )

    def __init__(self, secondary_min_wait: float = SECONDARY_MIN_WAIT) -> None:
        self.secondary_min_wait = secondary_min_wait

    def classify(self, response: ApiResponse, *, previous_waits: int) -> RateLimitDecision | None:
        status = response.status_code
        if status not in (403, 429):
            return None
        message = response.server_message.lower()
        remaining = (response.headers.get("x-ratelimit-remaining") or "").strip()
        retry_after = retry_after_seconds(response)
        secondary = any(marker in message for marker in _SECONDARY_MARKERS)

        if remaining == "0" and not secondary:
            if retry_after is not None:
                return RateLimitDecision("retry", "primary", retry_after, f"Retry-After: {retry_after:g} s")
            reset = reset_wait_seconds(response)
            return RateLimitDecision("retry", "primary", reset, "primary rate limit exhausted")

        if secondary or status == 429 or retry_after is not None or "rate limit" in message:
            if retry_after is not None:
                return RateLimitDecision("retry", "secondary", retry_after, f"Retry-After: {retry_after:g} s")
            if remaining == "0":
                reset = reset_wait_seconds(response)
                return RateLimitDecision("retry", "secondary", reset, "secondary limit, quota exhausted")
            wait = self.secondary_min_wait * (2**previous_waits)
            return RateLimitDecision("retry", "secondary", wait, "secondary rate limit without Retry-After")

        return RateLimitDecision("deny", "permission", None, "forbidden")
