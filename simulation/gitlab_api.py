"""Fake GitLab REST API v4 mounted at ``/gitlab/api/v4`` (shared/reference/source-apis.md §3.1, §7).

Serves the GitLab-hosted services of ``company.delivery`` (see ``simulation.gitlab_payloads``):
merge requests (+ commits, notes, approvals), pipelines and jobs (``include_retried``), deployments
and environments. Projects are addressed by numeric id or URL-encoded path (``acme%2Fml-platform``).

Behaviour copied from GitLab: ``page``/``per_page`` (default 20, max 100) with ``x-next-page``,
``x-page``, ``x-per-page``, ``x-prev-page``, ``x-total``, ``x-total-pages`` and a ``Link`` header,
totals (and ``rel="last"``) omitted above 10,000 records; ``RateLimit-*`` headers and 429 +
``Retry-After``; auth by ``PRIVATE-TOKEN`` or ``Authorization: Bearer`` (401 ``{"message":"401
Unauthorized"}``); ``GET /deployments`` answers 400 to ``updated_after``/``updated_before`` without
``order_by=updated_at`` (app/finders/deployments_finder.rb); ``updated_after`` is exclusive on
pipelines and deployments and inclusive on merge requests, as in GitLab's finders.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import unquote

from simulation.faults import Fault
from simulation.gitlab_payloads import GitLabView, Project
from simulation.httpkit import ApiContext, Request, Response, SourceApi
from simulation.pagination import PageRequest, with_param
from simulation.timefmt import http_date

PREFIX = "/api/v4"
TOTALS_LIMIT = 10_000
MR_STATES = frozenset({"opened", "closed", "merged", "locked", "all"})
DEPLOYMENT_STATUSES = frozenset({"created", "running", "success", "failed", "canceled", "blocked"})
PIPELINE_STATUSES = frozenset(
    {
        "created",
        "waiting_for_resource",
        "preparing",
        "pending",
        "running",
        "success",
        "failed",
        "canceled",
        "skipped",
        "manual",
        "scheduled",
    }
)


class GitLabApi(SourceApi):
    name: ClassVar[str] = "gitlab"
    quota_limit: ClassVar[int | None] = 2000
    etags: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.totals_limit = TOTALS_LIMIT  # test knob: GitLab drops x-total above this many records
        self.touches: dict[tuple[str, int], datetime] = {}  # MRs edited during paging (faults.update_during_paging)
        project = rf"{PREFIX}/projects/(?P<project>[^/]+)"
        routes: list[tuple[str, Callable[..., Response]]] = [
            (project, self.get_project),
            (f"{project}/merge_requests", self.list_merge_requests),
            (rf"{project}/merge_requests/(?P<iid>\d+)", self.get_merge_request),
            (rf"{project}/merge_requests/(?P<iid>\d+)/commits", self.mr_commits),
            (rf"{project}/merge_requests/(?P<iid>\d+)/notes", self.mr_notes),
            (rf"{project}/merge_requests/(?P<iid>\d+)/approvals", self.mr_approvals),
            (f"{project}/pipelines", self.list_pipelines),
            (rf"{project}/pipelines/(?P<pipeline_id>\d+)", self.get_pipeline),
            (rf"{project}/pipelines/(?P<pipeline_id>\d+)/jobs", self.pipeline_jobs),
            (f"{project}/deployments", self.list_deployments),
            (rf"{project}/deployments/(?P<deployment_id>\d+)", self.get_deployment),
            (f"{project}/environments", self.list_environments),
        ]
        for pattern, handler in routes:
            self.route("GET", pattern, handler)

    # -- helpers ----------------------------------------------------------------------------------
    def _project(self, ctx: ApiContext, ref: str) -> tuple[GitLabView, Project | None]:
        view = GitLabView(ctx.company, self.touches)
        return view, view.project(unquote(ref))

    def _page(self, ctx: ApiContext, items: Sequence[Any], render: Callable[[Any], Any]) -> Response:
        page = PageRequest.from_context(ctx, default_per_page=20, max_per_page=100)
        response = Response.json(200, [render(item) for item in page.slice(items)])
        response.headers.update(self.pagination_headers(ctx, page, len(items)))
        return response

    def pagination_headers(self, ctx: ApiContext, page: PageRequest, total: int) -> dict[str, str]:
        last = page.last_page(total)
        with_totals = total <= self.totals_limit
        query = ctx.request.query
        headers = {
            "x-page": str(page.page),
            "x-per-page": str(page.per_page),
            "x-next-page": str(page.page + 1) if page.page < last else "",
            "x-prev-page": str(page.page - 1) if page.page > 1 else "",
        }
        if with_totals:
            headers["x-total"] = str(total)
            headers["x-total-pages"] = str(last)
        rels: list[tuple[str, int]] = []
        if page.page > 1:
            rels.append(("prev", page.page - 1))
        if page.page < last:
            rels.append(("next", page.page + 1))
        rels.append(("first", 1))
        if with_totals:
            rels.append(("last", last))
        headers["Link"] = ", ".join(
            f'<{ctx.url(ctx.request.path, with_param(query, "page", str(n)))}>; rel="{rel}"' for rel, n in rels
        )
        return headers

    def _bad_request(self, ctx: ApiContext, message: str) -> Response:
        return self.error(ctx, 400, f"400 Bad request - {message}")

    def _project_not_found(self, ctx: ApiContext) -> Response:
        return self.error(ctx, 404, "404 Project Not Found")

    def _time_arg(self, request: Request, name: str) -> tuple[datetime | None, str | None]:
        raw = request.arg(name)
        if not raw:
            return None, None
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None, f"{name} is invalid"
        return (value if value.tzinfo else value.replace(tzinfo=UTC)), None

    def _order(
        self, ctx: ApiContext, items: list[Any], keys: dict[str, Callable[[Any], Any]], default: str, sort: str
    ) -> list[Any] | Response:
        order_by = ctx.request.arg("order_by") or default
        direction = ctx.request.arg("sort") or sort
        if order_by not in keys:
            return self._bad_request(ctx, f"order_by does not have a valid value (one of {', '.join(sorted(keys))})")
        if direction not in {"asc", "desc"}:
            return self._bad_request(ctx, "sort does not have a valid value")
        key = keys[order_by]
        return sorted(items, key=lambda item: (key(item), keys["id"](item)), reverse=direction == "desc")

    # -- routes -----------------------------------------------------------------------------------
    def get_project(self, ctx: ApiContext, project: str) -> Response:
        view, found = self._project(ctx, project)
        if found is None:
            return self._project_not_found(ctx)
        return Response.json(200, view.project_payload(found))

    def list_merge_requests(self, ctx: ApiContext, project: str) -> Response:
        view, found = self._project(ctx, project)
        if found is None:
            return self._project_not_found(ctx)
        now = ctx.company.now
        request = ctx.request
        state = request.arg("state") or "all"
        if state not in MR_STATES:
            return self._bad_request(ctx, "state does not have a valid value")
        page = PageRequest.from_context(ctx, default_per_page=20, max_per_page=100)
        for mutation in ctx.faults.take_paging_mutations(self.name, found.path, page.page):
            self.touches[(found.path, mutation.item)] = now  # the MR is edited just before this page is served
        mrs = view.merge_requests(found)
        if state != "all":
            mrs = [mr for mr in mrs if mr.state(now) == state]
        for name, test in (
            ("updated_after", lambda mr, t: view.mr_updated_at(found, mr) >= t),
            ("updated_before", lambda mr, t: view.mr_updated_at(found, mr) <= t),
            ("created_after", lambda mr, t: mr.created_at >= t),
            ("created_before", lambda mr, t: mr.created_at <= t),
        ):
            moment, problem = self._time_arg(request, name)
            if problem:
                return self._bad_request(ctx, problem)
            if moment is not None:
                mrs = [mr for mr in mrs if test(mr, moment)]
        ordered = self._order(
            ctx,
            mrs,
            {
                "id": lambda mr: mr.id,
                "created_at": lambda mr: mr.created_at,
                "updated_at": lambda mr: view.mr_updated_at(found, mr),
                "title": lambda mr: mr.title,
                "merged_at": lambda mr: mr.merged_at or mr.created_at,
            },
            "created_at",
            "desc",
        )
        if isinstance(ordered, Response):
            return ordered
        return self._page(ctx, ordered, lambda mr: view.merge_request_payload(found, mr))

    def _merge_request(self, ctx: ApiContext, project: str, iid: str) -> tuple[GitLabView, Project, Any] | Response:
        view, found = self._project(ctx, project)
        if found is None:
            return self._project_not_found(ctx)
        mr = next((m for m in view.merge_requests(found) if m.iid == int(iid)), None)
        if mr is None:
            return self.error(ctx, 404, "404 Not found")
        return view, found, mr

    def get_merge_request(self, ctx: ApiContext, project: str, iid: str) -> Response:
        found = self._merge_request(ctx, project, iid)
        if isinstance(found, Response):
            return found
        view, proj, mr = found
        return Response.json(200, view.merge_request_payload(proj, mr))

    def mr_commits(self, ctx: ApiContext, project: str, iid: str) -> Response:
        found = self._merge_request(ctx, project, iid)
        if isinstance(found, Response):
            return found
        view, proj, mr = found
        return self._page(ctx, view.mr_commits(proj, mr), lambda c: c)

    def mr_notes(self, ctx: ApiContext, project: str, iid: str) -> Response:
        found = self._merge_request(ctx, project, iid)
        if isinstance(found, Response):
            return found
        view, proj, mr = found
        notes = view.mr_notes(proj, mr)
        if (ctx.request.arg("sort") or "desc") == "asc":
            notes.reverse()
        return self._page(ctx, notes, lambda n: n)

    def mr_approvals(self, ctx: ApiContext, project: str, iid: str) -> Response:
        found = self._merge_request(ctx, project, iid)
        if isinstance(found, Response):
            return found
        view, proj, mr = found
        return Response.json(200, view.mr_approvals(proj, mr))

    def list_pipelines(self, ctx: ApiContext, project: str) -> Response:
        view, found = self._project(ctx, project)
        if found is None:
            return self._project_not_found(ctx)
        request = ctx.request
        runs = view.runs(found)
        status = request.arg("status")
        if status:
            if status not in PIPELINE_STATUSES:
                return self._bad_request(ctx, "status does not have a valid value")
            runs = [r for r in runs if view.pipeline_status(r) == status]
        for name, arg in (("ref", request.arg("ref")), ("sha", request.arg("sha"))):
            if arg:
                runs = [r for r in runs if (r.head_branch if name == "ref" else r.head_sha) == arg]
        for name, test in (
            ("updated_after", lambda r, t: view.pipeline_updated_at(r) > t),
            ("updated_before", lambda r, t: view.pipeline_updated_at(r) < t),
            ("created_after", lambda r, t: r.created_at > t),
            ("created_before", lambda r, t: r.created_at < t),
        ):
            moment, problem = self._time_arg(request, name)
            if problem:
                return self._bad_request(ctx, problem)
            if moment is not None:
                runs = [r for r in runs if test(r, moment)]
        ordered = self._order(
            ctx,
            runs,
            {
                "id": lambda r: r.id,
                "status": lambda r: view.pipeline_status(r),
                "ref": lambda r: r.head_branch,
                "updated_at": lambda r: view.pipeline_updated_at(r),
                "user_id": lambda r: r.actor_login,
            },
            "id",
            "desc",
        )
        if isinstance(ordered, Response):
            return ordered
        return self._page(ctx, ordered, lambda r: view.pipeline_payload(found, r))

    def get_pipeline(self, ctx: ApiContext, project: str, pipeline_id: str) -> Response:
        view, found = self._project(ctx, project)
        if found is None:
            return self._project_not_found(ctx)
        run = next((r for r in view.runs(found) if r.id == int(pipeline_id)), None)
        if run is None:
            return self.error(ctx, 404, "404 Not found")
        return Response.json(200, view.pipeline_payload(found, run, full=True))

    def pipeline_jobs(self, ctx: ApiContext, project: str, pipeline_id: str) -> Response:
        view, found = self._project(ctx, project)
        if found is None:
            return self._project_not_found(ctx)
        run = next((r for r in view.runs(found) if r.id == int(pipeline_id)), None)
        if run is None:
            return self.error(ctx, 404, "404 Not found")
        include_retried = (ctx.request.arg("include_retried") or "false").lower() == "true"
        return self._page(ctx, view.jobs(found, run, include_retried), lambda j: j)

    def list_deployments(self, ctx: ApiContext, project: str) -> Response:
        view, found = self._project(ctx, project)
        if found is None:
            return self._project_not_found(ctx)
        request = ctx.request
        order_by = request.arg("order_by") or "id"
        if (request.arg("updated_after") or request.arg("updated_before")) and order_by != "updated_at":
            return self._bad_request(
                ctx,
                "`updated_after`/`updated_before` require `order_by=updated_at` "
                "(the `updated_at` filter and the `updated_at` sorting must be paired)",
            )
        if (request.arg("finished_after") or request.arg("finished_before")) and (
            order_by != "finished_at" or request.arg("status") != "success"
        ):
            return self._bad_request(ctx, "`finished_at` filter requires `finished_at` sort and `status=success`")
        items = list(view.iter_deployments(found))
        status = request.arg("status")
        if status:
            if status not in DEPLOYMENT_STATUSES:
                return self._bad_request(ctx, "status does not have a valid value")
            items = [(i, d) for i, d in items if view.deployment_payload(found, d, i)["status"] == status]
        environment = request.arg("environment")
        if environment:
            items = [(i, d) for i, d in items if d.environment == environment]
        for name, test in (
            ("updated_after", lambda d, t: view.deployment_updated_at(d) > t),
            ("updated_before", lambda d, t: view.deployment_updated_at(d) < t),
        ):
            moment, problem = self._time_arg(request, name)
            if problem:
                return self._bad_request(ctx, problem)
            if moment is not None:
                items = [(i, d) for i, d in items if test(d, moment)]
        ordered = self._order(
            ctx,
            items,
            {
                "id": lambda item: item[1].id,
                "iid": lambda item: item[0],
                "created_at": lambda item: item[1].created_at,
                "updated_at": lambda item: view.deployment_updated_at(item[1]),
                "finished_at": lambda item: item[1].finished_at,
                "ref": lambda item: item[1].ref,
            },
            "id",
            "asc",
        )
        if isinstance(ordered, Response):
            return ordered
        return self._page(ctx, ordered, lambda item: view.deployment_payload(found, item[1], item[0]))

    def get_deployment(self, ctx: ApiContext, project: str, deployment_id: str) -> Response:
        view, found = self._project(ctx, project)
        if found is None:
            return self._project_not_found(ctx)
        for iid, d in view.iter_deployments(found):
            if d.id == int(deployment_id):
                return Response.json(200, view.deployment_payload(found, d, iid))
        return self.error(ctx, 404, "404 Not found")

    def list_environments(self, ctx: ApiContext, project: str) -> Response:
        view, found = self._project(ctx, project)
        if found is None:
            return self._project_not_found(ctx)
        envs = view.environments(found)
        name = ctx.request.arg("name")
        if name:
            envs = [e for e in envs if e["name"] == name]
        search = ctx.request.arg("search")
        if search:
            envs = [e for e in envs if search in e["name"]]
        return self._page(ctx, envs, lambda e: e)

    # -- auth, errors and headers -----------------------------------------------------------------
    def token(self, request: Request) -> str | None:
        private = (request.header("PRIVATE-TOKEN") or "").strip()
        if private:
            return private
        header = (request.header("Authorization") or "").strip()
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None

    def error(self, ctx: ApiContext, status: int, message: str, **extra: Any) -> Response:
        return Response.json(status, {"message": message, **extra})

    def unauthorized(self, ctx: ApiContext) -> Response:
        return self.error(ctx, 401, "401 Unauthorized")

    def not_found(self, ctx: ApiContext) -> Response:
        return self.error(ctx, 404, "404 Not Found")

    def quota_exhausted(self, ctx: ApiContext) -> Response:
        return self._throttled(ctx, retry_after=_seconds_to_reset(ctx))

    def _throttled(self, ctx: ApiContext, retry_after: int) -> Response:
        response = Response(429, b"Retry later\n", {"Retry-After": str(retry_after)}, "text/plain")
        response.headers["RateLimit-Remaining"] = "0"
        return response

    def fault_response(self, ctx: ApiContext, fault: Fault) -> Response | None:
        if fault.kind == "rate_limit_429":
            return self._throttled(ctx, int(fault.options.get("retry_after", 1)))
        return super().fault_response(ctx, fault)

    def decorate(self, ctx: ApiContext, response: Response) -> None:
        response.set_default("Date", http_date(ctx.company.now))
        quota = ctx.quota
        if quota is not None:
            response.set_default("RateLimit-Limit", str(quota.limit))
            response.set_default("RateLimit-Observed", str(quota.used))
            response.set_default("RateLimit-Remaining", str(quota.remaining))
            response.set_default("RateLimit-Reset", str(quota.reset))
            response.set_default("RateLimit-ResetTime", http_date(datetime.fromtimestamp(quota.reset, UTC)))
        response.set_default("X-Request-Id", ctx.request_id)
        response.set_default("Vary", "Origin, Accept-Encoding")
        if response.status in {200, 304}:
            response.set_default("Cache-Control", "max-age=0, private, must-revalidate")


def _seconds_to_reset(ctx: ApiContext) -> int:
    if ctx.quota is None:
        return 60
    return max(1, int(ctx.quota.reset - time.time()))
