"""Request/response records and the base class every fake source (GitHub, GitLab, Jira...) extends.

A source declares its routes and, by overriding a few hooks, its auth scheme, error body format,
rate-limit headers and source-specific fault kinds. Everything shared (auth -> quota -> route ->
ETag -> headers, fault injection, stats) is run by ``simulation.pipeline`` so each source only
describes how it differs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

from simulation.timefmt import http_date

if TYPE_CHECKING:
    from simulation.company import Company
    from simulation.faults import Fault, FaultInjector
    from simulation.ratelimit import QuotaBucket

JSON_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    source: str
    path: str  # below the source prefix, e.g. "/repos/acme/x/pulls"
    raw_path: str  # as received, with prefix and query, e.g. "/github/repos/acme/x/pulls?page=2"
    query: tuple[tuple[str, str], ...]  # in order, blanks kept
    headers: Mapping[str, str]  # case-insensitive lookups via .get on an email.message.Message
    body: bytes = b""

    def arg(self, name: str, default: str | None = None) -> str | None:
        """Last value of a query parameter (Rails/GitHub semantics for repeated scalars)."""
        value = default
        for key, item in self.query:
            if key == name:
                value = item
        return value

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = JSON_TYPE
    truncate: bool = False  # send the full Content-Length but only half the bytes, then hang up

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return cls(status, body, dict(headers or {}))

    def set_default(self, name: str, value: str) -> None:
        """Set a header unless a fault or handler already chose a value for it."""
        if not any(existing.lower() == name.lower() for existing in self.headers):
            self.headers[name] = value


@dataclass(slots=True)
class ApiContext:
    """Everything a route handler may need for one request."""

    request: Request
    company: Company
    faults: FaultInjector
    server_url: str  # "http://127.0.0.1:54321"; absolute links point here
    request_id: str
    token: str | None = None
    quota: QuotaBucket | None = None

    def url(self, path: str, query: list[tuple[str, str]] | tuple[tuple[str, str], ...] = ()) -> str:
        """Absolute URL of ``path`` (below the source prefix) on this server."""
        base = f"{self.server_url}/{self.request.source}{path}"
        return f"{base}?{urlencode(list(query))}" if query else base


Handler = Callable[..., Response]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    quota_cost: int = 1


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest() + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison, as RFC 9110 prescribes for If-None-Match."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


class SourceApi:
    """Base of one fake source, mounted at ``/{name}``. Subclasses call ``route`` in ``__init__``."""

    name: ClassVar[str] = ""
    quota_limit: ClassVar[int | None] = None  # None = this source has no request quota
    etags: ClassVar[bool] = False
    # Kinds every source understands; subclasses extend with their own (e.g. GitHub's secondary_403).
    fault_kinds: ClassVar[frozenset[str]] = frozenset(
        {"rate_limit_429", "server_error", "timeout", "truncated_body", "unauthorized_401"}
    )

    def __init__(self) -> None:
        self._routes: list[Route] = []

    # -- routing ----------------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler, quota_cost: int = 1) -> None:
        """Register ``handler`` for ``method`` and a path regex with named groups (anchored)."""
        self._routes.append(Route(method.upper(), re.compile(f"^{pattern}$"), handler, quota_cost))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        wanted = "GET" if method == "HEAD" else method  # HEAD is GET without a body, as on GitHub
        for candidate in self._routes:
            if candidate.method == wanted:
                found = candidate.pattern.match(path)
                if found:
                    return candidate, found.groupdict()
        return None

    # -- hooks --------------------------------------------------------------------------------------
    def token(self, request: Request) -> str | None:
        """The credential identifying the caller, or None when it is missing."""
        header = (request.header("Authorization") or "").strip()
        scheme, _, value = header.partition(" ")
        if scheme.lower() in {"bearer", "token"} and value.strip():
            return value.strip()
        return None

    def error(self, ctx: ApiContext, status: int, message: str, **extra: Any) -> Response:
        return Response.json(status, {"message": message, **extra})

    def unauthorized(self, ctx: ApiContext) -> Response:
        return self.error(ctx, 401, "Unauthorized")

    def not_found(self, ctx: ApiContext) -> Response:
        return self.error(ctx, 404, "Not Found")

    def quota_exhausted(self, ctx: ApiContext) -> Response:
        return self.error(ctx, 429, "Too Many Requests")

    def fault_response(self, ctx: ApiContext, fault: Fault) -> Response | None:
        """The response replacing the real one for ``fault``; None for faults that only delay or
        damage the real response (timeout, truncated_body)."""
        if fault.kind == "rate_limit_429":
            response = self.error(ctx, 429, "Too Many Requests")
            response.headers["Retry-After"] = str(fault.options.get("retry_after", 1))
            return response
        if fault.kind == "server_error":
            return server_error(int(fault.options.get("status", 502)), str(fault.options.get("body", "")))
        if fault.kind == "unauthorized_401":
            return self.unauthorized(ctx)
        return None

    def decorate(self, ctx: ApiContext, response: Response) -> None:
        """Headers every response of this source carries; ``Date`` is the simulated clock."""
        response.set_default("Date", http_date(ctx.company.now))


def server_error(status: int, body_format: str = "") -> Response:
    """A gateway-ish error page: HTML for 502/503/504 (what proxies send), JSON otherwise."""
    if body_format == "json" or (not body_format and status not in {502, 503, 504}):
        return Response.json(status, {"message": "Server Error"})
    reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(status, "Error")
    html = f"<html><body><h1>{status} {reason}</h1>Unicorn! Please try again.</body></html>"
    return Response(status, html.encode("utf-8"), {}, "text/html; charset=utf-8")
