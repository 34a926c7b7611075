"""dbt staging for the GitLab tables builds, and its grain tests pass, on synced data (dbt as a subprocess).

Uses a private --target-path/--log-path so it never clashes with other dbt runs on the same checkout.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion.gitlab.client import gitlab_client
from ingestion.gitlab.deployments import sync_deployments
from ingestion.gitlab.environments import sync_environments
from ingestion.gitlab.merge_requests import sync_merge_requests
from ingestion.gitlab.pipelines import sync_pipelines
from ingestion.loader import RawLoader
from simulation.company import generate_company
from simulation.gitlab_api import GitLabApi
from simulation.server import FakeApiServer
from tests.dbt_run import dbt_build

PROJECTS = ["acme/ml-platform", "acme/recommendations"]


def test_gitlab_staging_builds_and_passes_its_tests_on_synced_data(tmp_path: Path) -> None:
    company = generate_company(seed=42, scale=0.3, anchor=datetime(2026, 6, 1, tzinfo=UTC), history_days=14)
    warehouse = tmp_path / "warehouse.duckdb"
    with (
        FakeApiServer(company, sources=[GitLabApi()]) as server,
        duckdb.connect(str(warehouse)) as con,
        gitlab_client(server.base_url("gitlab") + "/api/v4", "t", sleep=lambda _: None) as client,
    ):
        for _ in range(2):  # two overlapping syncs: staging grain tests see any duplicate
            loader = RawLoader(con)
            sync_merge_requests(client, loader, PROJECTS)
            sync_pipelines(client, loader, PROJECTS)
            sync_deployments(client, loader, PROJECTS)
            sync_environments(client, loader, PROJECTS)
            company.advance(0.3)

    result = dbt_build(warehouse, tmp_path, "--select", "staging.gitlab", timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "ERROR=0" in result.stdout and "PASS=" in result.stdout

    with duckdb.connect(str(warehouse), read_only=True) as con:
        production = con.execute(
            "SELECT count(*) FROM staging.stg_gitlab__deployments d JOIN staging.stg_gitlab__environments e "
            "USING (environment_id) WHERE e.tier = 'production' AND d.status IN ('success', 'failed')"
        ).fetchone()
        assert production is not None and production[0] > 0
        retried = con.execute("SELECT count(*) FROM staging.stg_gitlab__jobs WHERE is_retried").fetchone()
        assert retried is not None and retried[0] > 0
        merged = con.execute(
            "SELECT count(*) FROM staging.stg_gitlab__merge_requests WHERE state = 'merged' "
            "AND merge_commit_sha IS NOT NULL AND merged_at IS NOT NULL"
        ).fetchone()
        assert merged is not None and merged[0] > 0
        approvers = con.execute(
            "SELECT count(*) FROM staging.stg_gitlab__mr_approvals WHERE len(approved_by_usernames) = 1"
        ).fetchone()
        assert approvers is not None and approvers[0] > 0
