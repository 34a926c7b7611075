"""Request counters, kept per HTTP client and recorded per sync run in `meta.sync_runs`.

They answer the operator's questions after a run: how many calls did it cost, how much did the ETag
cache save, how often did we retry and why, and how long did we sit waiting for rate limits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class RequestStats:
    requests: int = 0  # requests sent, retries included
    not_modified: int = 0  # 304 answers served from the ETag cache
    retries: int = 0  # requests repeated after a transient failure or a rate limit
    http_errors: Counter[int] = field(default_factory=Counter)  # error answers by status
    waited_seconds: float = 0.0  # total time spent in backoff / rate-limit waits

    def copy(self) -> RequestStats:
        return RequestStats(
            self.requests, self.not_modified, self.retries, Counter(self.http_errors), self.waited_seconds
        )

    def __sub__(self, other: RequestStats) -> RequestStats:
        """Counters accumulated since `other` was copied: the cost of one sync scope."""
        errors = Counter(self.http_errors)
        errors.subtract(other.http_errors)
        return RequestStats(
            self.requests - other.requests,
            self.not_modified - other.not_modified,
            self.retries - other.retries,
            +errors,
            self.waited_seconds - other.waited_seconds,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "not_modified": self.not_modified,
            "retries": self.retries,
            "http_errors": {str(status): count for status, count in sorted(self.http_errors.items())},
            "waited_seconds": round(self.waited_seconds, 3),
        }
