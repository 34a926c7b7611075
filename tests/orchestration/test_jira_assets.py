"""The Jira multi-asset materializes every raw_jira stream from the fake Jira, in the writer pool, without the token."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingestion.jira.tables import ALL_TABLES
from orchestration.assets.ingestion import WRITER_POOL
from orchestration.assets.jira import JiraResource, jira_streams
from orchestration.resources import WarehouseResource
from simulation.company import generate_company
from simulation.server import FakeApiServer

SECRET = "jira-asset-secret-token-value"


def test_jira_streams_materialize_every_raw_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_JIRA_TOKEN", SECRET)
    company = generate_company(seed=42, scale=0.3, anchor=datetime(2026, 6, 1, tzinfo=UTC), history_days=10)
    warehouse = tmp_path / "warehouse.duckdb"
    assert jira_streams.op.pool == WRITER_POOL
    assert {tuple(k.path) for k in jira_streams.keys} == {("raw_jira", t.stream) for t in ALL_TABLES}
    with FakeApiServer(company) as server:
        result = dg.materialize(
            [jira_streams],
            resources={
                "warehouse": WarehouseResource(path=str(warehouse)),
                "jira": JiraResource(
                    base_url=server.base_url("jira"),
                    email="sync@acme.example",
                    token=dg.EnvVar("TEST_JIRA_TOKEN"),
                    projects=["PAY", "OPS"],
                ),
            },
        )
    assert result.success
    materialized = {tuple(m.asset_key.path) for m in result.asset_materializations_for_node("jira_streams")}
    assert materialized == {("raw_jira", t.stream) for t in ALL_TABLES}
    assert SECRET not in str([event.event_specific_data for event in result.all_events])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        issues = con.execute("SELECT count(*) FROM raw_jira.issues").fetchone()
        assert issues is not None and issues[0] > 10
