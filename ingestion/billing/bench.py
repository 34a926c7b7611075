"""Benchmark helper: generate a large FOCUS CSV and load it, measuring rows/s and the loader's peak memory.

The load runs in a child process so its peak resident set (``ru_maxrss`` from ``os.wait4``) is the loader's
own, DuckDB's native allocations included (tracemalloc would see only Python objects).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

_GENERATE = """
COPY (
    SELECT
        'acct-' || (i % 7) AS BillingAccountId,
        TIMESTAMPTZ '2026-04-01 00:00:00+00' AS BillingPeriodStart,
        TIMESTAMPTZ '2026-05-01 00:00:00+00' AS BillingPeriodEnd,
        TIMESTAMPTZ '2026-04-01 00:00:00+00' + to_hours(i % 720) AS ChargePeriodStart,
        TIMESTAMPTZ '2026-04-01 01:00:00+00' + to_hours(i % 720) AS ChargePeriodEnd,
        'USD' AS BillingCurrency,
        round((i % 1000) / 100.0, 2) AS BilledCost,
        round((i % 1000) / 110.0, 4) AS EffectiveCost,
        round((i % 1000) / 90.0, 4) AS ListCost,
        'Usage' AS ChargeCategory,
        NULL AS ChargeClass,
        'AWS' AS ProviderName,
        'Amazon EC2' AS ServiceName,
        'Compute' AS ServiceCategory,
        'i-' || (i % 5000) AS ResourceId,
        CASE WHEN i % 12 = 0 THEN NULL ELSE '{"Team": "team-' || (i % 9) || '", "env": "prod"}' END AS Tags
    FROM range(__ROWS__) t(i)
) TO '__PATH__' (HEADER, DELIMITER ',')
"""

_CHILD = """
import json, sys, time, duckdb
from ingestion.billing import load_drop
con = duckdb.connect(sys.argv[1])
con.execute("SET threads = 2")
started = time.perf_counter()
results = load_drop(con, sys.argv[2], memory_limit=sys.argv[3])
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "status": [r.status for r in results], "rows": sum(r.rows for r in results),
                  "reason": [r.reason for r in results if r.reason]}))
"""


def bench_focus_load(rows: int, tmp_dir: Path, memory_limit: str = "1GB") -> dict[str, object]:
    """Write a ``rows``-row FOCUS CSV under ``tmp_dir`` and load it in a child process.

    Returns rows, seconds, rows_per_second, peak_rss_mb (child's ru_maxrss), file_mb and memory_limit.
    """
    import duckdb

    tmp_dir = Path(tmp_dir)
    drop = tmp_dir / "drop" / "aws" / "focus"
    drop.mkdir(parents=True, exist_ok=True)
    path = drop / f"bench-{rows}.csv"
    with duckdb.connect() as con:
        con.execute(_GENERATE.replace("__ROWS__", str(int(rows))).replace("__PATH__", str(path).replace("'", "''")))
    warehouse = tmp_dir / "bench_warehouse.duckdb"
    if warehouse.exists():
        warehouse.unlink()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(warehouse), str(tmp_dir / "drop"), memory_limit],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"bench child failed ({proc.returncode}): {err.decode()[-2000:]}")
    import json

    report = json.loads(out.decode().strip().splitlines()[-1])
    seconds = float(report["seconds"])
    loaded = int(report["rows"])
    return {
        "rows": loaded,
        "seconds": round(seconds, 3),
        "wall_seconds": round(time.perf_counter() - started, 3),
        "rows_per_second": round(loaded / seconds) if seconds else None,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "memory_limit": memory_limit,
        "status": report["status"],
    }
