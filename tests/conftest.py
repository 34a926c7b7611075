"""Shared fixtures: the simulated company behind its fake APIs, and a parsed dbt manifest.

Tests use a fixed anchor date so the company (and every expectation computed from it) is the same every day.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from simulation.company import generate_company
from simulation.server import FakeApiServer

TEST_ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)
TEST_TOKEN = "simulated-test-token"


@pytest.fixture
def fake_api() -> Iterator[FakeApiServer]:
    """A fresh simulated company (seed 42, scale 0.5) served on an ephemeral loopback port."""
    company = generate_company(seed=42, scale=0.5, anchor=TEST_ANCHOR)
    with FakeApiServer(company) as server:
        yield server
