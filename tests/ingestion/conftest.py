"""Fixtures for ingestion tests: the simulated company over real HTTP, a recording sleep, a warehouse."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingestion.github.client import github_client
from ingestion.http import HttpClient
from ingestion.loader import RawLoader
from simulation.company import Company, generate_company
from simulation.server import FakeApiServer

ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)
TOKEN = "ghp_ingestion_test_token"
TOKEN_ENV = "TECHLEDGER_TEST_GITHUB_TOKEN"
HISTORY_DAYS = 60  # ~850 PRs over 8 repos, the largest with more than 100: enough pages, fast to build


class SleepRecorder:
    """Stands in for time.sleep: records every wait the client asks for and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_company() -> Company:
    return generate_company(seed=42, scale=0.3, anchor=ANCHOR, history_days=HISTORY_DAYS)


@pytest.fixture(scope="session")
def shared_company() -> Company:
    """One company for tests that never move its clock or touch its PRs (building one costs ~0.5 s)."""
    return make_company()


@pytest.fixture
def company(shared_company: Company) -> Company:
    """The company behind `server`; tests that change it ask for `fresh_company` instead."""
    return shared_company


@pytest.fixture
def fresh_company() -> Company:
    return make_company()


@pytest.fixture
def server(company: Company) -> Iterator[FakeApiServer]:
    """A fake API server per test (fresh faults and stats) over the shared company."""
    with FakeApiServer(company) as running:
        yield running


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def make_client(server: FakeApiServer, sleeps: SleepRecorder) -> Iterator[Callable[..., HttpClient]]:
    clients: list[HttpClient] = []

    def make(**kwargs: Any) -> HttpClient:
        options: dict[str, Any] = {
            "token_env": TOKEN_ENV,
            "sleep": sleeps,
            "rng": random.Random(7),
            "timeout": (2.0, 5.0),
        }
        options.update(kwargs)
        token = options.pop("token", TOKEN)
        client = github_client(server.base_url("github"), token, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., HttpClient]) -> HttpClient:
    return make_client()


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield con
    con.close()


@pytest.fixture
def loader(warehouse: duckdb.DuckDBPyConnection) -> RawLoader:
    return RawLoader(warehouse)


def warehouse_prs(con: duckdb.DuckDBPyConnection, repo: str | None = None) -> dict[int, Any]:
    """id -> payload of raw_github.pull_requests (optionally one repo)."""
    sql = "SELECT id, payload FROM raw_github.pull_requests"
    params: list[Any] = []
    if repo is not None:
        sql += " WHERE repo = ?"
        params.append(repo)
    return {row[0]: json.loads(row[1]) for row in con.execute(sql, params).fetchall()}


def company_prs(company: Company, repos: list[str]) -> dict[int, Any]:
    """id -> the list-endpoint payload the company currently serves, as JSON round-tripped."""
    result: dict[int, Any] = {}
    for repo in repos:
        for pr in company.list_pull_requests(repo):
            result[pr["id"]] = json.loads(json.dumps(pr))
    return result


def repos_by_size(company: Company) -> list[str]:
    """Repository names, the one with most pull requests first."""
    names = [repo.full_name for repo in company.repos]
    return sorted(names, key=lambda name: -len(company.list_pull_requests(name)))
