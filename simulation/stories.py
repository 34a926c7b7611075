"""The company's stories: the trends and problems the pipeline's metrics, rankings and alerts must find.

Each story is data (parameters + the observable it should produce), anchored on the company's anchor
date, so the generators that honour it and the tests that check it read the same numbers. The
generators call the small hook methods on ``StoryBook`` (e.g. ``review_pickup_multiplier``);
``StoryBook.ground_truth()`` is what the simulator publishes at ``/_sim/ground_truth``.

Which generator consumes which story is named in ``Story.consumer``; only ``github.pull_requests``
exists today, the others are parameters for the CI, incident, Jira and billing generators to come.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from simulation.timefmt import iso_z

# Median hours from "ready for review" to first review, per team, before any story bends it.
BASELINE_PICKUP_HOURS: Mapping[str, float] = {
    "payments": 4.0,
    "search": 4.0,
    "platform": 8.0,
    "checkout": 5.0,
    "data-platform": 10.0,
}


@dataclass(frozen=True, slots=True)
class Ramp:
    """A value that moves linearly from ``before`` to ``after`` between two instants, flat outside."""

    start: datetime
    end: datetime
    before: float
    after: float

    def at(self, moment: datetime) -> float:
        if moment <= self.start:
            return self.before
        if moment >= self.end:
            return self.after
        fraction = (moment - self.start) / (self.end - self.start)
        return self.before + (self.after - self.before) * fraction

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": iso_z(self.start),
            "end": iso_z(self.end),
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True, slots=True)
class Story:
    id: str
    title: str
    domain: str  # delivery | ci | incidents | work | billing
    consumer: str  # the generator that honours it, e.g. "github.pull_requests", "billing"
    team_key: str | None
    service: str | None
    start: datetime
    end: datetime | None
    params: Mapping[str, Any] = field(default_factory=dict)
    expected: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "domain": self.domain,
            "consumer": self.consumer,
            "team": self.team_key,
            "service": self.service,
            "start": iso_z(self.start),
            "end": iso_z(self.end),
            "params": _jsonable(self.params),
            "expected": _jsonable(self.expected),
        }


class StoryBook:
    """All stories of one company plus the hooks generators use to honour them."""

    def __init__(self, stories: list[Story]) -> None:
        self._stories = {story.id: story for story in stories}

    def __iter__(self) -> Iterator[Story]:
        return iter(self._stories.values())

    def __contains__(self, story_id: object) -> bool:
        return story_id in self._stories

    def get(self, story_id: str) -> Story:
        return self._stories[story_id]

    def ids(self) -> list[str]:
        return list(self._stories)

    def ground_truth(self) -> dict[str, dict[str, Any]]:
        return {story.id: story.to_dict() for story in self}

    # -- hooks for the pull-request generator -------------------------------------------------
    def review_pickup_multiplier(self, team_key: str, moment: datetime) -> float:
        story = self._stories["search_review_pickup_slows"]
        if team_key != story.team_key:
            return 1.0
        return story.params["pickup_multiplier"].at(moment)

    def pr_rate_multiplier(self, team_key: str, moment: datetime) -> float:
        story = self._stories["payments_pr_throughput_rises"]
        if team_key != story.team_key:
            return 1.0
        return story.params["pr_rate_multiplier"].at(moment)

    def pr_size_multiplier(self, team_key: str, moment: datetime) -> float:
        story = self._stories["payments_pr_throughput_rises"]
        if team_key != story.team_key:
            return 1.0
        return story.params["pr_size_multiplier"].at(moment)


def build_stories(anchor: datetime, history_days: int) -> StoryBook:
    """Every story, dated relative to ``anchor`` (the end of history)."""
    start = anchor - timedelta(days=history_days)
    six_weeks_ago = anchor - timedelta(days=42)
    three_weeks_ago = anchor - timedelta(days=21)
    eight_weeks_ago = anchor - timedelta(days=56)
    window = timedelta(days=30)
    vector_month = _month_start((anchor - timedelta(days=40)).date())
    vector_first_day = vector_month.replace(day=12)

    pickup_base = BASELINE_PICKUP_HOURS["search"]
    stories = [
        Story(
            id="payments_deploys_and_failures_rise",
            title="Payments ships more often, and breaks production more often",
            domain="delivery",
            consumer="deployments",
            team_key="payments",
            service="payments-api",
            start=six_weeks_ago,
            end=anchor,
            # The rise takes three weeks and has held for the last three: an established trend, as a weekly
            # review would meet it (a ramp still climbing in the current week is mostly in the future for a
            # detector that reads whole weeks). 3 % → 30 % of regular deployments cause an incident; with the
            # deploy job's own failures and the rework deployments in the denominator, the team's weekly change
            # failure rate goes from about 7 % to about 24 %.
            params={
                "services": ["payments-api", "payments-gateway"],
                "deploys_per_week": Ramp(six_weeks_ago, three_weeks_ago, 4.0, 12.0),
                "change_failure_rate": Ramp(six_weeks_ago, three_weeks_ago, 0.03, 0.30),
            },
            expected={
                "metrics": ["deployment_frequency", "change_failure_rate"],
                "direction": "both rise",
                "deploys_per_week_before": 4.0,
                "deploys_per_week_after": 12.0,
                "change_failure_rate_before": 0.03,
                "change_failure_rate_after": 0.30,
            },
        ),
        Story(
            id="payments_pr_throughput_rises",
            title="Payments merges more, smaller pull requests (feeds its deployment-frequency rise)",
            domain="delivery",
            consumer="github.pull_requests",
            team_key="payments",
            service="payments-api",
            start=six_weeks_ago,
            end=anchor,
            params={
                "repos": ["acme/payments-api", "acme/payments-gateway"],
                "pr_rate_multiplier": Ramp(six_weeks_ago, anchor, 1.0, 1.8),
                "pr_size_multiplier": Ramp(six_weeks_ago, anchor, 1.0, 0.55),
            },
            expected={
                "metrics": ["prs_merged_per_week", "median_pr_size_lines"],
                "prs_per_week_ratio_after_vs_before": 1.8,
                "median_pr_size_ratio_after_vs_before": 0.55,
            },
        ),
        Story(
            id="search_review_pickup_slows",
            title="Search team review pickup time slowly doubles",
            domain="delivery",
            consumer="github.pull_requests",
            team_key="search",
            service="search-service",
            start=start + window,
            end=anchor - window,
            params={
                "repos": ["acme/search-service", "acme/search-indexer"],
                "baseline_pickup_hours": pickup_base,
                "pickup_multiplier": Ramp(start + window, anchor - window, 1.0, 2.0),
                "measured_as": "median hours from ready-for-review to first review, all PRs of the team",
            },
            expected={
                "metric": "review_pickup_time_p50_hours",
                "direction": "rises",
                "before_window": [iso_z(start), iso_z(start + window)],
                "after_window": [iso_z(anchor - window), iso_z(anchor)],
                "before_hours": pickup_base,
                "after_hours": pickup_base * 2.0,
                "ratio_after_vs_before": 2.0,
            },
        ),
        Story(
            id="platform_incident_recovery_improves",
            title="Platform restores service faster and faster",
            domain="incidents",
            consumer="incidents",
            team_key="platform",
            service="platform-infra",
            start=start,
            end=anchor,
            params={
                "time_to_restore_hours": Ramp(start, anchor, 6.0, 1.5),
                "incidents_per_month": 4,
            },
            expected={
                "metric": "time_to_restore_p50_hours",
                "direction": "falls",
                "before_hours": 6.0,
                "after_hours": 1.5,
            },
        ),
        Story(
            id="checkout_flaky_test",
            title="A flaky checkout-service test fails ~15% of CI runs and is retried",
            domain="ci",
            consumer="ci",
            team_key="checkout",
            service="checkout-service",
            start=start,
            end=None,
            params={
                "repo": "acme/checkout-service",
                "workflow": "ci",
                "job": "integration-tests",
                "test_name": "tests/integration/test_cart.py::test_apply_coupon_concurrently",
                "failure_rate": 0.15,
                "retries": 1,
                "job_minutes": 9,
            },
            expected={
                "metric": "flaky_run_share",
                "flaky_run_share": 0.15,
                "wasted_runner_minutes_per_flaky_run": 9,
            },
        ),
        Story(
            id="payment_gateway_timeout_recurring",
            title='Recurring "payment gateway timeout" incident',
            domain="incidents",
            consumer="incidents",
            team_key="payments",
            service="payments-gateway",
            start=start + timedelta(days=5),
            end=None,
            params={
                "incident_title": "Payment gateway timeout",
                "fingerprint": "payment-gateway-timeout",
                "interval_days": 9,
                "jitter_days": 2,
                "duration_minutes_median": 40,
                "severity": "SEV2",
                "urgency": "high",
            },
            expected={
                "metric": "recurring_problems.rank",
                "rank": 1,
                "occurrences_in_history": round((history_days - 5) / 9),
            },
        ),
        Story(
            id="ops_p1_share_climbs",
            title="The OPS Jira project's share of P1 tickets climbs",
            domain="work",
            consumer="jira",
            team_key="platform",
            service=None,
            start=eight_weeks_ago,
            end=anchor,
            params={"project_key": "OPS", "p1_share": Ramp(eight_weeks_ago, anchor, 0.08, 0.35)},
            expected={
                "metric": "work_mix_monthly.p1_share",
                "direction": "rises",
                "before": 0.08,
                "after": 0.35,
            },
        ),
        Story(
            id="payments_unplanned_work_rises",
            title="Payments spends a growing share of its time on unplanned work",
            domain="work",
            consumer="jira",
            team_key="payments",
            service=None,
            start=six_weeks_ago,
            end=anchor,
            params={
                "project_key": "PAY",
                "unplanned_share": Ramp(six_weeks_ago, anchor, 0.15, 0.45),
            },
            expected={
                "metric": "work_mix_monthly.unplanned_share",
                "direction": "rises",
                "before": 0.15,
                "after": 0.45,
            },
        ),
        Story(
            id="vector_db_appears_on_bill",
            title="A new vector-database service appears on the bill",
            domain="billing",
            consumer="billing",
            team_key="search",
            service="vector-db",
            start=_at_midnight(vector_first_day, anchor),
            end=None,
            params={
                "provider": "aws",
                "service_name": "Amazon OpenSearch Serverless",
                "resource_id": "vectordb-prod",
                "business_category": "Discovery",
                "first_usage_date": vector_first_day.isoformat(),
                "monthly_cost_usd": 3800.0,
            },
            expected={
                "metric": "cost_variance_monthly",
                "driver": "new_service",
                "month": vector_month.strftime("%Y-%m"),
                "category": "Discovery",
            },
        ),
        Story(
            id="data_platform_cost_grows_with_usage",
            title="Data platform cost grows with usage (unit cost flat)",
            domain="billing",
            consumer="billing",
            team_key="data-platform",
            service="data-pipelines",
            start=start,
            end=None,
            params={
                "usage_unit": "million events processed",
                "daily_usage_at_start": 1200.0,
                "usage_growth_per_month": 0.07,
                "unit_cost_usd": 0.9,
                "business_category": "Data",
            },
            expected={
                "metric": "cost_variance_monthly",
                "driver": "usage",
                "unit_cost_change": 0.0,
                "monthly_cost_growth": 0.07,
            },
        ),
        Story(
            id="idle_dev_cluster",
            title="An idle development cluster keeps billing",
            domain="billing",
            consumer="billing",
            team_key="platform",
            service=None,
            start=start,
            end=None,
            params={
                "provider": "aws",
                "service_name": "Amazon Elastic Kubernetes Service",
                "resource_id": "dev-cluster-eu-west-2",
                "environment": "dev",
                "monthly_cost_usd": 2650.0,
                "avg_cpu_utilisation": 0.03,
            },
            expected={
                "metric": "savings_opportunities",
                "kind": "idle_resource",
                "estimated_monthly_saving_usd": 2650.0,
            },
        ),
        Story(
            id="unused_saas_seats",
            title="Paid SaaS seats nobody uses",
            domain="billing",
            consumer="billing",
            team_key=None,
            service=None,
            start=start,
            end=None,
            params={
                "vendor": "Miro",
                "seats_purchased": 80,
                "seats_active": 47,
                "price_per_seat_month_usd": 16.0,
            },
            expected={
                "metric": "savings_opportunities",
                "kind": "unused_seats",
                "unused_seats": 33,
                "estimated_monthly_saving_usd": 33 * 16.0,
            },
        ),
        Story(
            id="untagged_spend",
            title="About 8% of cloud spend carries no team/cost tag",
            domain="billing",
            consumer="billing",
            team_key=None,
            service=None,
            start=start,
            end=None,
            params={"untagged_share": 0.08, "missing_tags": ["team", "cost-center"]},
            expected={"metric": "fct_cost_daily.allocation_method", "unallocated_share": 0.08},
        ),
    ]
    return StoryBook(stories)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _at_midnight(day: date, like: datetime) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=like.tzinfo)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Ramp):
        return value.to_dict()
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
