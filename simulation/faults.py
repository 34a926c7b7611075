"""Scripted misbehaviour: the knobs tests turn to prove a client survives the real APIs' bad days.

Faults are generic records (source, kind, how many times, which paths, options); each source
decides what a kind looks like on the wire (see ``SourceApi.fault_response``). Mutations during
paging are recorded here too and applied by the route that serves the collection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Fault:
    source: str
    kind: str
    times: int
    path_contains: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def matches(self, source: str, raw_path: str) -> bool:
        return self.source == source and (self.path_contains is None or self.path_contains in raw_path)


@dataclass(frozen=True, slots=True)
class PagingMutation:
    """Change ``item`` of ``collection`` just before page >= ``before_page`` is served, once."""

    source: str
    collection: str
    item: int
    before_page: int


class FaultInjector:
    def __init__(self, known_kinds: Callable[[str], frozenset[str] | None] | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._mutations: list[PagingMutation] = []
        self._known_kinds = known_kinds

    def inject(self, source: str, kind: str, times: int = 1, path_contains: str | None = None, **options: Any) -> Fault:
        """Make the next ``times`` matching requests misbehave as ``kind``; first injected, first used."""
        if times < 1:
            raise ValueError(f"times must be >= 1, got {times}")
        if self._known_kinds is not None:
            kinds = self._known_kinds(source)
            if kinds is None:
                raise ValueError(f"unknown source {source!r}")
            if kind not in kinds:
                raise ValueError(f"source {source!r} has no fault kind {kind!r}; known: {sorted(kinds)}")
        fault = Fault(source, kind, times, path_contains, dict(options))
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._mutations.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return [Fault(f.source, f.kind, f.times, f.path_contains, dict(f.options)) for f in self._faults]

    def take(self, source: str, raw_path: str) -> Fault | None:
        """Consume one use of the first fault matching this request, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(source, raw_path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def update_during_paging(
        self, repo_full_name: str, number: int, before_page: int = 2, source: str = "github"
    ) -> None:
        """The first time page >= ``before_page`` of that repo's PR list is requested, the PR is
        touched (``updated_at`` = now) before the page is served: the classic page-shift race."""
        with self._lock:
            self._mutations.append(PagingMutation(source, repo_full_name, number, before_page))

    def take_paging_mutations(self, source: str, collection: str, page: int) -> list[PagingMutation]:
        with self._lock:
            due = [
                m
                for m in self._mutations
                if m.source == source and m.collection == collection and page >= m.before_page
            ]
            for mutation in due:
                self._mutations.remove(mutation)
            return due
