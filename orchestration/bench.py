"""``make bench``: how fast and how frugal ingestion is, and how long the dbt build takes.

Ingestion runs in a child process (the same entry point the crash test kills) so its peak memory is its own,
not the simulated company's. Results are printed as a table and written as JSON; later issues add rows.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from orchestration.assets.dbt import DBT_PROJECT_DIR, dbt_executable, prepare_manifest
from orchestration.simulated import DEFAULT_SIM_TOKEN, SimulationSettings, running_simulated_company

BENCH_ANCHOR = "2026-06-01"  # fixed, so results are comparable from one day to the next


def _ingest(server_url: str, repos: list[str], warehouse: Path) -> dict[str, float]:
    env = {**os.environ, "TECHLEDGER_BENCH_TOKEN": DEFAULT_SIM_TOKEN}
    started = time.perf_counter()
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ingestion.github.pull_requests",
            "--warehouse",
            str(warehouse),
            "--base-url",
            f"{server_url}/github",
            "--repos",
            ",".join(repos),
            "--token-env",
            "TECHLEDGER_BENCH_TOKEN",
        ],
        env=env,
    )
    # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would mix in earlier children)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"ingestion benchmark child failed with exit code {child.returncode}")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        records, requests = con.execute(
            "select sum(records), sum(requests) from meta.sync_runs where outcome = 'success'"
        ).fetchone()
    return {
        "records": int(records),
        "requests": int(requests),
        "seconds": round(seconds, 3),
        "records_per_second": round(records / seconds, 1),
        "requests_per_record": round(requests / max(records, 1), 4),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
    }


def _dbt_build(warehouse: Path) -> dict[str, float]:
    prepare_manifest(force=True)
    env = {**os.environ, "TECHLEDGER_WAREHOUSE": str(warehouse)}
    started = time.perf_counter()
    subprocess.run(
        [
            dbt_executable(),
            "build",
            "--quiet",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
        ],
        check=True,
        env=env,
    )
    return {"seconds": round(time.perf_counter() - started, 3)}


def run_bench(scale: float, output: Path) -> int:
    settings = SimulationSettings(seed=42, scale=scale, anchor_date=BENCH_ANCHOR)
    results: dict[str, object] = {
        "scale": scale,
        "python": platform.python_version(),
        "machine": f"{os.cpu_count()} cpu",
    }
    with tempfile.TemporaryDirectory(prefix="techledger-bench-") as tmp, running_simulated_company(settings) as server:
        warehouse = Path(tmp) / "warehouse.duckdb"
        repos = [repo.full_name for repo in server.company.repos]
        results["ingest_github_pull_requests_full"] = _ingest(server.url, repos, warehouse)
        server.company.advance(days=1)
        results["ingest_github_pull_requests_incremental_1_day"] = _ingest(server.url, repos, warehouse)
        results["dbt_build"] = _dbt_build(warehouse)

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"techledger bench — simulated company at scale {scale}")
    print(f"{'step':<48} {'records':>9} {'req':>6} {'rec/s':>9} {'req/rec':>8} {'peak MiB':>9} {'s':>8}")
    for name, row in results.items():
        if not isinstance(row, dict):
            continue
        print(
            f"{name:<48} {row.get('records', ''):>9} {row.get('requests', ''):>6} "
            f"{row.get('records_per_second', ''):>9} {row.get('requests_per_record', ''):>8} "
            f"{row.get('peak_rss_mib', ''):>9} {row['seconds']:>8}"
        )
    print(f"results written to {output}")
    return 0
