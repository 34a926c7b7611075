"""dbt staging for the GitHub delivery tables builds, and its tests pass, on synced data (dbt as a subprocess).

Uses a private --target-path/--log-path so it never clashes with other dbt runs on the same checkout.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion.github.client import github_client
from ingestion.github.commits import sync_commits
from ingestion.github.deployments import sync_deployments
from ingestion.github.issues import sync_issues
from ingestion.github.pr_children import sync_pr_children
from ingestion.github.pull_requests import sync_pull_requests
from ingestion.github.releases import sync_releases
from ingestion.github.workflow_runs import sync_workflow_runs
from ingestion.loader import RawLoader
from simulation.company import generate_company
from simulation.server import FakeApiServer
from tests.dbt_run import dbt_build

REPOS = ["acme/checkout-service"]


def test_github_staging_builds_and_passes_its_tests_on_synced_data(tmp_path: Path) -> None:
    company = generate_company(seed=42, scale=0.3, anchor=datetime(2026, 6, 1, tzinfo=UTC), history_days=21)
    warehouse = tmp_path / "warehouse.duckdb"
    with FakeApiServer(company) as server, duckdb.connect(str(warehouse)) as con:
        client = github_client(server.base_url("github"), "t", sleep=lambda _: None)
        with client:
            for _ in range(2):  # two overlapping syncs: staging grain tests see any duplicate
                loader = RawLoader(con)
                sync_pull_requests(client, loader, REPOS)
                sync_pr_children(client, loader, REPOS)
                sync_commits(client, loader, REPOS)
                sync_deployments(client, loader, REPOS)
                sync_workflow_runs(client, loader, REPOS, initial_days=22)
                sync_issues(client, loader, REPOS)
                sync_releases(client, loader, REPOS)
                company.advance(0.3)

    result = dbt_build(warehouse, tmp_path, "--select", "staging.github", timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "ERROR=0" in result.stdout and "PASS=" in result.stdout

    with duckdb.connect(str(warehouse), read_only=True) as con:
        retried = con.execute("SELECT count(*) FROM staging.stg_github__workflow_runs WHERE run_attempt = 2").fetchone()
        assert retried is not None and retried[0] > 0
        merges = con.execute(
            "SELECT count(*) FROM staging.stg_github__commits WHERE parent_count = 2 "
            "AND merged_pull_request_number IS NOT NULL"
        ).fetchone()
        total = con.execute("SELECT count(*) FROM staging.stg_github__commits").fetchone()
        assert merges == total and total is not None and total[0] > 0
        incidents = con.execute(
            "SELECT count(*) FROM staging.stg_github__issues WHERE list_contains(labels, 'incident')"
        ).fetchone()
        assert incidents is not None and incidents[0] > 0
