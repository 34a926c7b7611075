"""Fixtures: small deterministic companies and live fake servers on loopback.

Read-only tests share one company and one server (warm caches keep the suite fast); tests that
move the clock or edit PRs ask for the ``fresh_*`` fixtures instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from simulation.company import Company, generate_company
from simulation.server import FakeApiServer

ANCHOR = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
TOKEN = "test-token"


def small_company(**overrides: Any) -> Company:
    args: dict[str, Any] = {"seed": 7, "scale": 0.5, "anchor": ANCHOR, "history_days": 60}
    args.update(overrides)
    return generate_company(**args)


class GitHub:
    """A thin client: absolute URLs, auth header, no proxies from the environment."""

    def __init__(self, server: FakeApiServer, token: str = TOKEN) -> None:
        self.server = server
        self.company = server.company
        self.base = server.base_url("github")
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers["Accept"] = "application/vnd.github+json"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("http") else self.base + path
        kwargs.setdefault("timeout", 10)
        return self.session.get(url, **kwargs)

    def pulls(self, repo: str = "acme/payments-api", **params: Any) -> requests.Response:
        return self.get(f"/repos/{repo}/pulls", params=params)

    def close(self) -> None:
        self.session.close()


@pytest.fixture(scope="session")
def _shared_server() -> Iterator[FakeApiServer]:
    with FakeApiServer(small_company()) as srv:
        yield srv


@pytest.fixture
def server(_shared_server: FakeApiServer) -> Iterator[FakeApiServer]:
    """The shared server, with faults, stats and quotas wiped; its company must not be changed."""
    _shared_server.faults.clear()
    _shared_server.stats.reset()
    _shared_server.quotas.reset()
    yield _shared_server
    assert _shared_server.company.now == ANCHOR, "a read-only test moved the shared clock"


@pytest.fixture
def company(server: FakeApiServer) -> Company:
    return server.company


@pytest.fixture
def gh(server: FakeApiServer) -> Iterator[GitHub]:
    client = GitHub(server)
    yield client
    client.close()


@pytest.fixture
def fresh_company() -> Company:
    return small_company()


@pytest.fixture
def fresh_server(fresh_company: Company) -> Iterator[FakeApiServer]:
    with FakeApiServer(fresh_company) as srv:
        yield srv


@pytest.fixture
def fresh_gh(fresh_server: FakeApiServer) -> Iterator[GitHub]:
    client = GitHub(fresh_server)
    yield client
    client.close()
