"""ingestion/ is plain Python: it must not import Dagster, the orchestration layer or the simulated world."""

from __future__ import annotations

import ast
from pathlib import Path

import ingestion
from ingestion.etag_cache import CachedResponse, EtagCache

FORBIDDEN = ("dagster", "orchestration", "simulation", "dbt")


def test_ingestion_imports_neither_dagster_nor_orchestration_nor_simulation() -> None:
    root = Path(ingestion.__file__).parent
    offenders: list[str] = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            offenders += [f"{path.relative_to(root)}: {name}" for name in names if name.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_etag_cache_is_bounded_by_bytes_and_evicts_least_recently_used() -> None:
    cache = EtagCache(max_bytes=3000)

    def entry(name: str) -> CachedResponse:
        return CachedResponse(etag=f'"{name}"', url=name, headers={}, content=b"x" * 1000)

    for name in ("a", "b"):
        cache[name] = entry(name)
    assert cache["a"].etag == '"a"'  # touch "a": "b" is now the least recently used
    cache["c"] = entry("c")
    assert set(cache) == {"a", "c"}
    assert cache.bytes_used <= 3000
    cache["huge"] = CachedResponse('"h"', "huge", {}, b"x" * 5000)  # larger than the cache: not kept
    assert "huge" not in cache
