"""Fixtures for running the real Dagster definitions against the simulated company."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestration.assets.dbt import prepare_manifest
from orchestration.config import LoadedConfig
from orchestration.simulated import SIM_TOKEN_ENV, SIM_URL_ENV, deliver_simulated_bill, load_simulated_config
from simulation.server import FakeApiServer
from tests.conftest import TEST_TOKEN


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> Path:
    """Parse the dbt project once per session (tests are not a dev process, so nothing else does)."""
    return prepare_manifest(force=True)


@pytest.fixture
def simulated_env(fake_api: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoadedConfig]:
    """The shipped simulated-company config, pointed at this test's fake API and a private data folder."""
    monkeypatch.setenv(SIM_URL_ENV, fake_api.url)
    monkeypatch.setenv(SIM_TOKEN_ENV, TEST_TOKEN)
    monkeypatch.setenv("TECHLEDGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TECHLEDGER_CONFIG", raising=False)
    loaded = load_simulated_config()
    deliver_simulated_bill(fake_api.company, loaded.billing_drop_dir)
    yield loaded
