"""GitLab-shaped (REST v4) records of the GitLab-hosted services of ``company.delivery``.

Everything is derived from the source-neutral delivery model at ``company.now``:

- a ``Change`` is a merge request: opened some hours before ``merged_at`` (state ``opened`` until
  then), with 1-3 commits (the last is ``head_sha``), a first review note, an approval and a merge;
  about one change in six also has an abandoned sibling MR that gets ``closed`` (iid + 10000);
- a ``CiRun`` is a pipeline; its attempts' jobs are its jobs, earlier attempts' jobs are *retried*
  jobs (``include_retried=true``). GitLab has no run attempts, and on GitLab a flaky job is retried in
  place, so ~12% of single-attempt pipelines also get a failed, retried ``integration-tests`` job;
- a ``Deployment`` is a deployment (created -> running -> success | failed) of an environment
  (``production`` / ``staging``, with GitLab's ``tier``).

``updated_at`` of every object is its latest transition at or before the clock, so ``updated_after``
filters see state changes exactly as GitLab's do.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from simulation.delivery_model import CiAttempt, CiJob, CiRun, DeliveryService, Deployment, attempt_status, job_status
from simulation.determinism import derive_seed, fake_sha

if TYPE_CHECKING:
    from simulation.company import Company

WEB = "https://gitlab.example.com"
CLOSED_IID_OFFSET = 10_000
CLOSED_ID_OFFSET = 500_000_000
RETRY_PERCENT = 12
TERMINAL_PIPELINE = frozenset({"success", "failed", "canceled", "skipped"})
STAGES = {"lint": "test", "unit-tests": "test", "integration-tests": "test", "matrix": "test"}


_MR_CACHE: OrderedDict[tuple[int, datetime, str], list[MergeRequest]] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def gl_time(value: datetime | None) -> str | None:
    """GitLab's ``2026-03-02T10:00:00.000Z`` (milliseconds, UTC)."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _latest(now: datetime, *moments: datetime | None) -> datetime:
    return max(m for m in moments if m is not None and m <= now)


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    path: str  # path_with_namespace
    service: DeliveryService


@dataclass(frozen=True, slots=True)
class MergeRequest:
    id: int
    iid: int
    title: str
    author: str
    reviewer: str
    created_at: datetime
    note_at: datetime
    approved_at: datetime | None
    merged_at: datetime | None
    closed_at: datetime | None
    merge_sha: str | None
    head_sha: str
    commits: tuple[tuple[str, datetime], ...]
    draft: bool
    labels: tuple[str, ...]

    def visible(self, now: datetime) -> bool:
        return self.created_at <= now

    def state(self, now: datetime) -> str:
        if self.merged_at is not None and self.merged_at <= now:
            return "merged"
        if self.closed_at is not None and self.closed_at <= now:
            return "closed"
        return "opened"

    def updated_at(self, now: datetime) -> datetime:
        return _latest(now, self.created_at, self.note_at, self.approved_at, self.merged_at, self.closed_at)


class GitLabView:
    """Renders one company's GitLab projects; cheap enough to rebuild per request (a few hundred items)."""

    def __init__(self, company: Company, touches: Mapping[tuple[str, int], datetime] | None = None) -> None:
        self.company = company
        self.seed = company.seed
        self.touches = touches or {}  # (project path, MR iid) -> edited at (test knob: edits while paging)

    # -- projects ---------------------------------------------------------------------------------
    def projects(self) -> list[Project]:
        return [
            Project(1000 + derive_seed(self.seed, "gitlab-project", s.repo) % 90_000, s.repo, s)
            for s in self.company.delivery.services()
            if s.host == "gitlab"
        ]

    def project(self, ref: str) -> Project | None:
        for project in self.projects():
            if ref in (str(project.id), project.path):
                return project
        return None

    def user(self, login: str | None) -> dict[str, Any] | None:
        if not login:
            return None
        person = self.company.person(login)
        return {
            "id": derive_seed(self.seed, "gitlab-user", login) % 10_000_000,
            "username": login,
            "name": person.name if person else login,
            "state": "active",
            "avatar_url": None,
            "web_url": f"{WEB}/{login}",
        }

    def project_payload(self, project: Project) -> dict[str, Any]:
        namespace, _, name = project.path.partition("/")
        return {
            "id": project.id,
            "name": name,
            "path": name,
            "path_with_namespace": project.path,
            "namespace": {"id": derive_seed(self.seed, "ns", namespace) % 100_000, "path": namespace, "kind": "group"},
            "default_branch": "main",
            "web_url": f"{WEB}/{project.path}",
            "created_at": gl_time(self.company.history_start),
            "last_activity_at": gl_time(self.company.now),
        }

    # -- merge requests ---------------------------------------------------------------------------
    def merge_requests(self, project: Project) -> list[MergeRequest]:
        """Visible MRs; memoised per (company, clock, project): child routes look one MR up per request."""
        key = (id(self.company), self.company.now, project.path)
        with _CACHE_LOCK:
            cached = _MR_CACHE.get(key)
        if cached is None:
            cached = self._build_merge_requests(project)
            with _CACHE_LOCK:
                _MR_CACHE[key] = cached
                while len(_MR_CACHE) > 16:
                    _MR_CACHE.popitem(last=False)
        return cached

    def _build_merge_requests(self, project: Project) -> list[MergeRequest]:
        now = self.company.now
        members = [p.login for p in self.company.people if p.team_key == project.service.team_key and not p.is_bot]
        result: list[MergeRequest] = []
        for change in self.company.delivery.changes(project.service.name):
            seed = derive_seed(self.seed, "gitlab-mr", change.change_id)
            hours = 1 + seed % 47
            created = change.merged_at - timedelta(hours=hours, minutes=seed % 60)
            span = change.merged_at - created
            reviewers = [m for m in members if m != change.author_login] or members
            reviewer = reviewers[seed % len(reviewers)] if reviewers else change.author_login
            count = 1 + seed % 3
            shas = [fake_sha(change.head_sha, "mr-commit", k) for k in range(count - 1)] + [change.head_sha]
            commits = tuple((sha, created - span / 10 * (count - k)) for k, sha in enumerate(shas))
            labels = ("ml",) if "model" in change.title.lower() else ("maintenance",)
            result.append(
                MergeRequest(
                    change.change_id,
                    change.number,
                    change.title,
                    change.author_login,
                    reviewer,
                    created,
                    created + span * 0.3,
                    created + span * 0.8,
                    change.merged_at,
                    None,
                    change.merge_sha,
                    change.head_sha,
                    commits,
                    seed % 4 == 0,
                    labels,
                )
            )
            if seed % 6 == 0:
                abandoned = created - timedelta(hours=3)
                result.append(
                    MergeRequest(
                        change.change_id + CLOSED_ID_OFFSET,
                        change.number + CLOSED_IID_OFFSET,
                        f"Experiment: {change.title.lower()}",
                        change.author_login,
                        reviewer,
                        abandoned,
                        abandoned + timedelta(hours=2),
                        None,
                        None,
                        abandoned + timedelta(hours=20),
                        None,
                        fake_sha(change.head_sha, "abandoned"),
                        ((fake_sha(change.head_sha, "abandoned"), abandoned - timedelta(minutes=30)),),
                        False,
                        ("experiment",),
                    )
                )
        return [mr for mr in result if mr.visible(now)]

    def mr_updated_at(self, project: Project, mr: MergeRequest) -> datetime:
        updated = mr.updated_at(self.company.now)
        touched = self.touches.get((project.path, mr.iid))
        return max(updated, touched) if touched is not None and touched <= self.company.now else updated

    def merge_request_payload(self, project: Project, mr: MergeRequest) -> dict[str, Any]:
        now = self.company.now
        state = mr.state(now)
        merged = state == "merged"
        draft = mr.draft and state == "opened"
        return {
            "id": mr.id,
            "iid": mr.iid,
            "project_id": project.id,
            "title": f"Draft: {mr.title}" if draft else mr.title,
            "description": "",
            "state": state,
            "created_at": gl_time(mr.created_at),
            "updated_at": gl_time(self.mr_updated_at(project, mr)),
            "merged_by": self.user(mr.reviewer) if merged else None,
            "merge_user": self.user(mr.reviewer) if merged else None,
            "merged_at": gl_time(mr.merged_at) if merged else None,
            "closed_by": self.user(mr.author) if state == "closed" else None,
            "closed_at": gl_time(mr.closed_at) if state == "closed" else None,
            "target_branch": "main",
            "source_branch": f"{mr.author}/mr-{mr.iid}",
            "upvotes": 0,
            "downvotes": 0,
            "author": self.user(mr.author),
            "assignees": [self.user(mr.author)],
            "reviewers": [self.user(mr.reviewer)],
            "source_project_id": project.id,
            "target_project_id": project.id,
            "labels": list(mr.labels),
            "draft": draft,
            "work_in_progress": draft,
            "merge_when_pipeline_succeeds": False,
            "merge_status": "can_be_merged",
            "detailed_merge_status": "mergeable" if state == "opened" else "not_open",
            "sha": mr.head_sha,
            "merge_commit_sha": mr.merge_sha if merged else None,
            "squash_commit_sha": None,
            "user_notes_count": sum(1 for n in self._notes(mr) if not n["system"] and n["at"] <= now),
            "squash": False,
            "references": {"short": f"!{mr.iid}", "full": f"{project.path}!{mr.iid}"},
            "web_url": f"{WEB}/{project.path}/-/merge_requests/{mr.iid}",
        }

    def mr_commits(self, project: Project, mr: MergeRequest) -> list[dict[str, Any]]:
        now = self.company.now
        person = self.company.person(mr.author)
        name, email = (person.name, person.email) if person else (mr.author, f"{mr.author}@example.com")
        # Newest first, as GitLab lists them; author dates carry the author's +02:00 offset.
        out = []
        for sha, at in reversed(mr.commits):
            if at > now:
                continue
            local = (at + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.000+02:00")
            out.append(
                {
                    "id": sha,
                    "short_id": sha[:8],
                    "title": mr.title,
                    "message": f"{mr.title}\n",
                    "author_name": name,
                    "author_email": email,
                    "authored_date": local,
                    "committer_name": name,
                    "committer_email": email,
                    "committed_date": local,
                    "created_at": local,
                    "parent_ids": [],
                    "web_url": f"{WEB}/{project.path}/-/commit/{sha}",
                }
            )
        return out

    def _notes(self, mr: MergeRequest) -> list[dict[str, Any]]:
        base = derive_seed(self.seed, "gitlab-note", mr.id) % 10**9
        steps = [(mr.note_at, mr.reviewer, "Looks good overall; one question inline.", False)]
        if mr.approved_at is not None:
            steps.append((mr.approved_at, mr.reviewer, "approved this merge request", True))
        if mr.merged_at is not None:
            steps.append((mr.merged_at, mr.reviewer, "merged", True))
        if mr.closed_at is not None:
            steps.append((mr.closed_at, mr.author, "closed", True))
        notes = [
            {"id": base + k, "at": at, "author": who, "body": body, "system": system}
            for k, (at, who, body, system) in enumerate(steps)
        ]
        return notes

    def mr_notes(self, project: Project, mr: MergeRequest) -> list[dict[str, Any]]:
        now = self.company.now
        return [
            {
                "id": n["id"],
                "type": "DiffNote" if not n["system"] else None,
                "body": n["body"],
                "author": self.user(n["author"]),
                "created_at": gl_time(n["at"]),
                "updated_at": gl_time(n["at"]),
                "system": n["system"],
                "noteable_id": mr.id,
                "noteable_type": "MergeRequest",
                "noteable_iid": mr.iid,
                "project_id": project.id,
                "resolvable": not n["system"],
                "confidential": False,
                "internal": False,
            }
            for n in sorted(self._notes(mr), key=lambda n: (n["at"], n["id"]), reverse=True)  # newest first
            if n["at"] <= now
        ]

    def mr_approvals(self, project: Project, mr: MergeRequest) -> dict[str, Any]:
        now = self.company.now
        approved = mr.approved_at is not None and mr.approved_at <= now
        return {
            "id": mr.id,
            "iid": mr.iid,
            "project_id": project.id,
            "title": mr.title,
            "description": "",
            "state": mr.state(now),
            "created_at": gl_time(mr.created_at),
            "updated_at": gl_time(self.mr_updated_at(project, mr)),
            "merge_status": "can_be_merged",
            "approved": approved,
            "approvals_required": 1,
            "approvals_left": 0 if approved else 1,
            "approved_by": [{"user": self.user(mr.reviewer)}] if approved else [],
        }

    # -- pipelines and jobs -----------------------------------------------------------------------
    def runs(self, project: Project) -> list[CiRun]:
        now = self.company.now
        return [r for r in self.company.delivery.ci_runs(project.service.name) if r.created_at <= now]

    def pipeline_status(self, run: CiRun) -> str:
        attempt = run.attempts_at(self.company.now)[-1]
        status, conclusion = attempt_status(attempt, self.company.now)
        return {"queued": "pending", "in_progress": "running"}.get(status) or (
            "success" if conclusion == "success" else "failed"
        )

    def pipeline_updated_at(self, run: CiRun) -> datetime:
        now = self.company.now
        moments = [m for a in run.attempts_at(now) for m in (a.created_at, a.started_at, a.completed_at)]
        return _latest(now, *moments, *(j[2] for j in self._retry_jobs(run)))

    def pipeline_payload(self, project: Project, run: CiRun, *, full: bool = False) -> dict[str, Any]:
        now = self.company.now
        payload: dict[str, Any] = {
            "id": run.id,
            "iid": run.run_number,
            "project_id": project.id,
            "sha": run.head_sha,
            "ref": run.head_branch,
            "status": self.pipeline_status(run),
            "source": {"pull_request": "merge_request_event", "schedule": "schedule"}.get(run.event, "push"),
            "name": run.workflow,
            "created_at": gl_time(run.created_at),
            "updated_at": gl_time(self.pipeline_updated_at(run)),
            "web_url": f"{WEB}/{project.path}/-/pipelines/{run.id}",
        }
        if full:
            attempts = run.attempts_at(now)
            first, last = attempts[0], attempts[-1]
            started = first.started_at if first.started_at <= now else None
            finished = last.completed_at if last.completed_at <= now else None
            payload.update(
                {
                    "before_sha": "0" * 40,
                    "tag": False,
                    "yaml_errors": None,
                    "user": self.user(run.actor_login),
                    "started_at": gl_time(started),
                    "finished_at": gl_time(finished),
                    "committed_at": None,
                    "duration": int((finished - started).total_seconds()) if started and finished else None,
                    "queued_duration": (
                        round((first.started_at - first.created_at).total_seconds(), 1) if started else None
                    ),
                    "coverage": None,
                    "detailed_status": {"group": payload["status"], "text": payload["status"]},
                }
            )
        return payload

    def _retry_jobs(self, run: CiRun) -> list[tuple[int, str, datetime, datetime]]:
        """GitLab-only flaky retries: (job id, name, started, finished) of a failed, retried first try."""
        if len(run.attempts) > 1 or derive_seed(self.seed, "gitlab-retry", run.id) % 100 >= RETRY_PERCENT:
            return []
        job = next((j for j in run.attempts[0].jobs if j.name == "integration-tests"), None)
        if job is None or job.started_at > self.company.now:
            return []
        finished = job.started_at + (job.completed_at - job.started_at) / 2
        job_id = 200_000_000_000 + derive_seed(self.seed, "gitlab-retry-job", job.id) % 10**11
        return [(job_id, job.name, job.started_at, finished)]

    def jobs(self, project: Project, run: CiRun, include_retried: bool) -> list[dict[str, Any]]:
        now = self.company.now
        attempts = run.attempts_at(now)
        pipeline = {
            "id": run.id,
            "project_id": project.id,
            "ref": run.head_branch,
            "sha": run.head_sha,
            "status": self.pipeline_status(run),
        }
        out: list[dict[str, Any]] = []
        for attempt in attempts:
            retried = attempt.attempt < attempts[-1].attempt
            if retried and not include_retried:
                continue
            for job in attempt.jobs:
                out.append(self._job(project, run, attempt, job, job_status(job, now), retried, pipeline))
        if include_retried:
            for job_id, name, started, finished in self._retry_jobs(run):
                done = finished <= now
                fake = CiJob(job_id, name, started, finished, "failure")
                status = ("completed", "failure") if done else ("in_progress", None)
                out.append(self._job(project, run, attempts[0], fake, status, done, pipeline))
        return sorted(out, key=lambda j: j["id"], reverse=True)  # newest (highest id) first

    def _job(
        self,
        project: Project,
        run: CiRun,
        attempt: CiAttempt,
        job: CiJob,
        status: tuple[str, str | None],
        retried: bool,
        pipeline: dict[str, Any],
    ) -> dict[str, Any]:
        now = self.company.now
        state, conclusion = status
        gl_status = {"queued": "pending", "in_progress": "running"}.get(state) or (
            "success" if conclusion == "success" else "failed"
        )
        started = job.started_at if job.started_at <= now else None
        finished = job.completed_at if job.completed_at <= now else None
        return {
            "id": job.id,
            "name": job.name,
            "stage": "deploy" if job.name.startswith("deploy") else STAGES.get(job.name, "test"),
            "status": gl_status,
            "ref": run.head_branch,
            "tag": False,
            "coverage": None,
            "allow_failure": False,
            "created_at": gl_time(attempt.created_at),
            "started_at": gl_time(started),
            "finished_at": gl_time(finished),
            "erased_at": None,
            "duration": (finished - started).total_seconds() if started and finished else None,
            "queued_duration": (job.started_at - attempt.created_at).total_seconds() if started else None,
            "user": self.user(run.actor_login),
            "commit": {"id": run.head_sha, "short_id": run.head_sha[:8], "title": run.workflow},
            "pipeline": pipeline,
            "failure_reason": "script_failure" if gl_status == "failed" else None,
            "retried": retried,
            "web_url": f"{WEB}/{project.path}/-/jobs/{job.id}",
            "artifacts": [],
            "runner": None,
        }

    # -- environments and deployments -------------------------------------------------------------
    def environments(self, project: Project) -> list[dict[str, Any]]:
        names = sorted({d.environment for d in self.company.delivery.deployments(project.service.name)})
        created = self.company.history_start
        return [
            {
                "id": derive_seed(self.seed, "gitlab-env", project.path, name) % 10**7,
                "name": name,
                "slug": name,
                "external_url": f"https://{name}.{project.path.split('/')[-1]}.acme.example",
                "state": "available",
                "tier": name if name in {"production", "staging", "testing", "development"} else "other",
                "created_at": gl_time(created),
                "updated_at": gl_time(created),
            }
            for name in names
        ]

    def deployments(self, project: Project) -> list[Deployment]:
        now = self.company.now
        return [d for d in self.company.delivery.deployments(project.service.name) if d.created_at <= now]

    def deployment_updated_at(self, d: Deployment) -> datetime:
        return _latest(self.company.now, d.created_at, d.started_at, d.finished_at)

    def deployment_payload(self, project: Project, d: Deployment, iid: int) -> dict[str, Any]:
        now = self.company.now
        state = d.status_at(now)
        status = {"pending": "created", "in_progress": "running", "failure": "failed"}.get(state or "", state)
        env = next(e for e in self.environments(project) if e["name"] == d.environment)
        run = self._deploy_runs(project).get((d.sha, d.created_at))
        deployable = None
        if run is not None:
            job = run.attempts[0].jobs[0]
            job_state = self._job(project, run, run.attempts[0], job, job_status(job, now), False, {})
            job_state["pipeline"] = {
                "id": run.id,
                "project_id": project.id,
                "sha": run.head_sha,
                "ref": run.head_branch,
                "status": self.pipeline_status(run),
            }
            deployable = job_state
        return {
            "id": d.id,
            "iid": iid,
            "ref": d.ref,
            "sha": d.sha,
            "status": status,
            "created_at": gl_time(d.created_at),
            "updated_at": gl_time(self.deployment_updated_at(d)),
            "finished_at": gl_time(d.finished_at) if d.finished_at <= now else None,
            "user": self.user(d.creator_login),
            "environment": {k: env[k] for k in ("id", "name", "slug", "external_url", "state", "tier")},
            "deployable": deployable,
        }

    def _deploy_runs(self, project: Project) -> dict[tuple[str, datetime], CiRun]:
        return {
            (r.head_sha, r.created_at): r
            for r in self.company.delivery.ci_runs(project.service.name)
            if r.workflow == "deploy"
        }

    def iter_deployments(self, project: Project) -> Iterator[tuple[int, Deployment]]:
        """(iid, deployment): iids count every deployment of the project in creation order."""
        for iid, d in enumerate(self.company.delivery.deployments(project.service.name), start=1):
            if d.created_at <= self.company.now:
                yield iid, d
