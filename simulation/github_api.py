"""Fake GitHub REST API (version 2022-11-28) mounted at ``/github``.

Serves pull requests here; reviews, commits, deployments, Actions runs/jobs, issues and
releases are registered from ``simulation.github_delivery``. Behaviour follows
shared/reference/source-apis.md §1: Link pagination, per_page clamped to 100, rate-limit headers on
every response, primary vs secondary vs permission 403s.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from simulation import github_delivery
from simulation.faults import Fault
from simulation.httpkit import ApiContext, Response, SourceApi
from simulation.pagination import PageRequest, link_header
from simulation.pr_state import PullRequestState
from simulation.ratelimit import QuotaBucket

DOCS = "https://docs.github.com/rest"
LIST_PULLS_DOCS = "https://docs.github.com/rest/pulls/pulls#list-pull-requests"
GET_PULL_DOCS = "https://docs.github.com/rest/pulls/pulls#get-a-pull-request"
RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_DOCS = f"{RATE_LIMIT_DOCS}#about-secondary-rate-limits"
PERMISSION_MESSAGE = "Resource not accessible by personal access token"

PULL_STATES = frozenset({"open", "closed", "all"})
PULL_SORTS = frozenset({"created", "updated", "popularity", "long-running"})


class GitHubApi(SourceApi):
    name: ClassVar[str] = "github"
    quota_limit: ClassVar[int | None] = 5000
    etags: ClassVar[bool] = True
    fault_kinds: ClassVar[frozenset[str]] = SourceApi.fault_kinds | {
        "secondary_403",
        "secondary_429",
        "primary_403",
        "primary_429",
        "permission_403",
    }

    def __init__(self) -> None:
        super().__init__()
        repo = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        self.route("GET", "/rate_limit", self.rate_limit, quota_cost=0)
        self.route("GET", repo, self.get_repo)
        self.route("GET", f"{repo}/pulls", self.list_pulls)
        self.route("GET", rf"{repo}/pulls/(?P<number>[^/]+)", self.get_pull)
        github_delivery.register(self)  # reviews, commits, deployments, Actions, issues, releases

    # -- routes -----------------------------------------------------------------------------------
    def rate_limit(self, ctx: ApiContext) -> Response:
        quota = _quota(ctx)
        core = {"limit": quota.limit, "used": quota.used, "remaining": quota.remaining, "reset": quota.reset}
        search = {"limit": 30, "used": 0, "remaining": 30, "reset": int(time.time()) + 60}
        graphql = {"limit": 5000, "used": 0, "remaining": 5000, "reset": quota.reset}
        return Response.json(200, {"resources": {"core": core, "search": search, "graphql": graphql}, "rate": core})

    def get_repo(self, ctx: ApiContext, owner: str, repo: str) -> Response:
        payload = ctx.company.repository_payload(f"{owner}/{repo}")
        if payload is None:
            return self.not_found(ctx, "https://docs.github.com/rest/repos/repos#get-a-repository")
        return Response.json(200, payload)

    def list_pulls(self, ctx: ApiContext, owner: str, repo: str) -> Response:
        full_name = f"{owner}/{repo}"
        if ctx.company.repo(full_name) is None:
            return self.not_found(ctx, LIST_PULLS_DOCS)
        request = ctx.request
        state = request.arg("state", "open") or "open"
        sort = request.arg("sort", "created") or "created"
        default_direction = "desc" if sort == "created" else "asc"
        direction = request.arg("direction", default_direction) or default_direction
        for field, value, allowed in (
            ("state", state, PULL_STATES),
            ("sort", sort, PULL_SORTS),
            ("direction", direction, frozenset({"asc", "desc"})),
        ):
            if value not in allowed:
                return self._validation_failed(ctx, field, value, allowed)
        page = PageRequest.from_context(ctx)
        for mutation in ctx.faults.take_paging_mutations(self.name, full_name, page.page):
            ctx.company.touch_pull_request(full_name, mutation.item)

        states = ctx.company.pull_request_states(full_name)
        states = _filter(states, state, request.arg("head"), request.arg("base"), owner)
        states = _order(states, sort, direction)
        chunk = page.slice(states)
        body = b"[" + b",".join(ctx.company.encode_pull_request(s) for s in chunk) + b"]"
        response = Response(200, body)
        link = link_header(ctx, page, len(states))
        if link:
            response.headers["Link"] = link
        return response

    def get_pull(self, ctx: ApiContext, owner: str, repo: str, number: str) -> Response:
        full_name = f"{owner}/{repo}"
        snap = None
        if number.isdigit() and ctx.company.repo(full_name) is not None:
            snap = ctx.company.pull_request_state(full_name, int(number))
        if snap is None:
            return self.not_found(ctx, GET_PULL_DOCS)
        return Response(200, ctx.company.encode_pull_request(snap, full=True))

    # -- errors and headers -------------------------------------------------------------------------
    def error(self, ctx: ApiContext, status: int, message: str, **extra: Any) -> Response:
        payload: dict[str, Any] = {"message": message}
        payload.update(extra)
        payload.setdefault("documentation_url", DOCS)
        payload.setdefault("status", str(status))
        return Response.json(status, payload)

    def not_found(self, ctx: ApiContext, documentation_url: str = DOCS) -> Response:
        return self.error(ctx, 404, "Not Found", documentation_url=documentation_url)

    def unauthorized(self, ctx: ApiContext) -> Response:
        return self.error(ctx, 401, "Bad credentials")

    def quota_exhausted(self, ctx: ApiContext) -> Response:
        """A real primary-limit exhaustion: 403, remaining 0, wait for the hourly reset."""
        return self.error(ctx, 403, self._primary_message(ctx), documentation_url=RATE_LIMIT_DOCS)

    def _validation_failed(self, ctx: ApiContext, field: str, value: str, allowed: frozenset[str]) -> Response:
        return self.error(
            ctx,
            422,
            "Validation Failed",
            errors=[
                {
                    "resource": "PullRequest",
                    "field": field,
                    "code": "invalid",
                    "message": f"{field} must be one of: {', '.join(sorted(allowed))} (got {value!r})",
                }
            ],
            documentation_url=LIST_PULLS_DOCS,
        )

    def _primary_message(self, ctx: ApiContext) -> str:
        stamp = ctx.company.now.strftime("%Y-%m-%d %H:%M:%S UTC")
        return (
            "API rate limit exceeded for user ID 123. If you reach out to GitHub Support for help, "
            f"please include the request ID {ctx.request_id} and timestamp {stamp}."
        )

    def _secondary_message(self, ctx: ApiContext) -> str:
        return (
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
            f"If you reach out to GitHub Support for help, please include the request ID {ctx.request_id}."
        )

    def fault_response(self, ctx: ApiContext, fault: Fault) -> Response | None:
        kind = fault.kind
        if kind == "rate_limit_429":
            response = self.error(ctx, 429, self._secondary_message(ctx), documentation_url=SECONDARY_DOCS)
            response.headers["Retry-After"] = str(fault.options.get("retry_after", 1))
            return response
        if kind in {"secondary_403", "secondary_429"}:
            status = 403 if kind.endswith("403") else 429
            response = self.error(ctx, status, self._secondary_message(ctx), documentation_url=SECONDARY_DOCS)
            if "retry_after" in fault.options:
                response.headers["Retry-After"] = str(fault.options["retry_after"])
            return response
        if kind in {"primary_403", "primary_429"}:
            status = 403 if kind.endswith("403") else 429
            response = self.error(ctx, status, self._primary_message(ctx), documentation_url=RATE_LIMIT_DOCS)
            reset = int(time.time() + float(fault.options.get("reset_in", 2)))
            response.headers["x-ratelimit-remaining"] = "0"
            response.headers["x-ratelimit-reset"] = str(reset)
            return response
        if kind == "permission_403":
            return self.error(ctx, 403, PERMISSION_MESSAGE, documentation_url=GET_PULL_DOCS)
        return super().fault_response(ctx, fault)

    def decorate(self, ctx: ApiContext, response: Response) -> None:
        super().decorate(ctx, response)
        quota = _quota(ctx)
        response.set_default("Server", "GitHub.com")
        response.set_default("x-ratelimit-limit", str(quota.limit))
        response.set_default("x-ratelimit-remaining", str(quota.remaining))
        remaining = int(response.headers.get("x-ratelimit-remaining", quota.remaining))
        response.set_default("x-ratelimit-used", str(quota.limit - remaining))
        response.set_default("x-ratelimit-reset", str(quota.reset))
        response.set_default("x-ratelimit-resource", "core")
        response.set_default("x-github-request-id", ctx.request_id)
        response.set_default("X-GitHub-Api-Version-Selected", "2022-11-28")
        response.set_default("x-github-media-type", "github.v3; format=json")
        response.set_default("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding")
        if response.status in {200, 304}:
            response.set_default("Cache-Control", "private, max-age=60, s-maxage=60")
        response.set_default("X-Content-Type-Options", "nosniff")


def _quota(ctx: ApiContext) -> QuotaBucket:
    if ctx.quota is None:  # the pipeline resolves it for every metered source
        raise RuntimeError(f"quota not resolved for {ctx.request.raw_path}")
    return ctx.quota


def _filter(
    states: list[PullRequestState], state: str, head: str | None, base: str | None, owner: str
) -> list[PullRequestState]:
    if state != "all":
        states = [s for s in states if s.state == state]
    if head:
        # GitHub's format is "user:ref-name"; a bare ref is matched against the repo owner.
        label = head if ":" in head else f"{owner}:{head}"
        states = [s for s in states if f"{owner}:{s.pr.head_ref}" == label]
    if base:
        states = [s for s in states if s.pr.base_ref == base]
    return states


def _order(states: list[PullRequestState], sort: str, direction: str) -> list[PullRequestState]:
    """``states`` arrive in creation order; popularity and long-running are served like created."""
    ordered = sorted(states, key=lambda s: (s.updated_at, s.number)) if sort == "updated" else list(states)
    if direction == "desc":
        ordered.reverse()
    return ordered
