"""The Jenkins and PagerDuty assets materialise every raw table against the fakes (no definitions edit needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.assets.ingestion import WRITER_POOL
from orchestration.assets.jenkins import JENKINS_ASSETS, JenkinsResource
from orchestration.assets.pagerduty import PAGERDUTY_ASSETS, PagerDutyResource
from orchestration.resources import WarehouseResource
from simulation.company import generate_company
from simulation.jenkins_api import JenkinsApi
from simulation.pagerduty_api import PagerDutyApi
from simulation.server import FakeApiServer

TABLES = [("raw_jenkins", "builds")] + [("raw_pagerduty", t) for t in ("incidents", "log_entries", "services", "teams")]


def test_jenkins_and_pagerduty_assets_materialise_every_raw_table(tmp_path: Path) -> None:
    company = generate_company(seed=42, scale=0.3, anchor=datetime(2026, 6, 1, tzinfo=UTC), history_days=30)
    path = tmp_path / "warehouse.duckdb"
    with FakeApiServer(company, sources=[JenkinsApi(), PagerDutyApi()]) as server:
        resources = {
            "warehouse": WarehouseResource(path=str(path)),
            "jenkins": JenkinsResource(base_url=server.base_url("jenkins"), user="u", token="t", jobs=["deploy"]),
            "pagerduty": PagerDutyResource(base_url=server.base_url("pagerduty"), token="k"),
        }
        result = dg.materialize([*JENKINS_ASSETS, *PAGERDUTY_ASSETS], resources=resources)
    assert result.success
    keys = {event.asset_key for event in result.get_asset_materialization_events()}
    assert keys == {dg.AssetKey(list(t)) for t in TABLES}
    for asset in [*JENKINS_ASSETS, *PAGERDUTY_ASSETS]:
        assert asset.op.pool == WRITER_POOL
        for spec in asset.specs:
            assert spec.group_name == "ingestion"
    with duckdb.connect(str(path), read_only=True) as con:
        for schema, table in TABLES:
            count = con.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()
            assert count is not None and count[0] > 0, table
