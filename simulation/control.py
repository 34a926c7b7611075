"""``/_sim/...``: endpoints that steer the simulation itself (no auth, no quota, not in stats).

They let a separate process (``make dev``, the demo, a crash test driving a subprocess) move the
clock and read the stories' ground truth over HTTP, just as it would talk to any other service.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from simulation.company import Company
from simulation.httpkit import Response
from simulation.timefmt import http_date, iso_z


def handle_control(
    company: Company, method: str, path: str, query: Sequence[tuple[str, str]], source_urls: dict[str, str]
) -> Response:
    response = _route(company, method, path, dict(query), source_urls)
    response.set_default("Date", http_date(company.now))
    return response


def _route(company: Company, method: str, path: str, args: dict[str, str], source_urls: dict[str, str]) -> Response:
    if path == "/_sim/advance":
        if method != "POST":
            return Response.json(405, {"message": "use POST /_sim/advance?days=N"}, {"Allow": "POST"})
        raw = args.get("days", "1")
        try:
            days = float(raw)
        except ValueError:
            days = math.nan
        if not math.isfinite(days) or days < 0:
            return Response.json(400, {"message": f"days must be a non-negative number, got {raw!r}"})
        company.advance(days)
        return Response.json(200, {"now": iso_z(company.now)})
    if method != "GET":
        return Response.json(405, {"message": f"{path} only answers GET"}, {"Allow": "GET"})
    if path == "/_sim/now":
        return Response.json(200, {"now": iso_z(company.now), "anchor": iso_z(company.anchor)})
    if path == "/_sim/ground_truth":
        return Response.json(200, company.ground_truth())
    if path == "/_sim/sources":
        return Response.json(200, source_urls)
    return Response.json(404, {"message": f"unknown control endpoint {path}"})
