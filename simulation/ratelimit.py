"""Per-token request quotas that reset at the top of each real hour, like GitHub's primary limit.

The window uses the real wall clock (not the simulated one) because clients sleep in real time
until ``reset``; the simulated clock only moves when a test or the demo advances it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


def next_full_hour(epoch: float) -> int:
    return (int(epoch) // 3600 + 1) * 3600


@dataclass(slots=True)
class QuotaBucket:
    limit: int
    remaining: int
    reset: int  # epoch seconds

    @property
    def used(self) -> int:
        return self.limit - self.remaining


class QuotaBook:
    """Thread-safe buckets keyed by (source, token)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._limits: dict[str, int] = {}
        self._buckets: dict[tuple[str, str], QuotaBucket] = {}

    def configure(self, source: str, limit: int) -> None:
        with self._lock:
            self._limits[source] = limit

    def has_quota(self, source: str) -> bool:
        return source in self._limits

    def _bucket(self, source: str, token: str) -> QuotaBucket:
        now = self._clock()
        bucket = self._buckets.get((source, token))
        if bucket is None or now >= bucket.reset:
            limit = self._limits[source]
            bucket = QuotaBucket(limit, limit, next_full_hour(now))
            self._buckets[(source, token)] = bucket
        return bucket

    def snapshot(self, source: str, token: str) -> QuotaBucket:
        """A copy of the bucket's current values (for headers)."""
        with self._lock:
            bucket = self._bucket(source, token)
            return QuotaBucket(bucket.limit, bucket.remaining, bucket.reset)

    def consume(self, source: str, token: str, cost: int = 1) -> QuotaBucket:
        """Spend ``cost`` (never below zero) and return the values after spending."""
        with self._lock:
            bucket = self._bucket(source, token)
            bucket.remaining = max(0, bucket.remaining - cost)
            return QuotaBucket(bucket.limit, bucket.remaining, bucket.reset)

    def remaining(self, source: str, token: str) -> int:
        return self.snapshot(source, token).remaining

    def reset(self) -> None:
        """Forget all spending (every token starts a fresh hour)."""
        with self._lock:
            self._buckets.clear()

    def set_remaining(self, source: str, token: str, remaining: int) -> None:
        """Test knob: pretend the token already spent most of its hour."""
        with self._lock:
            bucket = self._bucket(source, token)
            bucket.remaining = max(0, min(bucket.limit, remaining))
