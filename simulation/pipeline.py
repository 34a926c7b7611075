"""The request pipeline shared by every fake source: fault -> auth -> quota -> route -> ETag -> headers.

Order matters and mirrors GitHub: credentials are checked before anything else, an exhausted
quota answers before the route runs, a 304 costs no quota, and faults replace (or delay, or
truncate) whatever the route would have answered.
"""

from __future__ import annotations

import time

from simulation.faults import Fault
from simulation.httpkit import ApiContext, Response, SourceApi, etag_matches, strong_etag
from simulation.ratelimit import QuotaBook


def serve_request(api: SourceApi, ctx: ApiContext, fault: Fault | None, quotas: QuotaBook) -> Response:
    if fault is not None and fault.kind == "timeout":
        time.sleep(float(fault.options.get("delay", 2.0)))
    ctx.token = api.token(ctx.request)
    metered = quotas.has_quota(api.name)

    response = api.fault_response(ctx, fault) if fault is not None else None
    if response is not None:
        if metered and ctx.token is not None and response.status != 401:
            ctx.quota = quotas.consume(api.name, ctx.token)
    else:
        response = _serve(api, ctx, quotas, metered)

    if metered and ctx.quota is None:
        ctx.quota = quotas.snapshot(api.name, ctx.token or "")
    api.decorate(ctx, response)
    if fault is not None and fault.kind == "truncated_body":
        response.truncate = True
    return response


def _serve(api: SourceApi, ctx: ApiContext, quotas: QuotaBook, metered: bool) -> Response:
    request = ctx.request
    if ctx.token is None:
        return api.unauthorized(ctx)
    matched = api.match(request.method, request.path)
    cost = (matched[0].quota_cost if matched else 1) if metered else 0
    if metered:
        ctx.quota = quotas.snapshot(api.name, ctx.token)
        if cost and ctx.quota.remaining <= 0:
            return api.quota_exhausted(ctx)
    response = matched[0].handler(ctx, **matched[1]) if matched else api.not_found(ctx)
    if api.etags and request.method == "GET" and response.status == 200:
        etag = strong_etag(response.body)
        response.headers["ETag"] = etag
        if etag_matches(request.header("If-None-Match"), etag):
            response = Response(304, b"", {"ETag": etag}, content_type=None)
            cost = 0  # conditional hits are free on GitHub: the point of sending them
    if cost:
        ctx.quota = quotas.consume(api.name, ctx.token, cost)
    return response
