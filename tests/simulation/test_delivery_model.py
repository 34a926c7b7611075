"""The delivery model: a consistent commit graph, deployments that ship it, and the stories in the data."""

from __future__ import annotations

import itertools
import statistics
from datetime import timedelta

import pytest

from simulation.company import Company

from .conftest import GitHub, small_company


@pytest.fixture(scope="module")
def history() -> Company:
    """Half a year of history: long enough to compare the last six weeks with what came before."""
    return small_company(history_days=180)


def _before_after(company: Company) -> tuple:
    six_weeks_ago = company.now - timedelta(days=42)
    return six_weeks_ago, company.history_start + timedelta(days=7)


def test_payments_deploys_more_often_and_fails_more_in_the_last_six_weeks(history: Company) -> None:
    cut, start = _before_after(history)
    before_weeks = (cut - start).days / 7
    counts = {"before": 0, "after": 0}
    failures = {"before": 0, "after": 0}
    for name in ("payments-api", "payments-gateway"):
        for d in history.delivery.deployments(name):
            if d.environment != "production" or d.result != "success" or d.kind != "regular":
                continue
            if not start <= d.created_at < history.now:
                continue
            period = "after" if d.created_at >= cut else "before"
            counts[period] += 1
            failures[period] += d.incident_id is not None
    freq_before, freq_after = counts["before"] / before_weeks, counts["after"] / 6
    assert freq_after > 1.5 * freq_before
    assert failures["after"] / counts["after"] > 1.5 * failures["before"] / counts["before"]
    # Other teams stay flat-ish.
    other = [d for d in history.delivery.deployments("search-service") if d.environment == "production"]
    assert other


def test_flaky_checkout_test_fails_about_15_percent_of_runs_and_is_retried(history: Company) -> None:
    runs = [
        r for r in history.delivery.ci_runs("checkout-service") if r.workflow == "ci" and r.created_at <= history.now
    ]
    retried = [r for r in runs if len(r.attempts) == 2]
    share = len(retried) / len(runs)
    assert 0.11 <= share <= 0.19
    for run in retried:
        first, second = run.attempts
        failed = [j.name for j in first.jobs if j.conclusion == "failure"]
        assert failed == ["integration-tests"] and first.flaky_failure
        assert second.conclusion == "success" and second.created_at > first.completed_at
    other = [r for r in history.delivery.ci_runs("search-service") if len(r.attempts) > 1]
    assert not other


def test_platform_restores_service_faster_over_time(history: Company) -> None:
    incidents = [i for i in history.delivery.incidents("platform-infra") if i.resolved_at <= history.now]
    early = [i for i in incidents if i.started_at < history.history_start + timedelta(days=60)]
    late = [i for i in incidents if i.started_at >= history.now - timedelta(days=60)]
    hours = [
        statistics.median((i.resolved_at - i.started_at).total_seconds() / 3600 for i in group)
        for group in (early, late)
    ]
    assert len(early) >= 4 and len(late) >= 4
    assert hours[1] < hours[0] / 2


def test_payment_gateway_timeout_recurs(history: Company) -> None:
    story = history.ground_truth()["payment_gateway_timeout_recurring"]
    recurring = [
        i
        for i in history.delivery.incidents("payments-gateway")
        if i.fingerprint == "payment-gateway-timeout" and i.started_at <= history.now
    ]
    assert abs(len(recurring) - story["expected"]["occurrences_in_history"]) <= 2
    gaps = [(b.started_at - a.started_at).days for a, b in itertools.pairwise(recurring)]
    assert all(5 <= gap <= 13 for gap in gaps)


def test_default_branch_is_the_merge_commits_in_order_and_deployments_ship_each_once(history: Company) -> None:
    for service in history.delivery.services():
        changes = history.delivery.changes(service.name)
        for previous, change in itertools.pairwise(changes):
            assert change.parent_sha == previous.merge_sha and change.merged_at >= previous.merged_at
        shipped = [
            sha
            for d in history.delivery.deployments(service.name)
            if d.environment == "production" and d.result == "success"
            for sha in d.shipped
        ]
        order = [c.merge_sha for c in changes][: len(shipped)]
        assert shipped == order, service.name  # every merge commit shipped once, in order


def test_rework_and_the_other_hosts_are_modelled(history: Company) -> None:
    kinds = {d.kind for s in history.delivery.services() for d in history.delivery.deployments(s.name)}
    assert {"regular", "hotfix", "revert", "rollback", "retry"} <= kinds
    tools = {s.name: (s.host, s.deploy_tool) for s in history.delivery.services()}
    assert tools["ml-platform"] == ("gitlab", "gitlab") and tools["billing-legacy"] == ("github", "jenkins")
    assert history.delivery.deployments("recommendations") and history.delivery.incidents("ml-platform") is not None


def test_the_model_is_deterministic_and_advancing_never_rewrites_the_past() -> None:
    one, two = small_company(), small_company()
    assert one.delivery.deployments("payments-api") == two.delivery.deployments("payments-api")
    now = two.now
    past = [d for d in two.delivery.deployments("payments-api") if d.created_at <= now]
    two.advance(45)
    assert [d for d in two.delivery.deployments("payments-api") if d.created_at <= now] == past


def test_actions_runs_are_capped_at_1000_results_with_a_filter(fresh_gh: GitHub) -> None:
    company = fresh_gh.company
    day = (company.now - timedelta(days=2)).date()
    company.delivery.add_run_burst("acme/checkout-web", day, 1100)
    params = {"created": day.isoformat(), "per_page": 100}
    first = fresh_gh.get("/repos/acme/checkout-web/actions/runs", params=params).json()
    assert first["total_count"] >= 1100
    past_cap = fresh_gh.get("/repos/acme/checkout-web/actions/runs", params={**params, "page": 11}).json()
    assert past_cap["workflow_runs"] == [] and past_cap["total_count"] == first["total_count"]
    unfiltered = fresh_gh.get("/repos/acme/checkout-web/actions/runs", params={"per_page": 100, "page": 11}).json()
    assert unfiltered["workflow_runs"]


def test_jobs_with_filter_all_include_every_attempt(gh: GitHub) -> None:
    run = next(
        r
        for r in gh.company.delivery.ci_runs("checkout-service")
        if len(r.attempts) == 2 and r.attempts[-1].completed_at < gh.company.now
    )
    latest = gh.get(f"/repos/acme/checkout-service/actions/runs/{run.id}/jobs").json()
    every = gh.get(f"/repos/acme/checkout-service/actions/runs/{run.id}/jobs", params={"filter": "all"}).json()
    assert {j["run_attempt"] for j in latest["jobs"]} == {2}
    assert {j["run_attempt"] for j in every["jobs"]} == {1, 2}
    first = gh.get(f"/repos/acme/checkout-service/actions/runs/{run.id}/attempts/1").json()
    assert first["conclusion"] == "failure" and first["run_attempt"] == 1
