"""The delivery marts against the simulated company's ground truth (`demo_run.company().delivery`).

The generator's records hold whole lives (past and future); everything here is restricted to what the company had
revealed by its clock at the anchor, which is what the demo ingested: deployments finished by then, incidents
started (and resolved) by then, pull requests merged by then.

Two kinds of comparison:
- plain truth (how many production deployments succeeded or failed, which were hotfix / revert / rollback, which
  incidents happened and how long they lasted, which deployment caused which incident) — the marts must agree;
- the metric definitions recomputed independently in Python from the generator's own records (its commit chain
  instead of the ingested commits, its deployments instead of the APIs' payloads) — within 1%.
Where the generator's bookkeeping and our definitions legitimately differ, every difference is checked to be of
the one explained kind, so a real linking bug cannot hide among them.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import pytest
import yaml

from orchestration.config import PROJECT_ROOT
from simulation.delivery_model import Change, DeliveryService, Deployment, Incident
from tests.conftest import DemoRun

# the time-based attribution window the marts were built with (dbt var techledger_metrics)
WINDOW = timedelta(
    hours=yaml.safe_load((PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]["techledger_metrics"][
        "incident_attribution_window_hours"
    ]
)
REWORK_KINDS = {"hotfix", "revert", "rollback"}


@dataclass(frozen=True)
class Truth:
    """The company's delivery records as revealed at its clock."""

    now: datetime
    services: dict[str, DeliveryService]
    changes: dict[str, list[Change]]  # per service, default-branch order (the commit chain)
    deployments: dict[str, list[Deployment]]  # per service, finished by now, creation order
    incidents: list[Incident]  # started by now
    deployment_ids: dict[int, str]  # generator id -> fct_deployments.deployment_id
    first_commit_at: dict[tuple[str, str], datetime]  # (repo, merge sha) -> first commit authored (GitHub)

    def production(self, service: str) -> list[Deployment]:
        return [d for d in self.deployments[service] if d.environment == "production"]

    def successful_production(self, service: str) -> list[Deployment]:
        return sorted((d for d in self.production(service) if d.result == "success"), key=lambda d: d.finished_at)


@pytest.fixture(scope="module")
def truth(demo_run: DemoRun) -> Truth:
    company = demo_run.company()
    model, now = company.delivery, company.now
    services = {s.name: s for s in model.services()}
    deployments, ids = {}, {}
    for name, service in services.items():
        everything = model.deployments(name)
        deployments[name] = [d for d in everything if d.finished_at <= now]
        if service.deploy_tool == "jenkins":  # build numbers count the job's builds in start order
            for number, d in enumerate(sorted(everything, key=lambda d: (d.started_at, d.id)), start=1):
                ids[d.id] = f"jenkins:{service.jenkins_job}:{number}"
        else:
            prefix = "github" if service.deploy_tool == "github_actions" else "gitlab"
            ids.update({d.id: f"{prefix}:{d.id}" for d in everything})
    first_commit = {}
    for service in services.values():
        if service.served_by_github:
            for pr in company.pull_requests(service.repo):
                if pr.merged_at is not None and pr.merged_at <= now:
                    first_commit[(service.repo, pr.merge_commit_sha)] = pr.first_commit_at
    return Truth(
        now=now,
        services=services,
        changes={name: [c for c in model.changes(name) if c.merged_at <= now] for name in services},
        deployments=deployments,
        incidents=[i for i in model.incidents() if i.started_at <= now],
        deployment_ids=ids,
        first_commit_at=first_commit,
    )


@pytest.fixture(scope="module")
def marts(demo_run: DemoRun) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        yield con


def _close(ours: float, theirs: float, rel: float = 0.01) -> bool:
    return math.isclose(ours, theirs, rel_tol=rel, abs_tol=1e-9)


def _quantile_cont(values: list[float], q: float) -> float:
    """DuckDB's quantile_cont: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _month(moment: datetime) -> date:
    return moment.date().replace(day=1)


# -- the definitions, recomputed from the generator's records ---------------------------------------------------
def _positions(truth: Truth, service: str) -> dict[str, int]:
    """Mainline position of every merge commit: the generator's changes are the first-parent chain."""
    changes = truth.changes[service]
    positions = {c.merge_sha: k + 1 for k, c in enumerate(changes)}
    if changes:
        positions[changes[0].parent_sha] = 0
    return positions


def _deployed_by(truth: Truth, service: str) -> dict[str, Deployment]:
    """Merge sha -> the earliest successful production deployment, finished at or after the merge, whose commit
    reaches it on the mainline (fct_pull_requests.deployed_at's definition)."""
    positions = _positions(truth, service)
    deployed = {}
    for change in truth.changes[service]:
        reach = positions[change.merge_sha]
        for d in truth.successful_production(service):
            if d.finished_at >= change.merged_at and positions.get(d.sha, -1) >= reach:
                deployed[change.merge_sha] = d
                break
    return deployed


def _shipped(truth: Truth, service: str) -> dict[int, set[str]]:
    """Deployment -> merge shas in (previous successful production deployment's position, its position]."""
    positions = _positions(truth, service)
    order = [c.merge_sha for c in truth.changes[service]]
    shipped, previous = {}, None
    for d in truth.successful_production(service):
        position = positions[d.sha]
        shipped[d.id] = set(order[(previous or 0) : position])
        previous = position
    return shipped


def _attributed(truth: Truth) -> dict[int, Deployment | None]:
    """Incident -> deployment: a root cause names a commit (the latest successful production deployment of the
    service finished before the incident that shipped or redeployed it); otherwise the latest one finished at
    most WINDOW before the incident."""
    shipped = {name: _shipped(truth, name) for name in truth.services}
    result = {}
    for incident in truth.incidents:
        candidates = truth.successful_production(incident.service)
        if incident.root_cause_sha:
            sha = incident.root_cause_sha
            naming = [d for d in candidates if sha in shipped[incident.service][d.id] or d.sha == sha]
            before = [d for d in naming if d.finished_at <= incident.started_at]
            result[incident.id] = before[-1] if before else (naming[0] if naming else None)
        else:
            recent = [d for d in candidates if incident.started_at - WINDOW <= d.finished_at <= incident.started_at]
            result[incident.id] = recent[-1] if recent else None
    return result


# -- plain truth ------------------------------------------------------------------------------------------------
def test_production_deployments_per_service(truth: Truth, marts: duckdb.DuckDBPyConnection) -> None:
    """Successful and failed production deployments, and rework ones, per service: the deploying tools' records
    (GitHub deployments + statuses, GitLab deployments, Jenkins builds) unified without loss or double count."""
    expected = Counter()
    for service in truth.services:
        for d in truth.production(service):
            expected[(service, d.result)] += 1
            expected[(service, "rework")] += d.kind in REWORK_KINDS
    ours = Counter()
    rows = marts.execute(
        "select service, result, is_rework from marts.fct_deployments where is_production and finished_at is not null"
    ).fetchall()
    for service, result, rework in rows:
        ours[(service, result)] += 1
        ours[(service, "rework")] += rework
    assert sum(expected[(s, "success")] for s in truth.services) > 500
    for key in sorted(set(expected) | set(ours)):
        assert _close(ours[key], expected[key]), (key, ours[key], expected[key])


def test_incidents_and_restore_hours(truth: Truth, marts: duckdb.DuckDBPyConnection) -> None:
    """Every PagerDuty incident once (the GitHub issues mirroring them are folded in), on its service, with its
    restore time; no GitHub issue mirroring one survives as an incident of its own."""
    rows = marts.execute(
        "select incident_number, service, restore_hours from marts.fct_incidents where source_system = 'pagerduty'"
    ).fetchall()
    ours = {number: (service, hours) for number, service, hours in rows}
    assert len(ours) == len(rows) == len(truth.incidents)
    for incident in truth.incidents:
        service, hours = ours[incident.number]
        assert service == incident.service
        if incident.resolved_at <= truth.now:
            expected = (incident.resolved_at - incident.started_at).total_seconds() / 3600
            assert _close(hours, expected), (incident.number, hours, expected)
    (github_incidents,) = marts.execute(
        "select count(*) from marts.fct_incidents where source_system = 'github'"
    ).fetchone()
    assert github_incidents == 0  # every incident issue of the simulated company mirrors a PagerDuty incident


def test_incidents_caused_by_deployments(truth: Truth, marts: duckdb.DuckDBPyConnection) -> None:
    """Every incident a deployment caused is attributed by its explicit root cause, to that deployment — except
    where the culprit commit was redeployed unchanged between the causing deployment and the incident (two
    deployments ran the same commit before it started; nothing in the data tells them apart, and we take the
    later). Incidents nothing caused are never explicitly attributed; per service, the counts of caused
    incidents agree."""
    rows = marts.execute(
        "select incident_number, attributed_deployment_id, attribution_method from marts.fct_incidents "
        "where source_system = 'pagerduty'"
    ).fetchall()
    ours = {number: (deployment, method) for number, deployment, method in rows}
    by_key = {truth.deployment_ids[d.id]: d for service in truth.services for d in truth.successful_production(service)}
    expected_per_service, ours_per_service = Counter(), Counter()
    exact = ambiguous = 0
    for incident in truth.incidents:
        deployment, method = ours[incident.number]
        if incident.cause_deployment_id is None:
            assert method in {"time_window", "unattributed"}, incident
            continue
        expected_per_service[incident.service] += 1
        ours_per_service[incident.service] += method == "commit_reference"
        if deployment == truth.deployment_ids[incident.cause_deployment_id]:
            exact += 1
            continue
        cause, chosen = (
            next(d for d in truth.successful_production(incident.service) if d.id == incident.cause_deployment_id),
            by_key[deployment],
        )
        assert chosen.sha == cause.sha == incident.root_cause_sha, incident
        assert cause.finished_at < chosen.finished_at <= incident.started_at, incident
        ambiguous += 1
    assert ours_per_service == expected_per_service
    # each ambiguous case was checked above to be a same-commit redeploy; they are the exception, not the rule
    # (payments' story deploys up to 12 times a week per service, often redeploying an unchanged commit: 7 of 82
    # on the test company)
    assert exact >= 0.85 * (exact + ambiguous), (exact, ambiguous)


def test_pull_requests_deployed_by_the_commit_graph(truth: Truth, marts: duckdb.DuckDBPyConnection) -> None:
    """deployed_at of every merged PR / MR equals the earliest successful production deployment, finished after
    the merge, whose commit reaches the merge commit on the generator's own commit chain. Against the
    generator's Deployment.shipped bookkeeping (which hands a change to the deployment *requested* first) the
    only differences are two production deployments of the same commit overlapping in time, where the one that
    finished first put the change in production first."""
    rows = marts.execute(
        "select repo_full_name, merge_commit_sha, deployed_at, deployment_id from marts.fct_pull_requests "
        "where is_merged"
    ).fetchall()
    ours = {(repo, sha): (at, deployment) for repo, sha, at, deployment in rows}
    first_shipper = {}
    for service in truth.services:
        for d in sorted(truth.successful_production(service), key=lambda d: d.created_at):
            for sha in d.shipped:
                first_shipper.setdefault((d.repo, sha), d)
    compared = agree = agree_shipped = overlapping = 0
    for name, service in truth.services.items():
        deployed = _deployed_by(truth, name)
        for change in truth.changes[name]:
            key = (service.repo, change.merge_sha)
            if key not in ours:  # billing-legacy: deployed by Jenkins, no pull requests served
                continue
            compared += 1
            at, deployment = ours[key]
            expected = deployed.get(change.merge_sha)
            if expected is None:  # merged but not deployed yet
                assert at is None, key
                agree += 1
                continue
            # the APIs render whole seconds (GitHub) or milliseconds (GitLab) of the generator's microseconds
            agree += abs(at - expected.finished_at) < timedelta(seconds=1) and (
                deployment == truth.deployment_ids[expected.id]
            )
            shipper = first_shipper[key]
            if shipper.id == expected.id:
                agree_shipped += 1
            else:
                assert shipper.sha == expected.sha and expected.finished_at < shipper.finished_at, key
                overlapping += 1
    assert compared > 2000
    assert agree == compared, (agree, compared)
    assert agree_shipped + overlapping == sum(1 for k in ours if k in first_shipper)
    assert agree_shipped >= 0.95 * (agree_shipped + overlapping), (agree_shipped, overlapping)


# -- metrics ----------------------------------------------------------------------------------------------------
def test_monthly_service_metrics_match_an_independent_computation(
    truth: Truth, marts: duckdb.DuckDBPyConnection
) -> None:
    """metrics_delivery_monthly per service and month — deployment frequency, production deployments, change
    failure rate, rework rate, time to restore p50 and (GitHub services) lead time p50 — recomputed in Python
    from the generator's records, within 1%."""
    attributed = _attributed(truth)
    causing = {d.id for d in attributed.values() if d is not None}
    expected: dict[tuple[str, date], dict[str, float | None]] = defaultdict(dict)
    for name in truth.services:
        months = defaultdict(list)
        for d in truth.production(name):
            months[_month(d.finished_at)].append(d)
        for month, deployments in months.items():
            failures = sum(d.result == "failure" or d.id in causing for d in deployments)
            expected[(name, month)].update(
                deployments_count=sum(d.result == "success" for d in deployments),
                production_deployments_count=len(deployments),
                change_failure_rate=failures / len(deployments),
                rework_rate=sum(d.kind in REWORK_KINDS for d in deployments) / len(deployments),
            )
        restores = defaultdict(list)
        for incident in truth.incidents:
            if incident.service == name and incident.resolved_at <= truth.now:
                hours = (incident.resolved_at - incident.started_at).total_seconds() / 3600
                restores[_month(incident.started_at)].append(hours)
        for month, hours in restores.items():
            expected[(name, month)]["time_to_restore_hours_p50"] = _quantile_cont(hours, 0.5)
        if truth.services[name].served_by_github:
            lead = defaultdict(list)
            for sha, d in _deployed_by(truth, name).items():
                first = truth.first_commit_at[(truth.services[name].repo, sha)]
                lead[_month(d.finished_at)].append((d.finished_at - first).total_seconds() / 3600)
            for month, hours in lead.items():
                expected[(name, month)]["lead_time_hours_p50"] = _quantile_cont(hours, 0.5)

    columns = [
        "deployments_count",
        "production_deployments_count",
        "change_failure_rate",
        "rework_rate",
        "time_to_restore_hours_p50",
        "lead_time_hours_p50",
    ]
    rows = marts.execute(
        f"select scope_key, period_start, {', '.join(columns)} from marts.metrics_delivery_monthly "
        "where scope_type = 'service'"
    ).fetchall()
    ours = {(row[0], row[1]): dict(zip(columns, row[2:], strict=True)) for row in rows}
    checked = 0
    for key, values in expected.items():
        for column, value in values.items():
            assert ours[key][column] is not None, (key, column)
            assert _close(ours[key][column], value), (key, column, ours[key][column], value)
            checked += 1
    assert checked > 200
