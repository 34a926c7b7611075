"""Shared fixtures: the simulated company behind its fake APIs, and a parsed dbt manifest.

Tests use a fixed anchor date so the company (and every expectation computed from it) is the same every day.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from orchestration.simulated import raise_quotas
from simulation.company import generate_company
from simulation.server import FakeApiServer

TEST_ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)
TEST_TOKEN = "simulated-test-token"


@pytest.fixture
def fake_api() -> Iterator[FakeApiServer]:
    """A fresh, small simulated company (seed 42, scale 0.3, 45 days of history) on an ephemeral loopback port.

    Small on purpose: the end-to-end tests run every source's full first sync, which for the default company
    costs ~20,000 GitHub requests; the per-source tests cover volume and paging in depth.
    """
    company = generate_company(seed=42, scale=0.3, anchor=TEST_ANCHOR, history_days=45)
    server = FakeApiServer(company)
    # A first full sync of every stream exceeds GitHub's 5,000 requests/hour even for this small company; the
    # quota behaviour itself is tested per source, so the end-to-end tests get a large quota everywhere.
    raise_quotas(server, 1_000_000)
    server.start()
    try:
        yield server
    finally:
        server.stop()
