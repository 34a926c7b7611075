"""``make bench``: how fast and how frugal ingestion is, how long the dbt build takes, and how well the alert
detector finds injected changes compared with the naive week-over-week rule (orchestration/alerting/harness.py).

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

from ingestion.billing.bench import bench_focus_load
from orchestration.alerting.harness import run_harness
from orchestration.assets.dbt import DBT_PROJECT_DIR, dbt_executable, prepare_manifest
from orchestration.simulated import DEFAULT_SIM_TOKEN, SimulationSettings, running_simulated_company

BENCH_ANCHOR = "2026-06-01"  # fixed, so results are comparable from one day to the next
FOCUS_BENCH_ROWS = 500_000
DBT_BENCH_SELECTION = "source:github+ source:gitlab+ source:jenkins+ source:pagerduty+"  # what _connectors loads


def _ingest(module: str, args: list[str], warehouse: Path) -> dict[str, float]:
    """Run one connector's entry point as a child process; its cost comes from the meta.sync_runs rows it wrote."""
    env = {**os.environ, "TECHLEDGER_BENCH_TOKEN": DEFAULT_SIM_TOKEN}
    before = _sync_ids(warehouse)
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", module, "--warehouse", str(warehouse), "--token-env", "TECHLEDGER_BENCH_TOKEN", *args],
        env=env,
    )
    # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would mix in earlier children)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"benchmark child {module} failed with exit code {child.returncode}")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select sync_id, records, requests from meta.sync_runs").fetchall()
    new = [(records, requests) for sync_id, records, requests in rows if sync_id not in before]
    records = sum(r for r, _ in new)
    requests = sum(q for _, q in new)
    return {
        "records": int(records),
        "requests": int(requests),
        "seconds": round(seconds, 3),
        "records_per_second": round(records / seconds, 1),
        "requests_per_record": round(requests / max(records, 1), 4),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
    }


def _sync_ids(warehouse: Path) -> set[str]:
    if not warehouse.exists():
        return set()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        exists = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'meta' and table_name = 'sync_runs'"
        ).fetchone()[0]
        return {row[0] for row in con.execute("select sync_id from meta.sync_runs").fetchall()} if exists else set()


def _connectors(server_url: str, company: object) -> dict[str, tuple[str, list[str]]]:
    """name -> (module, arguments) of every connector entry point, pointed at the simulated company."""
    delivery = company.delivery
    repos = ",".join(repo.full_name for repo in company.repos)
    gitlab_projects = ",".join(s.repo for s in delivery.services() if s.host == "gitlab")
    github = ["--base-url", f"{server_url}/github", "--repos", repos]
    gitlab = ["--base-url", f"{server_url}/gitlab/api/v4", "--projects", gitlab_projects]
    streams = ("pull_requests", "pr_children", "commits", "deployments", "workflow_runs", "issues", "releases")
    connectors = {f"github_{s}": (f"ingestion.github.{s}", github) for s in streams}
    for stream in ("merge_requests", "pipelines", "deployments", "environments"):
        connectors[f"gitlab_{stream}"] = (f"ingestion.gitlab.{stream}", gitlab)
    connectors["jenkins_builds"] = ("ingestion.jenkins.builds", ["--base-url", f"{server_url}/jenkins", "--user", "b"])
    connectors["pagerduty_incidents"] = ("ingestion.pagerduty.incidents", ["--base-url", f"{server_url}/pagerduty"])
    return connectors


def _dbt_build(warehouse: Path, select: str) -> dict[str, float]:
    """Time `dbt build` of the models over the sources the benchmark loaded."""
    prepare_manifest(force=True)
    env = {**os.environ, "TECHLEDGER_WAREHOUSE": str(warehouse)}
    started = time.perf_counter()
    subprocess.run(
        [
            dbt_executable(),
            "build",
            "--quiet",
            "--select",
            *select.split(),
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
        connectors = _connectors(server.url, server.company)
        for name, (module, args) in connectors.items():
            results[f"ingest_{name}_full"] = _ingest(module, args, warehouse)
        server.company.advance(days=1)
        for name, (module, args) in connectors.items():
            results[f"ingest_{name}_incremental_1_day"] = _ingest(module, args, warehouse)
        results["dbt_build_delivery_sources"] = _dbt_build(warehouse, DBT_BENCH_SELECTION)
        focus = bench_focus_load(FOCUS_BENCH_ROWS, Path(tmp))
        results[f"load_billing_focus_csv_{FOCUS_BENCH_ROWS}_rows"] = {
            "records": focus["rows"],
            "seconds": focus["seconds"],
            "records_per_second": focus["rows_per_second"],
            "peak_rss_mib": focus["peak_rss_mb"],
        }

    harness = run_harness()  # seeded: the same numbers tests/orchestration/alerting/test_harness.py asserts
    results["alert_detection_harness"] = {
        "ours": harness.ours.as_dict(),
        "naive_week_over_week_20pct": harness.naive.as_dict(),
        "shares_ours": harness.share_ours.as_dict(),
        "shares_naive_week_over_week_20pct": harness.share_naive.as_dict(),
    }

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"techledger bench — simulated company at scale {scale}")
    print(f"{'step':<52} {'records':>9} {'req':>6} {'rec/s':>9} {'req/rec':>8} {'peak MiB':>9} {'s':>8}")
    for name, row in results.items():
        if not isinstance(row, dict) or "seconds" not in row:
            continue
        print(
            f"{name:<52} {row.get('records', ''):>9} {row.get('requests', ''):>6} "
            f"{row.get('records_per_second', ''):>9} {row.get('requests_per_record', ''):>8} "
            f"{row.get('peak_rss_mib', ''):>9} {row['seconds']:>8}"
        )
    print()
    print(harness.table())
    print(f"results written to {output}")
    return 0
