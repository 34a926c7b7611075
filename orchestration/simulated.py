"""Wiring the simulated company into a run (demo, dev, bench): the only place orchestration starts simulation/.

The company is generated from (seed, scale, anchor). The anchor is the end of its history; it is recorded in
``<data_dir>/simulation.json`` on first use and reused afterwards, so repeated demos and `make dev` sessions
serve the same company to the same warehouse and incremental syncs stay meaningful from one day to the next.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from orchestration.config import SIMULATED_CONFIG, LoadedConfig, load_config

SIM_TOKEN_ENV = "TECHLEDGER_SIM_TOKEN"
SIM_URL_ENV = "TECHLEDGER_SIM_URL"
DEFAULT_SIM_TOKEN = "simulated-token-not-a-secret"


@dataclass(frozen=True)
class SimulationSettings:
    seed: int
    scale: float
    anchor_date: str  # YYYY-MM-DD

    @property
    def anchor(self) -> datetime:
        return datetime.combine(date.fromisoformat(self.anchor_date), datetime.min.time(), tzinfo=UTC)


def simulation_settings(loaded: LoadedConfig, *, scale: float | None = None) -> SimulationSettings:
    """Seed/scale from the config; anchor from the config, else the data dir's record, else today (recorded)."""
    sim = loaded.config.simulation
    record = loaded.data_dir / "simulation.json"
    wanted_scale = scale if scale is not None else sim.scale
    if sim.anchor_date:
        return SimulationSettings(sim.seed, wanted_scale, sim.anchor_date)
    if record.exists():
        saved = json.loads(record.read_text())
        if saved.get("seed") == sim.seed and saved.get("scale") == wanted_scale:
            return SimulationSettings(sim.seed, wanted_scale, saved["anchor_date"])
    settings = SimulationSettings(sim.seed, wanted_scale, datetime.now(UTC).date().isoformat())
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(asdict(settings), indent=2) + "\n")
    return settings


@contextmanager
def running_simulated_company(settings: SimulationSettings, port: int = 0, latency: float = 0.0) -> Iterator[object]:
    """Start the fake APIs for the simulated company and point the simulated config at them."""
    from simulation.company import generate_company
    from simulation.server import FakeApiServer

    company = generate_company(seed=settings.seed, scale=settings.scale, anchor=settings.anchor)
    server = FakeApiServer(company, port=port, latency=latency).start()
    previous_url = os.environ.get(SIM_URL_ENV)
    os.environ[SIM_URL_ENV] = server.url
    os.environ.setdefault(SIM_TOKEN_ENV, DEFAULT_SIM_TOKEN)
    try:
        yield server
    finally:
        server.stop()
        if previous_url is None:
            os.environ.pop(SIM_URL_ENV, None)
        else:
            os.environ[SIM_URL_ENV] = previous_url


def load_simulated_config() -> LoadedConfig:
    """The config that ships with the simulated company (its base URLs follow $TECHLEDGER_SIM_URL)."""
    return load_config(Path(SIMULATED_CONFIG))
