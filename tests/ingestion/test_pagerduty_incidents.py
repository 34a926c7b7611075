"""PagerDuty incidents, log entries, services and teams end to end: fake PagerDuty over HTTP -> raw_pagerduty.*.

Each test builds its own company (most move its clock)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from ingestion.http import HttpClient
from ingestion.loader import RawLoader
from ingestion.pagerduty.client import pagerduty_client
from ingestion.pagerduty.directory import sync_services, sync_teams
from ingestion.pagerduty.incidents import main, sync_incidents
from simulation.company import Company
from simulation.pagerduty_api import PagerDutyApi, pd_id
from simulation.server import FakeApiServer

from .conftest import SleepRecorder, make_company

KEY = "pd-api-key"


@pytest.fixture
def company() -> Company:
    return make_company()


@pytest.fixture
def pagerduty(server: FakeApiServer, sleeps: SleepRecorder) -> Iterator[Callable[..., HttpClient]]:
    clients: list[HttpClient] = []

    def make(**kwargs: Any) -> HttpClient:
        options: dict[str, Any] = {"sleep": sleeps, "rng": random.Random(7), "timeout": (2.0, 5.0)}
        options.update(kwargs)
        client = pagerduty_client(server.base_url("pagerduty"), KEY, token_env="PAGERDUTY_TOKEN", **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _visible(company: Company, service: str | None = None) -> list[Any]:
    return [i for i in company.delivery.incidents(service) if i.started_at <= company.now]


def _statuses(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    return dict(con.execute("SELECT incident_number, status FROM raw_pagerduty.incidents").fetchall())


def _served(server: FakeApiServer) -> dict[str, Any]:
    """Every incident the fake serves right now, by id (date_range=all, classic paging)."""
    out: dict[str, Any] = {}
    offset = 0
    while True:
        body = requests.get(
            server.base_url("pagerduty") + "/incidents",
            params={"date_range": "all", "limit": 100, "offset": offset},
            headers={"Authorization": f"Token token={KEY}"},
            timeout=10,
        ).json()
        out.update({i["id"]: i for i in body["incidents"]})
        if not body["more"]:
            return out
        offset += 100


def test_history_beyond_the_10000_offset_cap_is_read_by_splitting_windows(
    pagerduty: Callable[..., HttpClient],
    loader: RawLoader,
    warehouse: duckdb.DuckDBPyConnection,
    company: Company,
    server: FakeApiServer,
) -> None:
    api = server.source("pagerduty")
    assert isinstance(api, PagerDutyApi)
    api.add_bulk_incidents("platform-infra", "platform", 10_050, company.now - timedelta(days=20), company.now)
    service = pd_id("service", "platform-infra")

    summary = sync_incidents(pagerduty(), loader, [service], initial_days=60, fetch_log_entries=False)

    expected = 10_050 + len(_visible(company, "platform-infra"))
    stored = warehouse.execute("SELECT count(*) FROM raw_pagerduty.incidents WHERE service_id = ?", [service])
    assert stored.fetchone() == (expected,)
    assert summary.ok and summary[service].state is not None and summary[service].state["windows"] >= 2
    assert 400 not in server.stats.by_status("pagerduty")  # the cap was never hit


def test_an_open_incident_is_synced_later_with_its_final_state(
    pagerduty: Callable[..., HttpClient],
    loader: RawLoader,
    warehouse: duckdb.DuckDBPyConnection,
    company: Company,
    server: FakeApiServer,
) -> None:
    incident = next(i for i in company.delivery.incidents() if i.started_at > company.now)
    company.advance((incident.started_at + timedelta(minutes=3) - company.now).total_seconds() / 86400)
    client = pagerduty()
    # No overlap: the next window starts after the incident was created, so only the re-fetch by id sees it.
    sync_incidents(client, loader, overlap=timedelta(0), initial_days=90)
    assert _statuses(warehouse)[incident.number] == "triggered"
    incident_id = warehouse.execute(
        "SELECT id FROM raw_pagerduty.incidents WHERE incident_number = ?", [incident.number]
    ).fetchone()
    assert incident_id is not None

    company.advance(1)
    sync_incidents(client, loader, overlap=timedelta(0))

    assert _statuses(warehouse)[incident.number] == "resolved"
    assert f"/pagerduty/incidents/{incident_id[0]}" in server.stats.paths("pagerduty")
    resolved = warehouse.execute(
        "SELECT resolved_at FROM raw_pagerduty.incidents WHERE incident_number = ?", [incident.number]
    ).fetchone()
    assert resolved is not None and resolved[0] == incident.resolved_at.replace(microsecond=0)


def test_acknowledgement_time_comes_from_the_log_entries(
    pagerduty: Callable[..., HttpClient], loader: RawLoader, warehouse: duckdb.DuckDBPyConnection, company: Company
) -> None:
    sync_incidents(pagerduty(), loader, initial_days=90)

    rows = warehouse.execute(
        """
        SELECT i.incident_number, i.payload->'$.acknowledgements', min(e.created_at)
        FROM raw_pagerduty.incidents i
        JOIN raw_pagerduty.log_entries e ON e.incident_id = i.id AND e.type = 'acknowledge_log_entry'
        GROUP BY ALL
        """
    ).fetchall()
    expected = {i.number: i.acknowledged_at.replace(microsecond=0) for i in _visible(company)}
    assert {r[0]: r[2].astimezone(UTC) for r in rows} == expected
    assert all(json.loads(r[1]) == [] for r in rows)  # resolved incidents no longer show who acknowledged


def test_429_and_5xx_are_retried_and_nothing_is_lost(
    pagerduty: Callable[..., HttpClient],
    loader: RawLoader,
    warehouse: duckdb.DuckDBPyConnection,
    company: Company,
    server: FakeApiServer,
    sleeps: SleepRecorder,
) -> None:
    server.faults.inject("pagerduty", "rate_limit_429", times=1, path_contains="since=", retry_after=7)
    server.faults.inject("pagerduty", "ratelimit_reset_429", times=1, path_contains="log_entries", retry_after=5)
    server.faults.inject("pagerduty", "server_error", times=2, path_contains="/incidents", status=502)
    server.faults.inject("pagerduty", "server_error", times=1, path_contains="/services", status=500)

    client = pagerduty()
    summary = sync_incidents(client, loader, initial_days=90)
    assert sync_services(client, loader).ok

    assert summary.ok
    assert 7.0 in sleeps.calls and 6.0 in sleeps.calls  # Retry-After; ratelimit-reset (+1 s margin)
    assert len(sleeps.calls) == 5
    assert len(_statuses(warehouse)) == len(_visible(company))


def test_after_a_day_an_incremental_sync_fetches_only_changed_incidents(
    pagerduty: Callable[..., HttpClient], loader: RawLoader, warehouse: duckdb.DuckDBPyConnection, company: Company
) -> None:
    client = pagerduty()
    sync_incidents(client, loader, initial_days=90)
    start = company.now
    unresolved = sum(1 for s in _statuses(warehouse).values() if s != "resolved")

    company.advance(1)
    summary = sync_incidents(client, loader)

    end = company.now
    changed = [
        i
        for i in company.delivery.incidents()
        if any(start - timedelta(hours=1) < t <= end for t in (i.started_at, i.acknowledged_at, i.resolved_at))
    ]
    requests_made = warehouse.execute(
        "SELECT requests FROM meta.sync_runs WHERE source = 'pagerduty' ORDER BY started_at"
    ).fetchall()
    assert len(requests_made) == 2 and requests_made[1][0] == summary.requests
    # probe + one window page + re-fetch of the unresolved + one log-entries page per changed incident
    assert summary.requests <= 2 + unresolved + len(changed)
    assert summary.requests < requests_made[0][0] / 3
    assert len(_statuses(warehouse)) == len(_visible(company))


def test_keys_stay_unique_over_overlapping_syncs_and_payloads_are_stored_as_served(
    pagerduty: Callable[..., HttpClient],
    loader: RawLoader,
    warehouse: duckdb.DuckDBPyConnection,
    company: Company,
    server: FakeApiServer,
) -> None:
    client = pagerduty()
    for step in range(2):  # the second sync re-reads a 2-day overlap and every stored unresolved incident
        if step:
            company.advance(0.5)
        sync_incidents(client, loader, initial_days=90, overlap=timedelta(days=2))
        sync_services(client, loader)
        sync_teams(client, loader)

    for table in ("incidents", "log_entries", "services", "teams"):
        row = warehouse.execute(f"SELECT count(*), count(DISTINCT id) FROM raw_pagerduty.{table}").fetchone()
        assert row is not None and row[0] == row[1] > 0, table
    rows = warehouse.execute("SELECT id, payload FROM raw_pagerduty.incidents").fetchall()
    stored = {r[0]: json.loads(r[1]) for r in rows}
    assert len(stored) == len(_visible(company))
    served = _served(server)  # at the clock of the last sync
    assert stored == {k: served[k] for k in stored}
    services = warehouse.execute("SELECT count(*) FROM raw_pagerduty.services").fetchone()
    assert services == (len(company.delivery.services()),)


def test_command_line_entry_point_syncs_and_reports(
    server: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TECHLEDGER_TEST_PD_TOKEN", KEY)
    warehouse = tmp_path / "cli.duckdb"
    args = ["--warehouse", str(warehouse), "--base-url", server.base_url("pagerduty")]
    assert main([*args, "--token-env", "TECHLEDGER_TEST_PD_TOKEN"]) == 0
    out = capsys.readouterr().out
    assert "incidents all:" in out and "services all:" in out
    assert main([*args, "--token-env", "TECHLEDGER_TEST_UNSET_VARIABLE"]) == 2
    with duckdb.connect(str(warehouse)) as con:
        assert (con.execute("SELECT count(*) FROM raw_pagerduty.teams").fetchone() or (0,))[0] > 0
