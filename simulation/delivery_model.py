"""Source-neutral records of how Acme delivers: changes -> CI runs -> deployments -> incidents.

These are plain frozen records with whole lives (past and future); what a source shows at the
company clock is decided by the ``*_at(now)`` helpers here, never by the payload renderers. One
record is rendered by whichever source hosts it:

- ``DeliveryService.host`` ("github" | "gitlab") says where the code and CI live;
  ``DeliveryService.deploy_tool`` ("github_actions" | "gitlab" | "jenkins") says what deploys it.
- ``Change`` is a merged pull request / merge request and its merge commit on the default branch.
- ``CiRun`` is a GitHub Actions workflow run / GitLab pipeline / Jenkins build, with its attempts
  (a re-run is attempt 2 of the same run on GitHub; a GitLab or Jenkins renderer should show it as a
  retried job / a new build number) and each attempt's jobs.
- ``Deployment`` is a GitHub deployment (+ statuses), a GitLab deployment or a Jenkins deploy build.
- ``Incident`` is a PagerDuty incident; in repos with ``incident_issues`` it is also filed as a
  GitHub ``Issue`` labelled ``incident`` (``Issue.incident_id`` points back at it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

TERMINAL_DEPLOYMENT_STATES = frozenset({"success", "failure", "error", "inactive"})


@dataclass(frozen=True, slots=True)
class DeliveryService:
    name: str
    team_key: str
    host: str  # github | gitlab
    repo: str  # GitHub full_name or GitLab path_with_namespace, e.g. "acme/ml-platform"
    deploy_tool: str  # github_actions | gitlab | jenkins
    tier: int
    jenkins_job: str | None = None  # e.g. "deploy/billing-legacy" (folder/job)
    served_by_github: bool = False  # the GitHub fake serves its repo (the 8 PR repos)
    incident_issues: bool = False  # incidents are also filed as GitHub issues labelled "incident"


@dataclass(frozen=True, slots=True)
class Change:
    """A merged change request and the merge commit it put on the default branch."""

    service: str
    repo: str
    number: int  # PR / MR number (iid on GitLab)
    change_id: int  # PR / MR global id
    title: str
    author_login: str
    merged_at: datetime
    merge_sha: str
    parent_sha: str  # the previous default-branch commit (first parent)
    head_sha: str  # the change's last commit (second parent)


@dataclass(frozen=True, slots=True)
class CiJob:
    id: int
    name: str
    started_at: datetime
    completed_at: datetime
    conclusion: str  # success | failure


@dataclass(frozen=True, slots=True)
class CiAttempt:
    attempt: int  # 1, 2...
    created_at: datetime
    started_at: datetime
    completed_at: datetime
    conclusion: str  # success | failure
    jobs: tuple[CiJob, ...]
    flaky_failure: bool = False  # failed only because of the flaky test (ground truth)


@dataclass(frozen=True, slots=True)
class CiRun:
    id: int
    provider: str  # github_actions | gitlab | jenkins
    service: str
    repo: str
    workflow: str  # "ci" | "deploy" | "nightly-matrix"
    event: str  # pull_request | push | deployment | schedule
    head_branch: str
    head_sha: str
    actor_login: str
    pr_number: int | None
    attempts: tuple[CiAttempt, ...]
    run_number: int = 0  # per (repo, workflow), in creation order; set by the generator

    @property
    def created_at(self) -> datetime:
        return self.attempts[0].created_at

    def attempts_at(self, now: datetime) -> tuple[CiAttempt, ...]:
        return tuple(a for a in self.attempts if a.created_at <= now)


def attempt_status(attempt: CiAttempt, now: datetime) -> tuple[str, str | None]:
    """(status, conclusion) of one attempt at ``now``: queued -> in_progress -> completed."""
    if now < attempt.started_at:
        return "queued", None
    if now < attempt.completed_at:
        return "in_progress", None
    return "completed", attempt.conclusion


def job_status(job: CiJob, now: datetime) -> tuple[str, str | None]:
    if now < job.started_at:
        return "queued", None
    if now < job.completed_at:
        return "in_progress", None
    return "completed", job.conclusion


@dataclass(frozen=True, slots=True)
class Deployment:
    id: int
    service: str
    repo: str
    tool: str  # github_actions | gitlab | jenkins
    environment: str  # staging | production
    kind: str  # regular | hotfix | revert | rollback | retry (rework = hotfix, revert, rollback)
    sha: str  # the commit deployed
    ref: str
    creator_login: str
    created_at: datetime  # requested (pending)
    started_at: datetime  # in_progress
    finished_at: datetime  # success | failure
    result: str  # success | failure
    shipped: tuple[str, ...]  # merge shas first shipped to this environment by this deployment
    previous_id: int | None  # previous deployment of the same service and environment
    incident_id: int | None = None  # the production incident this deployment caused
    status_ids: tuple[int, int, int] = (0, 0, 0)  # ids of the pending, in_progress, final statuses

    def status_at(self, now: datetime) -> str | None:
        """None before creation; then pending -> in_progress -> success | failure."""
        if now < self.created_at:
            return None
        if now < self.started_at:
            return "pending"
        if now < self.finished_at:
            return "in_progress"
        return self.result

    def statuses_at(self, now: datetime) -> list[tuple[int, str, datetime]]:
        """(status id, state, created_at) visible at ``now``, oldest first."""
        steps = [
            (self.status_ids[0], "pending", self.created_at),
            (self.status_ids[1], "in_progress", self.started_at),
            (self.status_ids[2], self.result, self.finished_at),
        ]
        return [step for step in steps if step[2] <= now]


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    number: int  # PagerDuty incident_number
    service: str
    team_key: str
    title: str
    severity: str  # SEV1..SEV3
    urgency: str  # high | low
    fingerprint: str | None  # recurring problem key, e.g. "payment-gateway-timeout"
    started_at: datetime
    acknowledged_at: datetime
    resolved_at: datetime
    cause_deployment_id: int | None
    root_cause_sha: str | None

    def status_at(self, now: datetime) -> str | None:
        """None before it starts; then triggered -> acknowledged -> resolved (PagerDuty spelling)."""
        if now < self.started_at:
            return None
        if now < self.acknowledged_at:
            return "triggered"
        if now < self.resolved_at:
            return "acknowledged"
        return "resolved"


@dataclass(frozen=True, slots=True)
class Issue:
    """A plain GitHub issue (bugs and incident reports); incidents point at their ``Incident``."""

    id: int
    repo: str
    number: int
    title: str
    body: str
    labels: tuple[str, ...]
    author_login: str
    created_at: datetime
    closed_at: datetime | None
    incident_id: int | None = None

    def visible(self, now: datetime) -> bool:
        return self.created_at <= now
