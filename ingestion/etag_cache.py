"""ETag cache for conditional requests.

A 304 answer costs no GitHub quota, so re-polling an unchanged first page (newest-first lists,
per-PR child lists) is free if we remember the body. The default store is in memory and bounded by
bytes (least recently used entries go first) so the cache cannot grow with the size of a source; any
dict-like object can be plugged in instead (e.g. a persistent store shared between runs).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CachedResponse:
    """The parts of a 200 answer needed to replay it on a 304."""

    etag: str
    url: str
    headers: dict[str, str]
    content: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.content) + sum(len(k) + len(v) for k, v in self.headers.items()) + len(self.url)


class EtagCache(MutableMapping[str, CachedResponse]):
    """In-memory LRU keyed by full URL (query included: ETags are per exact URL), bounded by bytes."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, CachedResponse] = OrderedDict()
        self._bytes = 0

    def __getitem__(self, url: str) -> CachedResponse:
        entry = self._entries[url]
        self._entries.move_to_end(url)
        return entry

    def __setitem__(self, url: str, entry: CachedResponse) -> None:
        if url in self._entries:
            del self[url]
        if entry.size > self.max_bytes:
            return
        self._entries[url] = entry
        self._bytes += entry.size
        while self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size

    def __delitem__(self, url: str) -> None:
        entry = self._entries.pop(url)
        self._bytes -= entry.size

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes_used(self) -> int:
        return self._bytes
