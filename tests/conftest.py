"""Shared fixtures: the simulated company behind its fake APIs, and a parsed dbt manifest.

Tests use a fixed anchor date so the company (and every expectation computed from it) is the same every day.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestration.config import PROJECT_ROOT
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


DEMO_SCALE = 0.3


@dataclass(frozen=True)
class DemoRun:
    """A data folder filled by `techledger demo` for the simulated company (seed 42, DEMO_SCALE, TEST_ANCHOR)."""

    data_dir: Path
    output: str  # what the first run printed

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    def company(self):  # -> simulation.company.Company; the same company the demo served
        return generate_company(seed=42, scale=DEMO_SCALE, anchor=TEST_ANCHOR)


def run_demo(data_dir: Path) -> str:
    """`techledger demo` as a user runs it (a subprocess), pinned to TEST_ANCHOR through the data folder's record."""
    data_dir.mkdir(parents=True, exist_ok=True)
    record = data_dir / "simulation.json"
    if not record.exists():
        anchor = {"seed": 42, "scale": DEMO_SCALE, "anchor_date": TEST_ANCHOR.date().isoformat()}
        record.write_text(json.dumps(anchor))
    env = {**os.environ, "TECHLEDGER_DATA_DIR": str(data_dir)}
    env.pop("TECHLEDGER_CONFIG", None)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "techledger"), "demo", "--scale", str(DEMO_SCALE)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One demo run shared by the tests that check what the marts, rankings and alerts find in the stories.

    Read it, do not write it: tests/orchestration/test_demo.py runs the demo a second time on the same folder
    and asserts that changes nothing, so every reader sees the same tables whichever order tests run in.
    """
    reuse = os.environ.get("TECHLEDGER_TEST_DEMO_DIR")
    if reuse:  # while developing a mart: a data folder already filled the same way (see README "Tests")
        return DemoRun(Path(reuse), "")
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    return DemoRun(data_dir, run_demo(data_dir))
