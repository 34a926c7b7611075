"""Run the simulated company as a long-lived local service (``techledger simulate serve``)."""

from __future__ import annotations

import threading
from datetime import datetime

from simulation.company import generate_company
from simulation.server import FakeApiServer
from simulation.timefmt import iso_z


def serve_forever(
    seed: int = 42,
    scale: float = 1.0,
    port: int = 8765,
    host: str = "127.0.0.1",
    anchor: datetime | None = None,
    hourly_quota: int | None = None,
) -> None:
    """Start the fake APIs, print where they are, and block until Ctrl-C.

    ``hourly_quota`` overrides the per-token hourly request quota of every source that enforces one.
    """
    company = generate_company(seed=seed, scale=scale, anchor=anchor)
    server = FakeApiServer(company, host=host, port=port)
    if hourly_quota is not None:
        for source in server.source_names:
            if server.quotas.has_quota(source):
                server.quotas.configure(source, hourly_quota)
    server.start()
    try:
        print(f"Simulated company 'acme' (seed={seed}, scale={scale}), clock at {iso_z(company.now)}")
        for name in server.source_names:
            print(f"  {name:<10} {server.base_url(name)}")
        print("Control endpoints (no auth):")
        print(f"  POST {server.url}/_sim/advance?days=1   move the clock forward")
        print(f"  GET  {server.url}/_sim/now              the simulated clock")
        print(f"  GET  {server.url}/_sim/ground_truth     the stories the metrics should find")
        print("Any non-empty token works, e.g. 'Authorization: Bearer dev-token'. Ctrl-C to stop.", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        server.stop()


if __name__ == "__main__":
    serve_forever()
