"""Stories: every one is published as ground truth, and the PR-level ones show up in the data."""

from __future__ import annotations

import json
from datetime import timedelta
from statistics import median

import pytest

from simulation.company import Company, generate_company
from tests.simulation.conftest import ANCHOR

EVERY_STORY = {
    "payments_deploys_and_failures_rise",
    "payments_pr_throughput_rises",
    "search_review_pickup_slows",
    "platform_incident_recovery_improves",
    "checkout_flaky_test",
    "payment_gateway_timeout_recurring",
    "ops_p1_share_climbs",
    "payments_unplanned_work_rises",
    "vector_db_appears_on_bill",
    "data_platform_cost_grows_with_usage",
    "idle_dev_cluster",
    "unused_saas_seats",
    "untagged_spend",
}


@pytest.fixture(scope="module")
def full_history() -> Company:
    """Scale 1 over 120 days: enough PRs for medians to be stable."""
    return generate_company(seed=42, scale=1.0, anchor=ANCHOR, history_days=120)


def test_ground_truth_lists_every_story_as_json(full_history: Company) -> None:
    truth = full_history.ground_truth()
    assert set(truth) == EVERY_STORY
    assert json.loads(json.dumps(truth)) == truth
    for story_id, story in truth.items():
        assert story["id"] == story_id
        assert story["start"] and story["consumer"] and story["domain"]
        assert story["params"] and story["expected"]
    search = truth["search_review_pickup_slows"]
    assert search["team"] == "search"
    assert search["expected"]["ratio_after_vs_before"] == 2.0
    assert truth["checkout_flaky_test"]["params"]["failure_rate"] == 0.15
    assert truth["checkout_flaky_test"]["service"] == "checkout-service"
    assert truth["untagged_spend"]["params"]["untagged_share"] == 0.08
    assert truth["payment_gateway_timeout_recurring"]["params"]["incident_title"] == "Payment gateway timeout"
    assert truth["vector_db_appears_on_bill"]["expected"]["month"] == "2026-01"


def _pickup_hours(company: Company, team: str, start, end) -> list[float]:  # type: ignore[no-untyped-def]
    hours = []
    for repo in company.repos:
        if repo.team_key != team:
            continue
        for pr in company.pull_requests(repo.full_name):
            first = pr.first_review_at
            if first is not None and start <= pr.ready_at < end and first <= company.now:
                hours.append((first - pr.ready_at).total_seconds() / 3600)
    return hours


def _pickup_ratio(company: Company, team: str) -> float:
    window = timedelta(days=30)
    early = _pickup_hours(company, team, company.history_start, company.history_start + window)
    late = _pickup_hours(company, team, company.anchor - window, company.anchor)
    assert len(early) > 100 and len(late) > 100
    return median(late) / median(early)


def test_search_review_pickup_doubles_over_the_history(full_history: Company) -> None:
    assert 1.6 <= _pickup_ratio(full_history, "search") <= 2.5
    for team in ("payments", "platform"):
        assert 0.75 <= _pickup_ratio(full_history, team) <= 1.33, team


def test_payments_merges_more_and_smaller_prs_in_the_last_six_weeks(full_history: Company) -> None:
    def human_prs(team: str, start, end) -> list:  # type: ignore[no-untyped-def]
        return [
            pr
            for repo in full_history.repos
            if repo.team_key == team
            for pr in full_history.pull_requests(repo.full_name)
            if start <= pr.created_at < end and not pr.author_login.endswith("[bot]")
        ]

    anchor, start = full_history.anchor, full_history.history_start
    early = human_prs("payments", start, start + timedelta(days=42))
    late = human_prs("payments", anchor - timedelta(days=21), anchor)
    assert (len(late) / 3) / (len(early) / 6) > 1.35, "weekly throughput rises"
    assert median(pr.additions for pr in late) < 0.8 * median(pr.additions for pr in early)
    control_early = human_prs("platform", start, start + timedelta(days=42))
    control_late = human_prs("platform", anchor - timedelta(days=21), anchor)
    assert 0.75 < (len(control_late) / 3) / (len(control_early) / 6) < 1.3
