"""GitHub REST routes and payloads for the delivery model: reviews, commits, deployments, Actions, issues.

Registered by ``GitHubApi``; each handler reads ``company.delivery`` (or the PR lives) at
``company.now`` and renders GitHub-shaped JSON (shapes after shared/reference/payloads/github-webhooks).
Lists use the same Link pagination and per_page clamping as ``/pulls``; ETags, rate-limit headers
and faults come from the shared pipeline. ``/actions/runs`` with any filter serves at most 1,000
results (``total_count`` stays true), as GitHub does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from simulation.delivery_model import CiAttempt, CiJob, CiRun, Deployment, Issue, attempt_status, job_status
from simulation.determinism import derive_seed, legacy_node_id
from simulation.github_payloads import API, WEB
from simulation.httpkit import ApiContext, Response
from simulation.model import Commit, PullRequest
from simulation.pagination import PageRequest, link_header
from simulation.timefmt import iso_z

if TYPE_CHECKING:
    from simulation.github_api import GitHubApi

FILTERED_RUNS_CAP = 1000
PR_COMMITS_CAP = 250
RUN_FILTERS = ("actor", "branch", "event", "status", "created", "head_sha", "check_suite_id")


def register(api: GitHubApi) -> None:
    repo = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
    routes: list[tuple[str, Callable[..., Response]]] = [
        (rf"{repo}/pulls/(?P<number>\d+)/reviews", pr_reviews),
        (rf"{repo}/pulls/(?P<number>\d+)/commits", pr_commits),
        (rf"{repo}/commits", commits),
        (rf"{repo}/compare/(?P<base>[0-9a-f]+)\.\.\.(?P<head>[0-9a-f]+)", compare),
        (rf"{repo}/deployments", deployments),
        (rf"{repo}/deployments/(?P<deployment_id>\d+)", deployment),
        (rf"{repo}/deployments/(?P<deployment_id>\d+)/statuses", deployment_statuses),
        (rf"{repo}/actions/runs", workflow_runs),
        (rf"{repo}/actions/runs/(?P<run_id>\d+)", workflow_run),
        (rf"{repo}/actions/runs/(?P<run_id>\d+)/attempts/(?P<attempt>\d+)", workflow_run_attempt),
        (rf"{repo}/actions/runs/(?P<run_id>\d+)/jobs", workflow_jobs),
        (rf"{repo}/issues", issues),
        (rf"{repo}/releases", releases),
    ]
    for pattern, handler in routes:
        api.route("GET", pattern, _bind(api, handler))


def _bind(api: GitHubApi, handler: Callable[..., Response]) -> Callable[..., Response]:
    def bound(ctx: ApiContext, **groups: str) -> Response:
        return handler(api, ctx, **groups)

    return bound


# -- helpers ------------------------------------------------------------------------------------------
def _served(ctx: ApiContext, owner: str, repo: str) -> str | None:
    full = f"{owner}/{repo}"
    return full if ctx.company.repo(full) is not None else None


def _page(ctx: ApiContext, items: Sequence[Any], render: Callable[[Any], Any], total: int | None = None) -> Response:
    page = PageRequest.from_context(ctx)
    chunk = page.slice(items)
    response = Response.json(200, [render(item) for item in chunk])
    link = link_header(ctx, page, len(items) if total is None else total)
    if link:
        response.headers["Link"] = link
    return response


def _parse_time(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value


def _invalid(api: GitHubApi, ctx: ApiContext, message: str) -> Response:
    return api.error(ctx, 422, "Validation Failed", errors=[{"code": "invalid", "message": message}])


def _user(ctx: ApiContext, login: str | None) -> Any:
    if not login:
        return None
    return ctx.company.github_renderer.user(login)


def _repo_obj(ctx: ApiContext, full: str) -> Any:
    repo = ctx.company.repo(full)
    assert repo is not None
    return ctx.company.github_renderer.repository(repo)


# -- pull request children ------------------------------------------------------------------------
def _pr(ctx: ApiContext, full: str, number: str) -> PullRequest | None:
    snap = ctx.company.pull_request_state(full, int(number))
    return None if snap is None else snap.pr


def pr_reviews(api: GitHubApi, ctx: ApiContext, owner: str, repo: str, number: str) -> Response:
    full = _served(ctx, owner, repo)
    pr = _pr(ctx, full, number) if full else None
    if pr is None:
        return api.not_found(ctx, "https://docs.github.com/rest/pulls/reviews#list-reviews-for-a-pull-request")
    now = ctx.company.now
    visible = [r for r in pr.reviews if r.submitted_at <= now]
    html = f"{WEB}/{full}/pull/{pr.number}"

    def render(r: Any) -> dict[str, Any]:
        return {
            "id": r.id,
            "node_id": legacy_node_id("PullRequestReview", r.id),
            "user": _user(ctx, r.user_login),
            "body": r.body,
            "state": r.state,
            "html_url": f"{html}#pullrequestreview-{r.id}",
            "pull_request_url": f"{API}/repos/{full}/pulls/{pr.number}",
            "author_association": "MEMBER",
            "_links": {"html": {"href": f"{html}#pullrequestreview-{r.id}"}, "pull_request": {"href": html}},
            "submitted_at": iso_z(r.submitted_at),
            "commit_id": r.commit_id,
        }

    return _page(ctx, visible, render)


def _commit(ctx: ApiContext, full: str, sha: str, author: str, at: datetime, message: str, parents: list[str]) -> Any:
    person = ctx.company.person(author)
    name, email = (person.name, person.email) if person else (author, f"{author}@users.noreply.github.com")
    api_url = f"{API}/repos/{full}/commits/{sha}"
    return {
        "sha": sha,
        "node_id": legacy_node_id("Commit", derive_seed(sha) % 10**12),
        "commit": {
            "author": {"name": name, "email": email, "date": iso_z(at)},
            "committer": {"name": name, "email": email, "date": iso_z(at)},
            "message": message,
            "tree": {"sha": sha[::-1], "url": f"{API}/repos/{full}/git/trees/{sha[::-1]}"},
            "url": f"{API}/repos/{full}/git/commits/{sha}",
            "comment_count": 0,
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None},
        },
        "url": api_url,
        "html_url": f"{WEB}/{full}/commit/{sha}",
        "comments_url": f"{api_url}/comments",
        "author": _user(ctx, author) if person else None,
        "committer": _user(ctx, author) if person else None,
        "parents": [
            {"sha": p, "url": f"{API}/repos/{full}/commits/{p}", "html_url": f"{WEB}/{full}/commit/{p}"}
            for p in parents
        ],
    }


def pr_commits(api: GitHubApi, ctx: ApiContext, owner: str, repo: str, number: str) -> Response:
    full = _served(ctx, owner, repo)
    pr = _pr(ctx, full, number) if full else None
    if pr is None:
        return api.not_found(ctx, "https://docs.github.com/rest/pulls/pulls#list-commits-on-a-pull-request")
    now = ctx.company.now
    visible = [c for c in pr.commits if c.committed_at <= now][:PR_COMMITS_CAP] or list(pr.commits[:1])
    parents = {c.sha: (visible[k - 1].sha if k else pr.base_sha) for k, c in enumerate(visible)}

    def render(c: Commit) -> Any:
        return _commit(ctx, full, c.sha, c.author_login, c.committed_at, c.message, [parents[c.sha]])

    return _page(ctx, visible, render)


# -- default branch ------------------------------------------------------------------------------
def _mainline(ctx: ApiContext, full: str) -> list[Any]:
    service = ctx.company.delivery.service_for_repo(full)
    if service is None:
        return []
    now = ctx.company.now
    return [c for c in ctx.company.delivery.changes(service.name) if c.merged_at <= now]


def _render_change(ctx: ApiContext, full: str) -> Callable[[Any], Any]:
    def render(c: Any) -> Any:
        message = f"Merge pull request #{c.number} from {full.split('/')[0]}\n\n{c.title}"
        return _commit(ctx, full, c.merge_sha, c.author_login, c.merged_at, message, [c.parent_sha, c.head_sha])

    return render


def commits(api: GitHubApi, ctx: ApiContext, owner: str, repo: str) -> Response:
    full = _served(ctx, owner, repo)
    if full is None:
        return api.not_found(ctx, "https://docs.github.com/rest/commits/commits#list-commits")
    mainline = _mainline(ctx, full)
    sha = ctx.request.arg("sha")
    if sha and sha not in {"main", ctx.company.repo(full).default_branch}:  # type: ignore[union-attr]
        position = next((k for k, c in enumerate(mainline) if c.merge_sha == sha), None)
        if position is None:
            return api.not_found(ctx, "https://docs.github.com/rest/commits/commits#list-commits")
        mainline = mainline[: position + 1]
    since = _parse_time(ctx.request.arg("since"))
    until = _parse_time(ctx.request.arg("until"))
    selected = [
        c
        for c in reversed(mainline)
        if (since is None or c.merged_at >= since) and (until is None or c.merged_at <= until)
    ]
    return _page(ctx, selected, _render_change(ctx, full))


def compare(api: GitHubApi, ctx: ApiContext, owner: str, repo: str, base: str, head: str) -> Response:
    full = _served(ctx, owner, repo)
    mainline = _mainline(ctx, full) if full else []
    index = {c.merge_sha: k for k, c in enumerate(mainline)}
    root = mainline[0].parent_sha if mainline else None
    if full is None or head not in index or (base not in index and base != root):
        return api.not_found(ctx, "https://docs.github.com/rest/commits/commits#compare-two-commits")
    start = index[base] + 1 if base in index else 0
    between = mainline[start : index[head] + 1]
    render = _render_change(ctx, full)
    ahead = len(between)
    return Response.json(
        200,
        {
            "url": f"{API}/repos/{full}/compare/{base}...{head}",
            "html_url": f"{WEB}/{full}/compare/{base}...{head}",
            "status": "ahead" if ahead else ("identical" if base == head else "behind"),
            "ahead_by": ahead,
            "behind_by": 0 if ahead or base == head else index.get(base, 0) - index[head],
            "total_commits": ahead,
            "base_commit": render(mainline[index[base]]) if base in index else None,
            "merge_base_commit": render(mainline[index[base]]) if base in index else None,
            "commits": [render(c) for c in between[:PR_COMMITS_CAP]],
            "files": [],
        },
    )


# -- deployments ----------------------------------------------------------------------------------
def _deployments(ctx: ApiContext, full: str) -> list[Deployment]:
    service = ctx.company.delivery.service_for_repo(full)
    if service is None or service.deploy_tool != "github_actions":
        return []
    now = ctx.company.now
    return [d for d in ctx.company.delivery.deployments(service.name) if d.created_at <= now]


def _render_deployment(ctx: ApiContext, d: Deployment) -> dict[str, Any]:
    api_url = f"{API}/repos/{d.repo}/deployments/{d.id}"
    statuses = d.statuses_at(ctx.company.now)
    description = {"regular": "Deploy", "retry": "Retry deploy"}.get(d.kind, d.kind.capitalize())
    return {
        "url": api_url,
        "id": d.id,
        "node_id": legacy_node_id("Deployment", d.id),
        "task": "deploy",
        "original_environment": d.environment,
        "environment": d.environment,
        "description": f"{description} {d.sha[:7]} to {d.environment}",
        "created_at": iso_z(d.created_at),
        "updated_at": iso_z(statuses[-1][2] if statuses else d.created_at),
        "statuses_url": f"{api_url}/statuses",
        "repository_url": f"{API}/repos/{d.repo}",
        "creator": _user(ctx, d.creator_login),
        "sha": d.sha,
        "ref": d.ref,
        "payload": {"kind": d.kind},
        "transient_environment": False,
        "production_environment": d.environment == "production",
        "performed_via_github_app": None,
    }


def deployments(api: GitHubApi, ctx: ApiContext, owner: str, repo: str) -> Response:
    full = _served(ctx, owner, repo)
    if full is None:
        return api.not_found(ctx, "https://docs.github.com/rest/deployments/deployments#list-deployments")
    found = list(reversed(_deployments(ctx, full)))
    for field in ("environment", "sha", "ref"):
        value = ctx.request.arg(field)
        if value:
            found = [d for d in found if getattr(d, field) == value]
    return _page(ctx, found, lambda d: _render_deployment(ctx, d))


def _one_deployment(ctx: ApiContext, owner: str, repo: str, deployment_id: str) -> Deployment | None:
    full = _served(ctx, owner, repo)
    if full is None:
        return None
    found = ctx.company.delivery.deployment(full, int(deployment_id))
    return found if found is not None and found.created_at <= ctx.company.now else None


def deployment(api: GitHubApi, ctx: ApiContext, owner: str, repo: str, deployment_id: str) -> Response:
    found = _one_deployment(ctx, owner, repo, deployment_id)
    if found is None:
        return api.not_found(ctx, "https://docs.github.com/rest/deployments/deployments#get-a-deployment")
    return Response.json(200, _render_deployment(ctx, found))


def deployment_statuses(api: GitHubApi, ctx: ApiContext, owner: str, repo: str, deployment_id: str) -> Response:
    d = _one_deployment(ctx, owner, repo, deployment_id)
    if d is None:
        return api.not_found(ctx, "https://docs.github.com/rest/deployments/statuses#list-deployment-statuses")
    api_url = f"{API}/repos/{d.repo}/deployments/{d.id}"

    def render(step: tuple[int, str, datetime]) -> dict[str, Any]:
        status_id, state, at = step
        return {
            "url": f"{api_url}/statuses/{status_id}",
            "id": status_id,
            "node_id": legacy_node_id("DeploymentStatus", status_id),
            "state": state,
            "creator": _user(ctx, d.creator_login),
            "description": f"Deployment {state.replace('_', ' ')}",
            "environment": d.environment,
            "target_url": f"{WEB}/{d.repo}/actions",
            "created_at": iso_z(at),
            "updated_at": iso_z(at),
            "deployment_url": api_url,
            "repository_url": f"{API}/repos/{d.repo}",
            "environment_url": f"https://{d.environment}.acme.example/{d.service}",
            "log_url": f"{WEB}/{d.repo}/actions",
            "performed_via_github_app": None,
        }

    return _page(ctx, list(reversed(d.statuses_at(ctx.company.now))), render)


# -- Actions --------------------------------------------------------------------------------------
def _workflow_id(full: str, workflow: str) -> int:
    return 60_000_000 + derive_seed("workflow", full, workflow) % 10_000_000


def _latest_attempt(run: CiRun, now: datetime) -> CiAttempt:
    return run.attempts_at(now)[-1]


def _render_run(ctx: ApiContext, full: str, run: CiRun, attempt: CiAttempt) -> dict[str, Any]:
    now = ctx.company.now
    status, conclusion = attempt_status(attempt, now)
    api_url = f"{API}/repos/{full}/actions/runs/{run.id}"
    updated = (
        attempt.completed_at
        if status == "completed"
        else (attempt.started_at if status == "in_progress" else attempt.created_at)
    )
    workflow_id = _workflow_id(full, run.workflow)
    pulls = []
    if run.pr_number is not None:
        pulls = [{"url": f"{API}/repos/{full}/pulls/{run.pr_number}", "id": 0, "number": run.pr_number}]
    return {
        "id": run.id,
        "name": run.workflow,
        "node_id": legacy_node_id("WorkflowRun", run.id),
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": f".github/workflows/{run.workflow}.yml",
        "display_title": f"{run.workflow} {run.head_sha[:7]}",
        "run_number": run.run_number,
        "event": run.event,
        "status": status,
        "conclusion": conclusion,
        "workflow_id": workflow_id,
        "check_suite_id": run.id + attempt.attempt,
        "check_suite_node_id": legacy_node_id("CheckSuite", run.id + attempt.attempt),
        "url": api_url,
        "html_url": f"{WEB}/{full}/actions/runs/{run.id}",
        "pull_requests": pulls,
        "created_at": iso_z(run.created_at),
        "updated_at": iso_z(updated),
        "actor": _user(ctx, run.actor_login),
        "run_attempt": attempt.attempt,
        "referenced_workflows": [],
        "run_started_at": iso_z(attempt.started_at if status != "queued" else attempt.created_at),
        "triggering_actor": _user(ctx, run.actor_login),
        "jobs_url": f"{api_url}/jobs",
        "logs_url": f"{api_url}/logs",
        "check_suite_url": f"{API}/repos/{full}/check-suites/{run.id + attempt.attempt}",
        "artifacts_url": f"{api_url}/artifacts",
        "cancel_url": f"{api_url}/cancel",
        "rerun_url": f"{api_url}/rerun",
        "previous_attempt_url": f"{api_url}/attempts/{attempt.attempt - 1}" if attempt.attempt > 1 else None,
        "workflow_url": f"{API}/repos/{full}/actions/workflows/{workflow_id}",
        "head_commit": {
            "id": run.head_sha,
            "tree_id": run.head_sha[::-1],
            "message": run.workflow,
            "timestamp": iso_z(run.created_at),
        },
        "repository": {"id": ctx.company.github_renderer.repo_id(full), "name": full.split("/")[1], "full_name": full},
        "head_repository": {
            "id": ctx.company.github_renderer.repo_id(full),
            "name": full.split("/")[1],
            "full_name": full,
        },
    }


def _created_filter(raw: str) -> Callable[[datetime], bool] | None:
    """GitHub's search date syntax: ``A..B``, ``>=A``, ``<=B``, ``>A``, ``<B`` or a bare date."""

    def bound(text: str, end: bool) -> datetime | None:
        value = _parse_time(text)
        if value is not None and len(text) <= 10 and end:
            value += timedelta(days=1) - timedelta(microseconds=1)
        return value

    if ".." in raw:
        left, right = raw.split("..", 1)
        lo = bound(left, False) if left != "*" else None
        hi = bound(right, True) if right != "*" else None
        if (left != "*" and lo is None) or (right != "*" and hi is None):
            return None
        return lambda t: (lo is None or t >= lo) and (hi is None or t <= hi)
    for op in (">=", "<=", ">", "<"):
        if raw.startswith(op):
            limit = bound(raw[len(op) :], op in {"<=", ">"})
            if limit is None:
                return None
            return _compare(op, limit)
    lo, hi = bound(raw, False), bound(raw, True)
    if lo is None or hi is None:
        return None
    return lambda t: lo <= t <= hi


def _compare(op: str, limit: datetime) -> Callable[[datetime], bool]:
    if op == ">=":
        return lambda t: t >= limit
    if op == "<=":
        return lambda t: t <= limit
    if op == ">":
        return lambda t: t > limit
    return lambda t: t < limit


def workflow_runs(api: GitHubApi, ctx: ApiContext, owner: str, repo: str) -> Response:
    full = _served(ctx, owner, repo)
    if full is None:
        return api.not_found(
            ctx, "https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository"
        )
    service = ctx.company.delivery.service_for_repo(full)
    now = ctx.company.now
    runs = [r for r in ctx.company.delivery.ci_runs(service.name) if r.created_at <= now] if service else []
    created = ctx.request.arg("created")
    if created:
        keep = _created_filter(created)
        if keep is None:
            return _invalid(api, ctx, f"created: invalid date range {created!r}")
        runs = [r for r in runs if keep(r.created_at)]
    for name in ("event", "branch", "head_sha"):
        value = ctx.request.arg(name)
        if value:
            attr = "head_branch" if name == "branch" else name
            runs = [r for r in runs if getattr(r, attr) == value]
    status = ctx.request.arg("status")
    if status:
        runs = [r for r in runs if status in attempt_status(_latest_attempt(r, now), now)]
    runs.reverse()  # newest first
    total = len(runs)
    filtered = any(ctx.request.arg(name) for name in RUN_FILTERS)
    servable = runs[:FILTERED_RUNS_CAP] if filtered else runs
    page = PageRequest.from_context(ctx)
    chunk = page.slice(servable)
    body = {"total_count": total, "workflow_runs": [_render_run(ctx, full, r, _latest_attempt(r, now)) for r in chunk]}
    response = Response.json(200, body)
    link = link_header(ctx, page, len(servable))
    if link:
        response.headers["Link"] = link
    return response


def _run(ctx: ApiContext, owner: str, repo: str, run_id: str) -> tuple[str, CiRun] | None:
    full = _served(ctx, owner, repo)
    if full is None:
        return None
    run = ctx.company.delivery.run(full, int(run_id))
    if run is None or run.created_at > ctx.company.now:
        return None
    return full, run


def workflow_run(api: GitHubApi, ctx: ApiContext, owner: str, repo: str, run_id: str) -> Response:
    found = _run(ctx, owner, repo, run_id)
    if found is None:
        return api.not_found(ctx, "https://docs.github.com/rest/actions/workflow-runs#get-a-workflow-run")
    full, run = found
    return Response.json(200, _render_run(ctx, full, run, _latest_attempt(run, ctx.company.now)))


def workflow_run_attempt(api: GitHubApi, ctx: ApiContext, owner: str, repo: str, run_id: str, attempt: str) -> Response:
    found = _run(ctx, owner, repo, run_id)
    attempts = found[1].attempts_at(ctx.company.now) if found else ()
    number = int(attempt)
    if found is None or not 1 <= number <= len(attempts):
        return api.not_found(ctx, "https://docs.github.com/rest/actions/workflow-runs#get-a-workflow-run-attempt")
    return Response.json(200, _render_run(ctx, found[0], found[1], attempts[number - 1]))


def _render_job(ctx: ApiContext, full: str, run: CiRun, attempt: CiAttempt, job: CiJob) -> dict[str, Any]:
    status, conclusion = job_status(job, ctx.company.now)
    return {
        "id": job.id,
        "run_id": run.id,
        "workflow_name": run.workflow,
        "head_branch": run.head_branch,
        "run_url": f"{API}/repos/{full}/actions/runs/{run.id}",
        "run_attempt": attempt.attempt,
        "node_id": legacy_node_id("CheckRun", job.id),
        "head_sha": run.head_sha,
        "url": f"{API}/repos/{full}/actions/jobs/{job.id}",
        "html_url": f"{WEB}/{full}/actions/runs/{run.id}/job/{job.id}",
        "status": status,
        "conclusion": conclusion,
        "created_at": iso_z(attempt.created_at),
        "started_at": iso_z(job.started_at),
        "completed_at": iso_z(job.completed_at) if status == "completed" else None,
        "name": job.name,
        "steps": [],
        "check_run_url": f"{API}/repos/{full}/check-runs/{job.id}",
        "labels": ["ubuntu-latest"],
        "runner_id": 1 + job.id % 40 if status != "queued" else None,
        "runner_name": f"GitHub Actions {1 + job.id % 40}" if status != "queued" else None,
        "runner_group_id": 2 if status != "queued" else None,
        "runner_group_name": "GitHub Actions" if status != "queued" else None,
    }


def workflow_jobs(api: GitHubApi, ctx: ApiContext, owner: str, repo: str, run_id: str) -> Response:
    found = _run(ctx, owner, repo, run_id)
    if found is None:
        return api.not_found(ctx, "https://docs.github.com/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run")
    full, run = found
    which = ctx.request.arg("filter", "latest") or "latest"
    if which not in {"latest", "all"}:
        return _invalid(api, ctx, f"filter must be one of: all, latest (got {which!r})")
    attempts = run.attempts_at(ctx.company.now)
    if which == "latest":
        attempts = attempts[-1:]
    jobs = [(a, j) for a in reversed(attempts) for j in a.jobs]
    page = PageRequest.from_context(ctx)
    chunk = page.slice(jobs)
    response = Response.json(
        200, {"total_count": len(jobs), "jobs": [_render_job(ctx, full, run, a, j) for a, j in chunk]}
    )
    link = link_header(ctx, page, len(jobs))
    if link:
        response.headers["Link"] = link
    return response


# -- issues and releases ------------------------------------------------------------------------
def _render_issue(ctx: ApiContext, full: str, issue: Issue) -> dict[str, Any]:
    now = ctx.company.now
    closed = issue.closed_at is not None and issue.closed_at <= now
    api_url = f"{API}/repos/{full}/issues/{issue.number}"
    renderer = ctx.company.github_renderer
    return {
        "url": api_url,
        "repository_url": f"{API}/repos/{full}",
        "labels_url": f"{api_url}/labels{{/name}}",
        "comments_url": f"{api_url}/comments",
        "events_url": f"{api_url}/events",
        "html_url": f"{WEB}/{full}/issues/{issue.number}",
        "id": issue.id,
        "node_id": legacy_node_id("Issue", issue.id),
        "number": issue.number,
        "title": issue.title,
        "user": _user(ctx, issue.author_login),
        "labels": [renderer.label(full, name) for name in issue.labels],
        "state": "closed" if closed else "open",
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": 0,
        "created_at": iso_z(issue.created_at),
        "updated_at": iso_z(issue.closed_at if closed else issue.created_at),
        "closed_at": iso_z(issue.closed_at) if closed else None,
        "author_association": "MEMBER",
        "active_lock_reason": None,
        "body": issue.body,
        "state_reason": "completed" if closed else None,
    }


def _pr_as_issue(ctx: ApiContext, full: str, snap: Any) -> dict[str, Any]:
    pr = json.loads(ctx.company.encode_pull_request(snap))
    api_url = f"{API}/repos/{full}/issues/{pr['number']}"
    return {
        "url": api_url,
        "repository_url": f"{API}/repos/{full}",
        "labels_url": f"{api_url}/labels{{/name}}",
        "comments_url": f"{api_url}/comments",
        "events_url": f"{api_url}/events",
        "html_url": pr["html_url"],
        "id": pr["id"] + 7_000_000_000,  # an issue id, not the PR id, as on GitHub
        "node_id": legacy_node_id("PullRequest", pr["id"]),
        "number": pr["number"],
        "title": pr["title"],
        "user": pr["user"],
        "labels": pr["labels"],
        "state": pr["state"],
        "locked": False,
        "assignee": pr["assignee"],
        "assignees": pr["assignees"],
        "milestone": None,
        "comments": snap.comments,
        "created_at": pr["created_at"],
        "updated_at": pr["updated_at"],
        "closed_at": pr["closed_at"],
        "author_association": pr["author_association"],
        "active_lock_reason": None,
        "draft": pr["draft"],
        "pull_request": {
            "url": pr["url"],
            "html_url": pr["html_url"],
            "diff_url": pr["diff_url"],
            "patch_url": pr["patch_url"],
            "merged_at": pr["merged_at"],
        },
        "body": pr["body"],
        "state_reason": None,
    }


def issues(api: GitHubApi, ctx: ApiContext, owner: str, repo: str) -> Response:
    full = _served(ctx, owner, repo)
    if full is None:
        return api.not_found(ctx, "https://docs.github.com/rest/issues/issues#list-repository-issues")
    now = ctx.company.now
    state = ctx.request.arg("state", "open") or "open"
    sort = ctx.request.arg("sort", "created") or "created"
    direction = ctx.request.arg("direction", "desc") or "desc"
    if state not in {"open", "closed", "all"} or sort not in {"created", "updated", "comments"}:
        return _invalid(api, ctx, "state must be open|closed|all and sort created|updated|comments")
    since = _parse_time(ctx.request.arg("since"))
    items: list[tuple[datetime, datetime, int, str, Any]] = []
    for issue in ctx.company.delivery.issues(full):
        if issue.created_at <= now:
            closed = issue.closed_at is not None and issue.closed_at <= now
            updated = issue.closed_at if closed else issue.created_at
            items.append((issue.created_at, updated, issue.number, "closed" if closed else "open", issue))  # type: ignore[arg-type]
    for snap in ctx.company.pull_request_states(full):
        items.append((snap.created_at, snap.updated_at, snap.number, snap.state, snap))
    if state != "all":
        items = [i for i in items if i[3] == state]
    if since is not None:
        items = [i for i in items if i[1] >= since]
    items.sort(key=lambda i: (i[1] if sort == "updated" else i[0], i[2]), reverse=direction == "desc")

    def render(item: tuple[datetime, datetime, int, str, Any]) -> Any:
        obj = item[4]
        return _render_issue(ctx, full, obj) if isinstance(obj, Issue) else _pr_as_issue(ctx, full, obj)

    return _page(ctx, items, render)


def releases(api: GitHubApi, ctx: ApiContext, owner: str, repo: str) -> Response:
    """One release per successful regular production deployment, published when it finished."""
    full = _served(ctx, owner, repo)
    if full is None:
        return api.not_found(ctx, "https://docs.github.com/rest/releases/releases#list-releases")
    now = ctx.company.now
    shipped = [
        d
        for d in _deployments(ctx, full)
        if d.environment == "production" and d.kind == "regular" and d.result == "success"
    ]
    found = [(k, d) for k, d in enumerate(shipped) if d.finished_at <= now]
    found.reverse()

    def render(item: tuple[int, Deployment]) -> dict[str, Any]:
        k, d = item
        release_id = 150_000_000 + derive_seed("release", d.id) % 10**8
        tag = f"v1.{k + 1}.0"
        api_url = f"{API}/repos/{full}/releases/{release_id}"
        return {
            "url": api_url,
            "html_url": f"{WEB}/{full}/releases/tag/{tag}",
            "assets_url": f"{api_url}/assets",
            "upload_url": f"https://uploads.github.com/repos/{full}/releases/{release_id}/assets{{?name,label}}",
            "tarball_url": f"{API}/repos/{full}/tarball/{tag}",
            "zipball_url": f"{API}/repos/{full}/zipball/{tag}",
            "id": release_id,
            "node_id": legacy_node_id("Release", release_id),
            "tag_name": tag,
            "target_commitish": d.sha,
            "name": f"{tag}",
            "draft": False,
            "prerelease": False,
            "created_at": iso_z(d.created_at),
            "published_at": iso_z(d.finished_at),
            "author": _user(ctx, d.creator_login),
            "assets": [],
            "body": f"Changes: {len(d.shipped)} merged pull requests.",
        }

    return _page(ctx, found, render)
