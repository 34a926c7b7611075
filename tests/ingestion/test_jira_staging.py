"""dbt staging for Jira builds, and its tests pass, on data synced from the fake Jira (dbt as a subprocess).

Uses a private --target-path/--log-path so it never clashes with other dbt runs on the same checkout.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion.jira.client import jira_client
from ingestion.jira.sync import sync_jira
from ingestion.loader import RawLoader
from simulation.company import generate_company
from simulation.server import FakeApiServer
from tests.dbt_run import dbt_build

PROJECTS = ["PAY", "SRCH", "PLAT", "CHK", "DATA", "OPS"]


def test_jira_staging_builds_and_passes_its_tests_on_synced_data(tmp_path: Path) -> None:
    company = generate_company(seed=42, scale=0.3, anchor=datetime(2026, 6, 1, tzinfo=UTC), history_days=30)
    company.jira.settings.story_points_field = "customfield_10777"  # staging must not care which id it is
    company.jira.settings.user_timezone = "America/Los_Angeles"
    warehouse = tmp_path / "warehouse.duckdb"
    with FakeApiServer(company) as server, duckdb.connect(str(warehouse)) as con:
        client = jira_client(server.base_url("jira"), email="me@acme.example", token="t", sleep=lambda _: None)
        with client:
            sync_jira(client, RawLoader(con), PROJECTS, census=True)
            company.jira.delete_issue(company.jira.issues(projects=["PAY"])[3].id)
            company.advance(0.2)
            sync_jira(client, RawLoader(con), PROJECTS, census=True)

    result = dbt_build(warehouse, tmp_path, "--select", "staging.jira", timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "ERROR=0" in result.stdout and "PASS=" in result.stdout

    with duckdb.connect(str(warehouse), read_only=True) as con:
        points = con.execute(
            "SELECT count(*) FILTER (WHERE story_points IS NOT NULL), count(*) FROM staging.stg_jira__issues"
        ).fetchone()
        assert points is not None and 0 < points[0] < points[1]
        deleted = con.execute("SELECT count(*) FROM staging.stg_jira__issue_deletions WHERE is_deleted").fetchone()
        assert deleted == (1,)
        transitions = con.execute(
            "SELECT count(*) FROM staging.stg_jira__changelogs WHERE is_status_change AND to_status_id IS NOT NULL"
        ).fetchone()
        assert transitions is not None and transitions[0] > 100
