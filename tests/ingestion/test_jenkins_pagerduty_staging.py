"""dbt staging for Jenkins and PagerDuty builds, and its tests pass, on synced data (dbt as a subprocess).

Uses a private --target-path/--log-path so it never clashes with other dbt runs on the same checkout.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from ingestion.jenkins.builds import sync_builds
from ingestion.jenkins.client import jenkins_client
from ingestion.loader import RawLoader
from ingestion.pagerduty.client import pagerduty_client
from ingestion.pagerduty.directory import sync_services, sync_teams
from ingestion.pagerduty.incidents import sync_incidents
from simulation.company import generate_company
from simulation.server import FakeApiServer
from tests.dbt_run import dbt_build


def test_jenkins_and_pagerduty_staging_build_and_pass_their_tests_on_synced_data(tmp_path: Path) -> None:
    company = generate_company(seed=42, scale=0.3, anchor=datetime(2026, 6, 1, tzinfo=UTC), history_days=45)
    # Stop the clock while a deploy build runs, so staging also sees a build without result.
    running = next(
        d
        for d in company.delivery.deployments("billing-legacy")
        if d.started_at > company.now and d.finished_at - d.started_at > timedelta(minutes=2)
    )
    warehouse = tmp_path / "warehouse.duckdb"
    with FakeApiServer(company) as server, duckdb.connect(str(warehouse)) as con:
        jenkins = jenkins_client(server.base_url("jenkins"), "u", "t", sleep=lambda _: None)
        pagerduty = pagerduty_client(server.base_url("pagerduty"), "k", sleep=lambda _: None)
        with jenkins, pagerduty:
            for _ in range(2):  # two overlapping syncs: the staging grain tests see any duplicate
                loader = RawLoader(con)
                sync_builds(jenkins, loader, [])
                sync_incidents(pagerduty, loader, initial_days=60)
                sync_services(pagerduty, loader)
                sync_teams(pagerduty, loader)
                company.advance(
                    max(0.0, (running.started_at + timedelta(minutes=1) - company.now).total_seconds() / 86400)
                )

    result = dbt_build(warehouse, tmp_path, "--select", "staging.jenkins", "staging.pagerduty", timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "ERROR=0" in result.stdout and "PASS=" in result.stdout

    with duckdb.connect(str(warehouse), read_only=True) as con:
        deploys = con.execute(
            "SELECT count(*), count(commit_sha), count(environment_parameter), count(*) FILTER (WHERE is_building) "
            "FROM staging.stg_jenkins__builds WHERE job_full_name = 'deploy/billing-legacy'"
        ).fetchone()
        assert deploys is not None and deploys[0] == deploys[1] == deploys[2] > 0 and deploys[3] == 1
        acknowledged = con.execute(
            "SELECT count(DISTINCT incident_id) FROM staging.stg_pagerduty__log_entries WHERE action = 'acknowledge'"
        ).fetchone()
        incidents = con.execute(
            "SELECT count(*), count(root_cause_sha), count(service_id) FROM staging.stg_pagerduty__incidents"
        ).fetchone()
        assert incidents is not None and acknowledged is not None
        assert incidents[0] == incidents[2] == acknowledged[0] > 0 and 0 < incidents[1] < incidents[0]
