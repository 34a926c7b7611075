"""The GitHub delivery assets materialise every raw table against the fake GitHub (no definitions edit needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.assets.github import GITHUB_DELIVERY_ASSETS
from orchestration.assets.ingestion import github_pull_requests
from orchestration.resources import GitHubResource, WarehouseResource
from simulation.company import generate_company
from simulation.server import FakeApiServer

TABLES = [
    "pr_reviews",
    "pr_commits",
    "commits",
    "deployments",
    "deployment_statuses",
    "workflow_runs",
    "workflow_jobs",
    "issues",
    "releases",
]


def test_github_delivery_assets_materialise_every_raw_table(tmp_path: Path) -> None:
    company = generate_company(seed=42, scale=0.3, anchor=datetime(2026, 6, 1, tzinfo=UTC), history_days=15)
    path = tmp_path / "warehouse.duckdb"
    with FakeApiServer(company) as server:
        resources = {
            "warehouse": WarehouseResource(path=str(path)),
            "github": GitHubResource(base_url=server.base_url("github"), token="t", repos=["acme/payments-gateway"]),
        }
        result = dg.materialize([github_pull_requests, *GITHUB_DELIVERY_ASSETS], resources=resources)
    assert result.success
    keys = {event.asset_key for event in result.get_asset_materialization_events()}
    assert {dg.AssetKey(["raw_github", table]) for table in TABLES} <= keys
    # every ingestion asset reports its sync the same way (orchestration.assets.ingestion.sync_metadata)
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        assert metadata["records_synced"].value > 0 and metadata["requests"].value > 0, event.asset_key
        assert metadata["repos"].value["acme/payments-gateway"]["outcome"] == "success", event.asset_key
    for asset in GITHUB_DELIVERY_ASSETS:
        for spec in asset.specs:
            assert spec.group_name == "ingestion"
    with duckdb.connect(str(path), read_only=True) as con:
        for table in TABLES:
            count = con.execute(f"SELECT count(*) FROM raw_github.{table}").fetchone()
            assert count is not None and count[0] > 0, table
