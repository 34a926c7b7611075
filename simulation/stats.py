"""Thread-safe request counters, so tests can assert exactly what a client asked for."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict

from simulation.ratelimit import QuotaBook


class ServerStats:
    def __init__(self, quotas: QuotaBook | None = None) -> None:
        self._lock = threading.Lock()
        self._quotas = quotas
        self._paths: dict[str, list[str]] = defaultdict(list)
        self._statuses: dict[str, Counter[int]] = defaultdict(Counter)

    def record_request(self, source: str, raw_path: str) -> None:
        with self._lock:
            self._paths[source].append(raw_path)

    def record_status(self, source: str, status: int) -> None:
        with self._lock:
            self._statuses[source][status] += 1

    def requests(self, source: str | None = None) -> int:
        """Requests received (faulted ones and 304s included; control endpoints excluded)."""
        with self._lock:
            if source is None:
                return sum(len(paths) for paths in self._paths.values())
            return len(self._paths.get(source, ()))

    def by_status(self, source: str) -> dict[int, int]:
        with self._lock:
            return dict(self._statuses.get(source, {}))

    def paths(self, source: str) -> list[str]:
        """Request paths with their query strings, in arrival order."""
        with self._lock:
            return list(self._paths.get(source, ()))

    def reset(self) -> None:
        with self._lock:
            self._paths.clear()
            self._statuses.clear()

    def quota_remaining(self, source: str, token: str) -> int:
        if self._quotas is None:
            raise RuntimeError("these stats are not attached to a quota book")
        return self._quotas.remaining(source, token)
