"""Wiring the simulated company into a run (demo, dev, bench): the only place orchestration starts simulation/.

The company is generated from (seed, scale, anchor). The anchor is the end of its history; it is recorded in
``<data_dir>/simulation.json`` on first use and reused afterwards, so repeated demos and `make dev` sessions
serve the same company to the same warehouse and incremental syncs stay meaningful from one day to the next.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from orchestration.config import SIMULATED_CONFIG, LoadedConfig, load_config

SIM_TOKEN_ENV = "TECHLEDGER_SIM_TOKEN"
SIM_URL_ENV = "TECHLEDGER_SIM_URL"
DEFAULT_SIM_TOKEN = "simulated-token-not-a-secret"
# GitHub gives a personal token 5,000 requests an hour; the tests keep that. A first full sync of the simulated
# company takes ~20,000 REST requests (reviews, commits and jobs are per PR / per run), which on real GitHub
# means spreading the first sync over several hours. Demos and `make dev` should not wait an hour, so the
# simulated company's token gets a larger quota there, on every source that has one.
DEMO_HOURLY_QUOTA = 1_000_000


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


def free_port_or_any(port: int) -> int:
    """``port`` if nothing listens on it on loopback, else 0 (an ephemeral port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port


def raise_quotas(server: object, hourly_limit: int) -> None:
    """Give the simulated token ``hourly_limit`` requests an hour on every source that enforces a quota."""
    for source in server.source_names:
        if server.quotas.has_quota(source):
            server.quotas.configure(source, hourly_limit)


def deliver_simulated_bill(company: object, drop_dir: Path | None) -> bool:
    """Drop the simulated company's bill (12 months of FOCUS, CUR, GCP and SaaS files) into the billing drop
    folder, unless it already holds files: billing providers deliver files, they do not serve an API."""
    from simulation.billing_drop import write_billing_drop

    if drop_dir is None or (drop_dir.exists() and any(p.is_file() for p in drop_dir.rglob("*"))):
        return False
    write_billing_drop(company, drop_dir)
    return True


@contextmanager
def running_simulated_company(
    settings: SimulationSettings, port: int = 0, latency: float = 0.0, billing_drop_dir: Path | None = None
) -> Iterator[object]:
    """Start the fake APIs for the simulated company (and drop its bill), pointing the simulated config at them."""
    from simulation.company import generate_company
    from simulation.server import FakeApiServer

    company = generate_company(seed=settings.seed, scale=settings.scale, anchor=settings.anchor)
    deliver_simulated_bill(company, billing_drop_dir)
    server = FakeApiServer(company, port=port, latency=latency)
    raise_quotas(server, DEMO_HOURLY_QUOTA)
    server.start()
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
