"""The delivery story of the simulated company, generated from the pull requests it already has.

One consistent chain per service: merged changes (PR merge commits on the default branch, each with
its parent) -> CI runs (one per pushed PR commit, one per default-branch commit, one per deployment;
the flaky checkout test fails ~15% of runs, which are re-run as attempt 2) -> deployments to staging
then production, each shipping the merge commits merged since the previous one -> incidents caused by
some production deployments (change failure rate), plus the recurring gateway timeout and platform
infrastructure incidents -> rework deployments (hotfix / revert / rollback) when an incident is fixed.

Everything is drawn from sha256-derived seeds keyed by what it describes (service, day, deployment),
so generating further into the future never changes the past. Records hold whole lives; whether a run
is in progress or a deployment pending is decided at read time from the company clock (see
``simulation.delivery_model``). Read it through ``Company.delivery``:

    model = company.delivery
    model.services()                       # every DeliveryService (GitHub, GitLab, Jenkins-deployed)
    model.changes(service)                 # merged changes, default-branch order (commit graph)
    model.ci_runs(service)                 # CiRun records, creation order
    model.deployments(service)             # Deployment records, creation order
    model.incidents(service=None)          # Incident records, start order
    model.issues(repo)                     # GitHub issues (bugs, incident reports) of a served repo
    model.add_run_burst(repo, day, runs)   # knob: >1,000 workflow runs in one day

Callers filter by ``company.now`` (``Deployment.status_at``, ``CiRun.attempts_at``...).
"""

from __future__ import annotations

import heapq
import math
import random
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from simulation.delivery_model import (
    Change,
    CiAttempt,
    CiJob,
    CiRun,
    DeliveryService,
    Deployment,
    Incident,
    Issue,
)
from simulation.determinism import derive_seed, fake_sha, poisson, rng_for
from simulation.model import PullRequest
from simulation.org import ORG, Org
from simulation.stories import StoryBook

BASE_DEPLOYS_PER_WEEK = {1: 5.0, 2: 3.0, 3: 2.0}
BASE_CHANGE_FAILURE_RATE = 0.08
DEPLOY_FAILURE_RATE = 0.04  # the deploy job itself fails; retried with the same commit
BASE_RESTORE_HOURS = 2.0
PLATFORM_EXTRA_INCIDENTS_PER_DAY = 3 / 30  # infrastructure incidents not caused by a deployment
BUG_ISSUES_PER_WEEKDAY = 0.15
ISSUE_NUMBER_BASE = 20_000  # issues get their own number range (PR numbers are generated elsewhere)

# Services beyond the eight GitHub repos: (name, team, host, repo, deploy tool, tier, jenkins job).
EXTRA_SERVICES: tuple[tuple[str, str, str, str, str, int, str | None], ...] = (
    ("ml-platform", "data-platform", "gitlab", f"{ORG}/ml-platform", "gitlab", 3, None),
    ("recommendations", "search", "gitlab", f"{ORG}/recommendations", "gitlab", 2, None),
    ("billing-legacy", "checkout", "github", f"{ORG}/billing-legacy", "jenkins", 2, "deploy/billing-legacy"),
)
# Platform's independent infrastructure incidents (platform_incident_recovery_improves) draw "<symptom> on
# <component>": 12 x 10 titles, so two of the ~9 incidents of a 90-day window rarely share one by chance.
INFRA_SYMPTOMS = (
    "Node pool exhausted", "DNS resolution failures", "Certificate expired", "Disk pressure evictions",
    "Connection pool saturation", "Packet loss", "Control plane unavailable", "Volume attach failures",
    "Clock skew", "Image pull failures", "Load balancer health checks failing", "Secrets rotation failed",
)  # fmt: skip
INFRA_COMPONENTS = (
    "ingress-nginx", "core-dns", "eks-prod-eu", "eks-prod-us", "postgres-primary", "redis-cache",
    "kafka-brokers", "vault", "artifact-registry", "nat-gateway",
)  # fmt: skip
INCIDENT_ISSUE_REPOS = frozenset({f"{ORG}/payments-api", f"{ORG}/payments-gateway", f"{ORG}/checkout-service"})


def _id(*parts: object, base: int, span: int = 10**11) -> int:
    return base + derive_seed(*parts) % span


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _minutes(value: float) -> timedelta:
    return timedelta(seconds=round(value * 60))


class DeliveryModel:
    """Lazily built, cached per service and per ``until`` (the generated horizon)."""

    def __init__(
        self,
        seed: int,
        org: Org,
        stories: StoryBook,
        start: datetime,
        lives: Callable[[str], list[PullRequest]],
    ) -> None:
        self._seed = seed
        self._org = org
        self._stories = stories
        self._start = start
        self._lives = lives
        self._lock = threading.RLock()
        self._until = start
        self._cache: dict[tuple[str, str], object] = {}
        self._bursts: dict[str, list[tuple[date, int]]] = {}
        services = [
            DeliveryService(
                s.name,
                s.team_key,
                "github",
                s.repo_full_name,
                "github_actions",
                s.tier,
                served_by_github=True,
                incident_issues=s.repo_full_name in INCIDENT_ISSUE_REPOS,
            )
            for s in org.services
        ]
        services += [DeliveryService(n, t, h, r, tool, tier, job) for n, t, h, r, tool, tier, job in EXTRA_SERVICES]
        self._services = {s.name: s for s in services}
        self._by_repo = {s.repo: s for s in services}

    # -- public API -----------------------------------------------------------------------------
    def set_until(self, until: datetime) -> None:
        """Generate up to ``until`` (the company calls this when its clock moves)."""
        with self._lock:
            if until > self._until:
                self._until = until
                self._cache.clear()

    def services(self) -> list[DeliveryService]:
        return list(self._services.values())

    def service(self, name: str) -> DeliveryService:
        return self._services[name]

    def service_for_repo(self, repo: str) -> DeliveryService | None:
        return self._by_repo.get(repo)

    def changes(self, service: str) -> list[Change]:
        return self._cached(service, "changes", self._build_changes)  # type: ignore[return-value]

    def deployments(self, service: str) -> list[Deployment]:
        return self._cached(service, "deploys", lambda s: self._build_deploys(s)[0])  # type: ignore[return-value]

    def service_incidents(self, service: str) -> list[Incident]:
        return self._cached(service, "incidents", lambda s: self._build_deploys(s)[1])  # type: ignore[return-value]

    def incidents(self, service: str | None = None) -> list[Incident]:
        names = [service] if service else list(self._services)
        found = [i for name in names for i in self.service_incidents(name)]
        return sorted(found, key=lambda i: i.started_at)

    def ci_runs(self, service: str) -> list[CiRun]:
        return self._cached(service, "runs", self._build_runs)  # type: ignore[return-value]

    def issues(self, repo: str) -> list[Issue]:
        service = self._by_repo.get(repo)
        if service is None:
            return []
        return self._cached(service.name, "issues", self._build_issues)  # type: ignore[return-value]

    def add_run_burst(self, repo: str, day: date, runs: int) -> None:
        """Knob: ``runs`` extra scheduled workflow runs of ``repo`` spread over ``day`` (tests the
        1,000-results cap of filtered run lists)."""
        service = self._by_repo[repo]
        with self._lock:
            self._bursts.setdefault(repo, []).append((day, runs))
            self._cache.pop((service.name, "runs"), None)
            self._cache.pop((service.name, "run_index"), None)

    def run(self, repo: str, run_id: int) -> CiRun | None:
        service = self._by_repo.get(repo)
        if service is None:
            return None
        index = self._cached(service.name, "run_index", lambda s: {r.id: r for r in self.ci_runs(s.name)})
        return index.get(run_id)  # type: ignore[attr-defined]

    def deployment(self, repo: str, deployment_id: int) -> Deployment | None:
        service = self._by_repo.get(repo)
        if service is None:
            return None
        return next((d for d in self.deployments(service.name) if d.id == deployment_id), None)

    # -- building ---------------------------------------------------------------------------------
    def _cached(self, service: str, what: str, build: Callable[[DeliveryService], object]) -> object:
        with self._lock:
            key = (service, what)
            if key not in self._cache:
                self._cache[key] = build(self._services[service])
            return self._cache[key]

    def _build_changes(self, service: DeliveryService) -> list[Change]:
        root = fake_sha(self._seed, service.repo, "root")
        merged: list[tuple[datetime, int, int, str, str, str, str]] = []
        if service.served_by_github:
            for pr in self._lives(service.repo):
                if pr.merged_at is not None and pr.merged_at < self._until:
                    head = pr.commits[-1].sha
                    merged.append(
                        (pr.merged_at, pr.number, pr.id, pr.title, pr.merged_by or "", pr.merge_commit_sha, head)
                    )
        else:
            members = [p.login for p in self._org.members(service.team_key)]
            day = self._start.date()
            number = 1 + derive_seed(self._seed, "mr-numbers", service.repo) % 400
            while _midnight(day) < self._until:
                rng = rng_for(self._seed, "changes", service.repo, day)
                for _ in range(poisson(rng, 2.5 if day.weekday() < 5 else 0.2)):
                    at = _midnight(day) + _minutes(rng.uniform(8 * 60, 18 * 60))
                    title = rng.choice(("Tune model features", "Fix flaky export", "Refactor config loading"))
                    merged.append((at, 0, 0, title, rng.choice(members), f"{rng.getrandbits(160):040x}", ""))
                day += timedelta(days=1)
            merged.sort()
            for k, item in enumerate(merged):
                change_id = _id(self._seed, "mr", service.repo, k, base=90_000_000, span=10**8)
                merged[k] = (item[0], number + k, change_id, item[3], item[4], item[5], fake_sha(item[5], "head"))
        merged.sort()
        changes = []
        parent = root
        for merged_at, number, change_id, title, author, sha, head in merged:
            changes.append(
                Change(service.name, service.repo, number, change_id, title, author, merged_at, sha, parent, head)
            )
            parent = sha
        return changes

    def _deploy_rate(self, service: DeliveryService, moment: datetime) -> tuple[float, float]:
        """(deploys per week, change failure rate) at ``moment``; the payments story bends both."""
        story = self._stories.get("payments_deploys_and_failures_rise")
        if service.name in story.params["services"]:
            return story.params["deploys_per_week"].at(moment), story.params["change_failure_rate"].at(moment)
        return BASE_DEPLOYS_PER_WEEK[service.tier], BASE_CHANGE_FAILURE_RATE

    def _restore_hours(self, service: DeliveryService, moment: datetime) -> float:
        story = self._stories.get("platform_incident_recovery_improves")
        if service.team_key == story.team_key:
            return story.params["time_to_restore_hours"].at(moment)
        return BASE_RESTORE_HOURS

    def _build_deploys(self, service: DeliveryService) -> tuple[list[Deployment], list[Incident]]:
        key = (service.name, "built")
        with self._lock:
            if key in self._cache:
                return self._cache[key]  # type: ignore[return-value]
        changes = self.changes(service.name)
        members = [p.login for p in self._org.members(service.team_key)]
        deploys: list[Deployment] = []
        incidents: list[Incident] = []
        previous: dict[str, Deployment] = {}
        shipped_upto = {"staging": 0, "production": 0}  # index into changes
        last_good_sha = changes[0].parent_sha if changes else fake_sha(self._seed, service.repo, "root")

        def deploy(
            env: str, kind: str, at: datetime, sha: str, ship: tuple[str, ...], rng: random.Random
        ) -> Deployment:
            started = at + _minutes(rng.uniform(0.5, 4))
            finished = started + _minutes(rng.uniform(3, 15))
            failed = kind != "rollback" and rng.random() < DEPLOY_FAILURE_RATE
            did = _id(self._seed, "deployment", service.name, env, at.isoformat(), kind, base=1_000_000_000)
            prev = previous.get(env)
            record = Deployment(
                id=did,
                service=service.name,
                repo=service.repo,
                tool=service.deploy_tool,
                environment=env,
                kind=kind,
                sha=sha,
                ref=sha if kind == "rollback" else "main",
                creator_login=rng.choice(members),
                created_at=at,
                started_at=started,
                finished_at=finished,
                result="failure" if failed else "success",
                shipped=() if failed else ship,
                previous_id=prev.id if prev else None,
                status_ids=tuple(_id(self._seed, "status", did, k, base=2_000_000_000) for k in range(3)),  # type: ignore[arg-type]
            )
            previous[env] = record
            deploys.append(record)
            return record

        def ship(env: str, at: datetime) -> tuple[tuple[str, ...], str | None]:
            start = shipped_upto[env]
            end = start
            while end < len(changes) and changes[end].merged_at <= at:
                end += 1
            shas = tuple(c.merge_sha for c in changes[start:end])
            return shas, (changes[end - 1].merge_sha if end > start else None)

        def mark_shipped(env: str, shas: tuple[str, ...]) -> None:
            shipped_upto[env] += len(shas)

        pending_rework: list[tuple[datetime, str]] = []  # a heap: (when, kind)
        last_prod_sha = last_good_sha
        day = self._start.date()
        while _midnight(day) < self._until:
            rng = rng_for(self._seed, "deploys", service.name, day)
            per_week, cfr = self._deploy_rate(service, _midnight(day) + timedelta(hours=12))
            count = poisson(rng, per_week / 5) if day.weekday() < 5 else 0
            events = [(_midnight(day) + _minutes(rng.uniform(9 * 60, 17 * 60)), "regular") for _ in range(count)]
            while pending_rework and pending_rework[0][0].date() <= day:
                events.append(heapq.heappop(pending_rework))
            heapq.heapify(events)
            while events:
                at, kind = heapq.heappop(events)
                drng = rng_for(self._seed, "deploy", service.name, at.isoformat(), kind)
                if kind == "rollback":
                    last_prod_sha = deploy("production", "rollback", at, last_good_sha, (), drng).sha
                    continue
                if kind == "regular":
                    shas, head = ship("staging", at)
                    # Nothing merged since the last deployment: a configuration-only redeploy.
                    stage = deploy("staging", kind, at, head or last_prod_sha, shas, drng)
                    if stage.result == "success":
                        mark_shipped("staging", shas)
                prod_at = at + _minutes(drng.uniform(20, 50)) if kind == "regular" else at
                shas, head = ship("production", at)
                sha = head or last_prod_sha
                prod = deploy("production", kind, prod_at, sha, shas, drng)
                if prod.result == "failure":
                    prod = deploy(
                        "production", "retry", prod.finished_at + _minutes(drng.uniform(10, 30)), sha, shas, drng
                    )
                if prod.result != "success":
                    continue
                mark_shipped("production", shas)
                last_prod_sha = prod.sha
                if kind == "regular" and drng.random() < cfr:
                    incident, rework_kind = self._caused_incident(service, prod, changes, drng)
                    incidents.append(incident)
                    deploys[deploys.index(prod)] = prod = _with_incident(prod, incident.id)
                    previous["production"] = prod
                    rework = (incident.resolved_at - _minutes(drng.uniform(5, 20)), rework_kind)
                    heapq.heappush(events if rework[0].date() == day else pending_rework, rework)
                else:
                    last_good_sha = prod.sha
            day += timedelta(days=1)

        incidents += self._independent_incidents(service)
        incidents.sort(key=lambda i: i.started_at)
        deploys.sort(key=lambda d: d.created_at)
        result = (deploys, incidents)
        with self._lock:
            self._cache[key] = result
        return result

    def _caused_incident(
        self, service: DeliveryService, prod: Deployment, changes: list[Change], rng: random.Random
    ) -> tuple[Incident, str]:
        started = prod.finished_at + _minutes(rng.uniform(10, 120))
        restore = self._restore_hours(service, started) * math.exp(rng.gauss(0, 0.35))
        culprit = rng.choice(prod.shipped) if prod.shipped else prod.sha
        title = rng.choice(("Elevated 5xx error rate", "Latency SLO burn", "Error spike after deploy"))
        incident = self._incident(
            service,
            f"{title} on {service.name}",
            started,
            restore,
            rng,
            fingerprint=None,
            deployment=prod.id,
            root_cause=culprit,
        )
        return incident, rng.choice(("hotfix", "revert", "rollback"))

    def _incident(
        self,
        service: DeliveryService,
        title: str,
        started: datetime,
        restore_hours: float,
        rng: random.Random,
        *,
        fingerprint: str | None,
        deployment: int | None,
        root_cause: str | None,
        severity: str | None = None,
    ) -> Incident:
        iid = _id(self._seed, "incident", service.name, started.isoformat(), base=3_000_000, span=10**9)
        return Incident(
            id=iid,
            number=1 + iid % 100_000,
            service=service.name,
            team_key=service.team_key,
            title=title,
            severity=severity or rng.choice(("SEV1", "SEV2", "SEV2", "SEV3")),
            urgency="high",
            fingerprint=fingerprint,
            started_at=started,
            acknowledged_at=started + _minutes(rng.uniform(2, 15)),
            resolved_at=started + timedelta(hours=restore_hours),
            cause_deployment_id=deployment,
            root_cause_sha=root_cause,
        )

    def _independent_incidents(self, service: DeliveryService) -> list[Incident]:
        found: list[Incident] = []
        recurring = self._stories.get("payment_gateway_timeout_recurring")
        if service.name == recurring.service:
            p = recurring.params
            rng = rng_for(self._seed, "recurring", recurring.id)
            at = recurring.start
            while at < self._until:
                minutes = p["duration_minutes_median"] * math.exp(rng.gauss(0, 0.3))
                found.append(
                    self._incident(
                        service,
                        p["incident_title"],
                        at + _minutes(rng.uniform(0, 12 * 60)),
                        minutes / 60,
                        rng,
                        fingerprint=p["fingerprint"],
                        deployment=None,
                        root_cause=None,
                        severity=p["severity"],
                    )
                )
                at += timedelta(days=p["interval_days"] + rng.uniform(-p["jitter_days"], p["jitter_days"]))
        platform = self._stories.get("platform_incident_recovery_improves")
        if service.name == platform.service:
            day = self._start.date()
            while _midnight(day) < self._until:
                rng = rng_for(self._seed, "infra-incidents", service.name, day)
                for _ in range(poisson(rng, PLATFORM_EXTRA_INCIDENTS_PER_DAY)):
                    at = _midnight(day) + _minutes(rng.uniform(0, 24 * 60))
                    restore = self._restore_hours(service, at) * math.exp(rng.gauss(0, 0.35))
                    # one-off infrastructure failures: a symptom on a component, so that (unlike the gateway
                    # timeout) they are not one recurring problem under a shared title
                    title = f"{rng.choice(INFRA_SYMPTOMS)} on {rng.choice(INFRA_COMPONENTS)}"
                    found.append(
                        self._incident(
                            service, title, at, restore, rng, fingerprint=None, deployment=None, root_cause=None
                        )
                    )
                day += timedelta(days=1)
        return found

    def _build_issues(self, service: DeliveryService) -> list[Issue]:
        drafts: list[tuple[datetime, str, str, tuple[str, ...], str, datetime | None, int | None]] = []
        members = [p.login for p in self._org.members(service.team_key)]
        if service.incident_issues:
            for incident in self.service_incidents(service.name):
                rng = rng_for(self._seed, "incident-issue", incident.id)
                body = f"PagerDuty incident #{incident.number}: {incident.title}."
                if incident.root_cause_sha and rng.random() < 0.6:
                    body += f"\n\nroot cause: {incident.root_cause_sha}"
                created = incident.started_at + _minutes(rng.uniform(5, 20))
                closed = max(created, incident.resolved_at) + _minutes(rng.uniform(5, 120))
                drafts.append((created, incident.title, body, ("incident",), rng.choice(members), closed, incident.id))
        day = self._start.date()
        while _midnight(day) < self._until:
            rng = rng_for(self._seed, "bugs", service.repo, day)
            for _ in range(poisson(rng, BUG_ISSUES_PER_WEEKDAY if day.weekday() < 5 else 0.0)):
                created = _midnight(day) + _minutes(rng.uniform(8 * 60, 18 * 60))
                closed = created + timedelta(days=rng.uniform(0.5, 20)) if rng.random() < 0.7 else None
                title = rng.choice(("Wrong total after refund", "Timeout on export", "500 on empty cart"))
                drafts.append(
                    (
                        created,
                        title,
                        f"Steps to reproduce: {title.lower()}.",
                        ("bug",),
                        rng.choice(members),
                        closed,
                        None,
                    )
                )
            day += timedelta(days=1)
        drafts.sort(key=lambda d: d[0])
        return [
            Issue(
                id=_id(self._seed, "issue", service.repo, created.isoformat(), title, base=2_800_000_000, span=10**9),
                repo=service.repo,
                number=ISSUE_NUMBER_BASE + k,
                title=title,
                body=body,
                labels=labels,
                author_login=author,
                created_at=created,
                closed_at=closed,
                incident_id=incident_id,
            )
            for k, (created, title, body, labels, author, closed, incident_id) in enumerate(drafts)
        ]

    def _build_runs(self, service: DeliveryService) -> list[CiRun]:
        runs: list[CiRun] = []
        flaky = self._stories.get("checkout_flaky_test")
        is_flaky_repo = service.repo == flaky.params["repo"]
        provider = "github_actions" if service.host == "github" else "gitlab"
        if service.deploy_tool == "jenkins":
            provider = "github_actions"  # CI on GitHub Actions, deploys by Jenkins
        if service.served_by_github:
            for pr in self._lives(service.repo):
                for commit in pr.commits:
                    if commit.committed_at < self._until and (
                        pr.closed_at is None or commit.committed_at <= pr.closed_at
                    ):
                        runs.append(
                            self._ci_run(
                                service,
                                provider,
                                "pull_request",
                                pr.head_ref,
                                commit.sha,
                                commit.author_login,
                                pr.number,
                                commit.committed_at,
                                is_flaky_repo,
                            )
                        )
        for change in self.changes(service.name):
            runs.append(
                self._ci_run(
                    service,
                    provider,
                    "push",
                    "main",
                    change.merge_sha,
                    change.author_login or "",
                    None,
                    change.merged_at,
                    is_flaky_repo,
                )
            )
        if service.deploy_tool in {"github_actions", "gitlab"}:
            for d in self.deployments(service.name):
                job = CiJob(
                    _id(self._seed, "deploy-job", d.id, base=30_000_000_000),
                    f"deploy-{d.environment}",
                    d.started_at,
                    d.finished_at,
                    d.result,
                )
                attempt = CiAttempt(1, d.created_at, d.started_at, d.finished_at, d.result, (job,))
                runs.append(
                    CiRun(
                        _id(self._seed, "deploy-run", d.id, base=10**10),
                        provider,
                        service.name,
                        service.repo,
                        "deploy",
                        "deployment",
                        "main" if d.ref == "main" else d.sha,
                        d.sha,
                        d.creator_login,
                        None,
                        (attempt,),
                    )
                )
        for day, count in self._bursts.get(service.repo, []):
            rng = rng_for(self._seed, "burst", service.repo, day, count)
            for k in range(count):
                at = _midnight(day) + timedelta(seconds=round(86_399 * k / count))
                sha = fake_sha(self._seed, "burst", service.repo, day, k)
                job = CiJob(
                    _id(self._seed, "burst-job", service.repo, day, k, base=30_000_000_000),
                    "matrix",
                    at + timedelta(seconds=20),
                    at + timedelta(seconds=80),
                    "success",
                )
                runs.append(
                    CiRun(
                        _id(self._seed, "burst-run", service.repo, day, k, base=10**10),
                        provider,
                        service.name,
                        service.repo,
                        "nightly-matrix",
                        "schedule",
                        "main",
                        sha,
                        rng.choice([p.login for p in self._org.members(service.team_key)]),
                        None,
                        (CiAttempt(1, at, at + timedelta(seconds=20), at + timedelta(seconds=80), "success", (job,)),),
                    )
                )
        runs.sort(key=lambda r: (r.created_at, r.id))
        numbers: dict[str, int] = {}
        numbered = []
        for run in runs:
            n = numbers.get(run.workflow, derive_seed(self._seed, "run-number", service.repo, run.workflow) % 500)
            numbers[run.workflow] = n + 1
            numbered.append(_with_number(run, n + 1))
        return numbered

    def _ci_run(
        self,
        service: DeliveryService,
        provider: str,
        event: str,
        branch: str,
        sha: str,
        actor: str,
        pr_number: int | None,
        pushed: datetime,
        flaky_repo: bool,
    ) -> CiRun:
        rng = rng_for(self._seed, "ci", service.repo, event, sha)
        flaky = self._stories.get("checkout_flaky_test").params
        run_id = _id(self._seed, "run", service.repo, event, sha, base=10**10)
        created = pushed + timedelta(seconds=rng.randint(3, 40))
        flaky_fail = flaky_repo and rng.random() < flaky["failure_rate"]
        real_fail = not flaky_fail and rng.random() < 0.05

        def attempt(n: int, at: datetime, fail_flaky: bool, fail_real: bool) -> CiAttempt:
            started = at + timedelta(seconds=rng.randint(5, 90))
            jobs = []
            for name, minutes in (
                ("lint", rng.uniform(0.5, 2)),
                ("unit-tests", rng.uniform(3, 6)),
                ("integration-tests", flaky["job_minutes"] if flaky_repo else rng.uniform(4, 8)),
            ):
                failed = (name == "integration-tests" and fail_flaky) or (name == "unit-tests" and fail_real)
                jobs.append(
                    CiJob(
                        _id(self._seed, "job", run_id, n, name, base=30_000_000_000),
                        name,
                        started,
                        started + _minutes(minutes),
                        "failure" if failed else "success",
                    )
                )
            done = max(j.completed_at for j in jobs)
            conclusion = "failure" if fail_flaky or fail_real else "success"
            return CiAttempt(n, at, started, done, conclusion, tuple(jobs), flaky_failure=fail_flaky)

        first = attempt(1, created, flaky_fail, real_fail)
        attempts = [first]
        if flaky_fail:
            attempts.append(attempt(2, first.completed_at + _minutes(rng.uniform(3, 45)), False, False))
        return CiRun(
            run_id, provider, service.name, service.repo, "ci", event, branch, sha, actor, pr_number, tuple(attempts)
        )


def _with_incident(d: Deployment, incident_id: int) -> Deployment:
    from dataclasses import replace

    return replace(d, incident_id=incident_id)


def _with_number(run: CiRun, number: int) -> CiRun:
    from dataclasses import replace

    return replace(run, run_number=number)
