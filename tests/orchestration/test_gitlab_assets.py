"""The GitLab assets materialise every raw_gitlab table against the fake GitLab (no definitions edit needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.assets.gitlab import GITLAB_ASSETS, GitLabResource
from orchestration.assets.ingestion import WRITER_POOL
from orchestration.resources import WarehouseResource
from simulation.company import generate_company
from simulation.gitlab_api import GitLabApi
from simulation.server import FakeApiServer

TABLES = [
    "merge_requests",
    "mr_commits",
    "mr_notes",
    "mr_approvals",
    "pipelines",
    "jobs",
    "deployments",
    "environments",
]


def test_gitlab_assets_materialise_every_raw_table(tmp_path: Path) -> None:
    company = generate_company(seed=42, scale=0.3, anchor=datetime(2026, 6, 1, tzinfo=UTC), history_days=10)
    path = tmp_path / "warehouse.duckdb"
    with FakeApiServer(company, sources=[GitLabApi()]) as server:
        resources = {
            "warehouse": WarehouseResource(path=str(path)),
            "gitlab": GitLabResource(
                base_url=server.base_url("gitlab") + "/api/v4", token="t", projects=["acme/recommendations"]
            ),
        }
        result = dg.materialize(GITLAB_ASSETS, resources=resources)
    assert result.success
    keys = {event.asset_key for event in result.get_asset_materialization_events()}
    assert {dg.AssetKey(["raw_gitlab", table]) for table in TABLES} == keys
    for asset in GITLAB_ASSETS:
        assert asset.op.pool == WRITER_POOL
        for spec in asset.specs:
            assert spec.group_name == "ingestion"
    with duckdb.connect(str(path), read_only=True) as con:
        for table in TABLES:
            count = con.execute(f"SELECT count(*) FROM raw_gitlab.{table}").fetchone()
            assert count is not None and count[0] > 0, table
