"""Fake Jenkins JSON API mounted at ``/jenkins`` (source-apis.md §3.2, §7).

What it serves, from the company's delivery model:

- ``/jenkins/api/json``: the root with two folders, ``deploy`` and ``ci``.
- ``deploy/billing-legacy`` (a freestyle job): one build per deployment of each Jenkins-deployed
  service (``DeliveryService.jenkins_job``), with ``ParametersAction`` (ENVIRONMENT, GIT_SHA, KIND),
  ``CauseAction``, git ``BuildData`` (``lastBuiltRevision.SHA1``) and ``changeSets[items[commitId]]``
  listing the merge commits the deployment shipped.
- ``ci/billing-legacy`` (a multibranch project) with branch job ``main``: one build per CI attempt of
  the service's default-branch runs (a re-run is a new build number), more than 100 of them.

Behaviour: ``tree`` filtering with ``field[sub,...]{M,N}`` ranges (M inclusive, N exclusive, newest
first); ``builds`` holds only the 100 most recent builds while ``allBuilds`` holds all of them; a
malformed ``tree`` is a 400; ``result`` is null while ``building`` is true and ``duration`` is 0;
``timestamp`` is the start in epoch ms. Basic auth ``user:apiToken`` (401 otherwise).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from simulation.httpkit import ApiContext, Request, Response, SourceApi

FOLDER = "com.cloudbees.hudson.plugins.folder.Folder"
MULTIBRANCH = "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject"
FREESTYLE = "hudson.model.FreeStyleProject"
PIPELINE = "org.jenkinsci.plugins.workflow.job.WorkflowJob"
BUILD_CLASSES = {FREESTYLE: "hudson.model.FreeStyleBuild", PIPELINE: "org.jenkinsci.plugins.workflow.job.WorkflowRun"}
BUILDS_LIMIT = 100  # `builds` shows only the newest 100 (source-apis.md §3.2)


class TreeError(ValueError):
    """A malformed ``tree`` query parameter."""


@dataclass(frozen=True, slots=True)
class TreeNode:
    name: str
    children: tuple[TreeNode, ...] | None  # None = the whole value
    range: tuple[int | None, int | None] | None


_NAME = re.compile(r"[A-Za-z0-9_$*]+")


def parse_tree(text: str) -> tuple[TreeNode, ...]:
    """Parse ``a,b[c,d[e]]{0,100}``; raise ``TreeError`` naming the position on bad input."""
    nodes, position = _parse_list(text, 0)
    if position != len(text):
        raise TreeError(f"unexpected {text[position]!r} at position {position} of tree")
    return nodes


def _parse_list(text: str, position: int) -> tuple[tuple[TreeNode, ...], int]:
    nodes: list[TreeNode] = []
    while True:
        match = _NAME.match(text, position)
        if match is None:
            raise TreeError(f"expected a field name at position {position} of tree")
        name, position = match.group(0), match.end()
        children = None
        if position < len(text) and text[position] == "[":
            children, position = _parse_list(text, position + 1)
            if position >= len(text) or text[position] != "]":
                raise TreeError(f"missing ']' at position {position} of tree")
            position += 1
        span = None
        if position < len(text) and text[position] == "{":
            end = text.find("}", position)
            if end < 0:
                raise TreeError(f"missing '}}' at position {position} of tree")
            span = _parse_range(text[position + 1 : end])
            position = end + 1
        nodes.append(TreeNode(name, tuple(children) if children is not None else None, span))
        if position < len(text) and text[position] == ",":
            position += 1
            continue
        return tuple(nodes), position


def _parse_range(text: str) -> tuple[int | None, int | None]:
    """``M,N`` / ``M,`` / ``,N`` / ``N`` (= the N-th element only), as Jenkins' Range.fromString."""
    try:
        if "," not in text:
            index = int(text)
            return index, index + 1
        low, high = text.split(",", 1)
        lo = int(low) if low.strip() else None
        hi = int(high) if high.strip() else None
    except ValueError:
        raise TreeError(f"bad range {{{text}}} in tree") from None
    if (lo is not None and lo < 0) or (hi is not None and hi < 0) or (lo is not None and hi is not None and hi < lo):
        raise TreeError(f"bad range {{{text}}} in tree")
    return lo, hi


def apply_tree(value: Any, nodes: tuple[TreeNode, ...]) -> Any:
    """Keep only the fields named in ``nodes`` (``_class`` always kept, as Jenkins does).

    Values may be callables (computed lazily), so ranges over big build lists stay cheap.
    """
    if isinstance(value, list):
        return [apply_tree(item, nodes) for item in value]
    if not isinstance(value, dict):
        return value
    wanted = {n.name: n for n in nodes}
    out: dict[str, Any] = {}
    if "_class" in value:
        out["_class"] = value["_class"]
    for key, item in value.items():
        node = wanted.get(key) or wanted.get("*")
        if node is None or key == "_class":
            continue
        if callable(item):
            item = item(node.range)
        elif node.range is not None and isinstance(item, list):
            item = item[node.range[0] or 0 : node.range[1]]
        if node.children is not None:
            item = apply_tree(item, node.children)
        out[key] = item
    return out


@dataclass(frozen=True, slots=True)
class _Build:
    number: int
    queued_at: datetime
    started_at: datetime
    finished_at: datetime
    result: str  # SUCCESS | FAILURE
    sha: str
    parameters: tuple[tuple[str, str], ...]
    user: str
    changes: tuple[str, ...]


class JenkinsApi(SourceApi):
    name: ClassVar[str] = "jenkins"

    def __init__(self) -> None:
        super().__init__()
        job = r"(?P<job>(?:/job/[^/]+)+)"
        self.route("GET", "/api/json", self.root)
        self.route("GET", f"{job}/api/json", self.job)
        self.route("GET", rf"{job}/(?P<number>\d+)/api/json", self.build)

    # -- auth and errors --------------------------------------------------------------------------
    def token(self, request: Request) -> str | None:
        scheme, _, value = (request.header("Authorization") or "").strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, sep, secret = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return secret if sep and user and secret else None

    def error(self, ctx: ApiContext, status: int, message: str, **extra: Any) -> Response:
        response = Response.json(status, {"message": message, **extra})
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Basic realm="Jenkins"'
        return response

    # -- model --------------------------------------------------------------------------------------
    def _jobs(self, ctx: ApiContext) -> dict[tuple[str, ...], tuple[str, Callable[[], list[_Build]] | None]]:
        """Every item by path -> (_class, builds factory or None for folders)."""
        model = ctx.company.delivery
        items: dict[tuple[str, ...], tuple[str, Callable[[], list[_Build]] | None]] = {}
        for service in model.services():
            if service.deploy_tool != "jenkins" or not service.jenkins_job:
                continue
            path = tuple(service.jenkins_job.split("/"))
            for depth in range(1, len(path)):
                items.setdefault(path[:depth], (FOLDER, None))
            items[path] = (FREESTYLE, lambda s=service.name: self._deploy_builds(ctx, s))
            items.setdefault(("ci",), (FOLDER, None))
            items[("ci", service.name)] = (MULTIBRANCH, None)
            items[("ci", service.name, "main")] = (PIPELINE, lambda s=service.name: self._ci_builds(ctx, s))
        return items

    def _deploy_builds(self, ctx: ApiContext, service: str) -> list[_Build]:
        now = ctx.company.now
        deployments = sorted(ctx.company.delivery.deployments(service), key=lambda d: (d.started_at, d.id))
        builds = []
        for number, d in enumerate(deployments, start=1):
            if d.started_at > now:
                break
            params = (("ENVIRONMENT", d.environment), ("GIT_SHA", d.sha), ("KIND", d.kind), ("REF", d.ref))
            result = "SUCCESS" if d.result == "success" else "FAILURE"
            builds.append(
                _Build(
                    number, d.created_at, d.started_at, d.finished_at, result, d.sha, params, d.creator_login, d.shipped
                )
            )
        return builds

    def _ci_builds(self, ctx: ApiContext, service: str) -> list[_Build]:
        now = ctx.company.now
        attempts = [(a, r) for r in ctx.company.delivery.ci_runs(service) if r.event == "push" for a in r.attempts]
        attempts.sort(key=lambda pair: (pair[0].started_at, pair[1].id, pair[0].attempt))
        builds = []
        for number, (a, r) in enumerate(attempts, start=1):
            if a.started_at > now:
                break
            result = "SUCCESS" if a.conclusion == "success" else "FAILURE"
            user = r.actor_login if a.attempt > 1 else "github-push"
            builds.append(_Build(number, a.created_at, a.started_at, a.completed_at, result, r.head_sha, (), user, ()))
        return builds

    # -- rendering ----------------------------------------------------------------------------------
    def _job_url(self, ctx: ApiContext, path: tuple[str, ...]) -> str:
        return ctx.url("".join(f"/job/{p}" for p in path) + "/")

    def _build_payload(self, ctx: ApiContext, path: tuple[str, ...], cls: str, b: _Build) -> dict[str, Any]:
        now = ctx.company.now
        building = now < b.finished_at
        actions: list[dict[str, Any]] = []
        if b.parameters:
            actions.append(
                {
                    "_class": "hudson.model.ParametersAction",
                    "parameters": [
                        {"_class": "hudson.model.StringParameterValue", "name": k, "value": v} for k, v in b.parameters
                    ],
                }
            )
        if b.user == "github-push":
            cause = {
                "_class": "com.cloudbees.jenkins.GitHubPushCause",
                "shortDescription": "Started by GitHub push",
            }
        else:
            cause = {
                "_class": "hudson.model.Cause$UserIdCause",
                "shortDescription": f"Started by user {b.user}",
                "userId": b.user,
                "userName": b.user,
            }
        actions.append({"_class": "hudson.model.CauseAction", "causes": [cause]})
        repo = f"https://github.com/{ctx.company.org}/{path[-1] if path[-1] != 'main' else path[-2]}.git"
        actions.append(
            {
                "_class": "hudson.plugins.git.util.BuildData",
                "lastBuiltRevision": {
                    "SHA1": b.sha,
                    "branch": [{"SHA1": b.sha, "name": "refs/remotes/origin/main"}],
                },
                "remoteUrls": [repo],
            }
        )
        return {
            "_class": BUILD_CLASSES[cls],
            "number": b.number,
            "id": str(b.number),
            "displayName": f"#{b.number}",
            "fullDisplayName": f"{' » '.join(path)} #{b.number}",
            "url": self._job_url(ctx, path) + f"{b.number}/",
            "building": building,
            "result": None if building else b.result,
            "timestamp": int(b.started_at.timestamp() * 1000),
            "duration": 0 if building else int((b.finished_at - b.started_at).total_seconds() * 1000),
            "estimatedDuration": int((b.finished_at - b.started_at).total_seconds() * 1000),
            "actions": actions,
            "changeSets": [
                {
                    "_class": "hudson.plugins.git.GitChangeSetList",
                    "kind": "git",
                    "items": [
                        {"_class": "hudson.plugins.git.GitChangeSet", "commitId": sha, "id": sha} for sha in b.changes
                    ],
                }
            ]
            if b.changes
            else [],
        }

    def _job_payload(self, ctx: ApiContext, path: tuple[str, ...]) -> dict[str, Any] | None:
        items = self._jobs(ctx)
        if path and path not in items:
            return None
        children = sorted(p for p in items if len(p) == len(path) + 1 and p[: len(path)] == path)
        jobs = [{"_class": items[p][0], "name": p[-1], "url": self._job_url(ctx, p)} for p in children]
        if not path:
            return {"_class": "hudson.model.Hudson", "mode": "NORMAL", "nodeDescription": "fake", "jobs": jobs}
        cls, factory = items[path]
        payload: dict[str, Any] = {
            "_class": cls,
            "name": path[-1],
            "fullName": "/".join(path),
            "displayName": path[-1],
            "url": self._job_url(ctx, path),
        }
        if factory is None:
            payload["jobs"] = jobs
            return payload
        cache: list[list[_Build]] = []

        def newest_first() -> list[_Build]:
            if not cache:
                cache.append(list(reversed(factory())))
            return cache[0]

        def render(limit: int | None) -> Callable[[tuple[int | None, int | None] | None], list[dict[str, Any]]]:
            def lazy(span: tuple[int | None, int | None] | None) -> list[dict[str, Any]]:
                builds = newest_first()[:limit] if limit is not None else newest_first()
                if span is not None:
                    builds = builds[span[0] or 0 : span[1]]
                return [self._build_payload(ctx, path, cls, b) for b in builds]

            return lazy

        payload["buildable"] = True
        payload["builds"] = render(BUILDS_LIMIT)
        payload["allBuilds"] = render(None)
        payload["lastBuild"] = lambda _span: {"number": newest_first()[0].number} if newest_first() else None
        payload["nextBuildNumber"] = lambda _span: (newest_first()[0].number + 1) if newest_first() else 1
        return payload

    # -- routes -------------------------------------------------------------------------------------
    def _answer(self, ctx: ApiContext, payload: dict[str, Any], default_tree: str) -> Response:
        tree_text = ctx.request.arg("tree")
        try:
            nodes = parse_tree(tree_text if tree_text is not None else default_tree)
        except TreeError as exc:
            return self.error(ctx, 400, f"Malformed tree parameter: {exc}")
        return Response.json(200, apply_tree(payload, nodes))

    def root(self, ctx: ApiContext) -> Response:
        payload = self._job_payload(ctx, ())
        assert payload is not None
        return self._answer(ctx, payload, "mode,nodeDescription,jobs[name,url,_class]")

    def job(self, ctx: ApiContext, job: str) -> Response:
        path = tuple(part for part in job.split("/job/") if part)
        payload = self._job_payload(ctx, path)
        if payload is None:
            return self.not_found(ctx)
        default = "name,fullName,displayName,url,buildable,jobs[name,url,_class],builds[number,url],nextBuildNumber"
        return self._answer(ctx, payload, default)

    def build(self, ctx: ApiContext, job: str, number: str) -> Response:
        path = tuple(part for part in job.split("/job/") if part)
        items = self._jobs(ctx)
        if path not in items or items[path][1] is None:
            return self.not_found(ctx)
        cls, factory = items[path]
        assert factory is not None
        found = next((b for b in factory() if b.number == int(number)), None)
        if found is None:
            return self.not_found(ctx)
        return self._answer(ctx, self._build_payload(ctx, path, cls, found), "*")
