"""The cost marts find the simulated company's billing stories (simulation/stories.py) in the demo warehouse.

Ground truth comes from the stories' parameters and from the billing drop writer, never from the marts.
"""

from __future__ import annotations

import calendar
import csv
import math
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from simulation.billing_drop import write_billing_drop
from simulation.delivery_model import attempt_status
from tests.conftest import DemoRun

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"


def _seed(name: str) -> list[dict[str, str]]:
    """A seed as shipped: the configuration the marts were built with (input, not output)."""
    with (SEEDS / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def company(demo_run: DemoRun):
    return demo_run.company()


@pytest.fixture(scope="module")
def con(demo_run: DemoRun):
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as connection:
        yield connection


def test_vector_database_shows_as_new_capability_in_its_month(company, con) -> None:
    story = company.stories.get("vector_db_appears_on_bill")
    month = date.fromisoformat(story.expected["month"] + "-01")
    category = story.expected["category"]
    first_day = date.fromisoformat(story.params["first_usage_date"])
    days = calendar.monthrange(month.year, month.month)[1] - first_day.day + 1
    month_cost = story.params["monthly_cost_usd"] / 30 * days  # what the new service bills in its first month

    drivers = dict(
        con.execute(
            "select driver, amount from marts.cost_variance_monthly where business_category = ? and month_start = ?",
            [category, month],
        ).fetchall()
    )
    top_line = con.execute(
        "select top_line from marts.cost_variance_monthly "
        "where business_category = ? and month_start = ? and driver = 'new_capability'",
        [category, month],
    ).fetchone()[0]
    month_before = con.execute(
        "select coalesce(sum(amount), 0) from marts.cost_variance_monthly "
        "where business_category = ? and month_start = ? and driver = 'new_capability'",
        [category, date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)],
    ).fetchone()[0]
    first_billed = con.execute(
        "select min(charge_date) from marts.fct_cost_daily where resource_id = ?", [story.params["resource_id"]]
    ).fetchone()[0]

    assert first_billed == first_day
    assert story.params["resource_id"] in top_line
    # untagged days of the service go to Unallocated (untagged_spend story), so Discovery gets ~92 % of it
    assert 0.85 * month_cost <= float(drivers["new_capability"]) <= 1.02 * month_cost
    assert max(drivers, key=lambda driver: drivers[driver]) == "new_capability"
    assert month_before == 0


def test_data_platform_growth_shows_as_volume(company, con) -> None:
    story = company.stories.get("data_platform_cost_grows_with_usage")
    category = story.params["business_category"]
    rows = con.execute(
        "select month_start, driver, amount, effective_cost_change from marts.cost_variance_monthly "
        "where business_category = ? order by month_start, driver_order",
        [category],
    ).fetchall()
    by_month: dict[date, dict[str, float]] = {}
    change = 0.0
    for month, driver, amount, month_change in rows:
        by_month.setdefault(month, {})[driver] = float(amount)
        if driver == "volume":
            change += float(month_change)
    volume = sum(drivers["volume"] for drivers in by_month.values())
    rate = sum(drivers["rate"] for drivers in by_month.values())

    assert len(by_month) >= 5
    for month, drivers in by_month.items():  # usage, not price, moves the category every month
        assert max(drivers, key=lambda driver: abs(drivers[driver])) == "volume", (month, drivers)
    assert change > 0
    assert volume >= 0.9 * change  # growth is explained by usage...
    assert abs(rate) <= 0.01 * volume  # ...at a flat unit cost (unit_cost_change 0)


def _saving(con, kind: str, target: str) -> float:
    row = con.execute(
        "select estimated_monthly_saving from marts.savings_opportunities where kind = ? and target = ?",
        [kind, target],
    ).fetchone()
    assert row is not None, f"no {kind} opportunity for {target}"
    return float(row[0])


def test_idle_dev_cluster_is_on_the_savings_list(company, con) -> None:
    story = company.stories.get("idle_dev_cluster")
    saving = _saving(con, story.expected["kind"], story.params["resource_id"])

    assert saving == pytest.approx(story.expected["estimated_monthly_saving_usd"], rel=0.05)


def test_unused_saas_seats_are_on_the_savings_list(company, con) -> None:
    story = company.stories.get("unused_saas_seats")
    saving = _saving(con, story.expected["kind"], story.params["vendor"])

    assert saving == pytest.approx(story.expected["estimated_monthly_saving_usd"], rel=0.05)


def test_unallocated_share_matches_the_untagged_spend(company, con, tmp_path: Path) -> None:
    truth = write_billing_drop(company, tmp_path / "drop").untagged_share
    unallocated, usage = con.execute(
        "select sum(cloud_usage_unallocated_effective_cost), sum(cloud_usage_effective_cost) "
        "from marts.cost_coverage_monthly"
    ).fetchone()

    assert float(unallocated / usage) == pytest.approx(truth, abs=0.001)
    assert 0.05 < truth < 0.11  # the story's ~8 %, so the comparison means something


def _runner_rate(provider: str, label: str, day: date) -> float:
    """USD per minute of seeds/ci_runner_rates.csv for a runner label on a day (the price list, not a mart)."""
    for row in _seed("ci_runner_rates"):
        valid_to = date.fromisoformat(row["valid_to"]) if row["valid_to"] else date.max
        if (row["provider"], row["runner_label"]) == (provider, label) and (
            date.fromisoformat(row["valid_from"]) <= day < valid_to
        ):
            return float(row["usd_per_minute"])
    raise AssertionError(f"no rate for {provider} {label} on {day}")


def test_flaky_checkout_job_is_on_the_savings_list(company, con) -> None:
    """The flaky checkout test's wasted minutes are a saving: what the re-runs of the last 30 days threw away."""
    story = company.stories.get("checkout_flaky_test")
    repo, workflow, job = story.params["repo"], story.params["workflow"], story.params["job"]
    saving, window_start, as_of, evidence, category = con.execute(
        "select estimated_monthly_saving, window_start, as_of_date, evidence, business_category "
        "from marts.savings_opportunities where kind = 'flaky_ci_minutes' and target = ?",
        [f"{repo} / {workflow} / {job}"],
    ).fetchone()
    window_days = (as_of - window_start).days + 1

    # ground truth: attempts that failed only because of the flaky test, queued in the window and re-run (passed)
    # by the company clock; every job of such an attempt ran again (GitHub "re-run all jobs"), each billed rounded
    # up to the minute at the runner's list price
    lost_usd, flaky_attempts = 0.0, 0
    window = (
        datetime.combine(window_start, time(), tzinfo=UTC),
        datetime.combine(as_of + timedelta(days=1), time(), tzinfo=UTC),
    )
    for run in company.delivery.ci_runs(story.service):
        if run.workflow != workflow:
            continue
        attempts = run.attempts_at(company.now)
        for index, attempt in enumerate(attempts):
            revealed = any(
                attempt_status(later, company.now) == ("completed", "success") for later in attempts[index + 1 :]
            )
            if not (attempt.flaky_failure and revealed and window[0] <= attempt.created_at < window[1]):
                continue
            flaky_attempts += 1
            rate = _runner_rate("github_actions", "ubuntu-latest", attempt.created_at.date())
            lost_usd += sum(
                math.ceil((j.completed_at - j.started_at).total_seconds() / 60) * rate for j in attempt.jobs
            )
    # the same from the CI mart: ci_cost_lost_usd of the attempts in which the job flaked, in the window
    (mart_lost_usd,) = con.execute(
        """
        select sum(ci_cost_lost_usd) from marts.fct_ci_jobs
        where ci_attempt_key in (
            select ci_attempt_key from marts.fct_ci_jobs
            where repo = ? and workflow_name = ? and job_name = ? and is_flaky
        )
        and ci_attempt_key in (
            select ci_attempt_key from marts.fct_ci_jobs
            group by ci_attempt_key
            having cast(timezone('UTC', min(coalesce(created_at, started_at))) as date) between ? and ?
        )
        """,
        [repo, workflow, job, window_start, as_of],
    ).fetchone()

    assert flaky_attempts >= 5  # the story's ~15 % of runs, so the comparison means something
    assert float(saving) == pytest.approx(lost_usd * 30 / window_days, rel=0.01)
    assert float(saving) == pytest.approx(mart_lost_usd * 30 / window_days, rel=0.01)
    assert f"{job} of workflow {workflow} in {repo}" in evidence
    assert f"ran again {flaky_attempts} time(s)" in evidence
    assert category == "Commerce"  # checkout's category (teams seed)


def test_people_cost_is_attributed_to_categories(con) -> None:
    """Every month of cost data carries each team's loaded cost (seeds/people_costs.csv) in its category: the
    simulated teams only work on their own category's items, so the effort split gives each team's whole cost to
    its category (teams seed), exactly."""
    category_of = {row["team_key"]: row["business_category"] for row in _seed("teams")}
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for row in _seed("people_costs"):
        assert row["currency"] == "USD" and not row["valid_to"]  # the shipped values: flat, in USD
        expected[category_of[row["team_key"]]] += Decimal(row["loaded_monthly_cost"])

    rows = con.execute(
        "select month_start, business_category, people_effective_cost from marts.cost_by_category_monthly"
    ).fetchall()
    months = {month for month, _, _ in rows}
    people = {(month, category): cost for month, category, cost in rows}

    assert len(months) >= 6
    for month in months:
        for category, cost in expected.items():
            assert people.get((month, category)) == cost, (month, category)
        assert sum(cost for (m, _), cost in people.items() if m == month) == sum(expected.values())


def test_category_totals_are_cloud_saas_plus_people_plus_ci(con) -> None:
    """effective_cost of a category-month is its bill (cloud and SaaS lines, still analysable alone) plus people
    plus CI, each recomputed from the attributed lines; the bill alone still adds up to every billing line."""
    mismatches = con.execute(
        """
        with by_source as (
            select
                business_category,
                charge_month as month_start,
                coalesce(sum(effective_cost_reporting) filter (where cost_source = 'billing'), 0) as billing,
                coalesce(sum(effective_cost_reporting) filter (where cost_source = 'people'), 0) as people,
                coalesce(sum(effective_cost_reporting) filter (where cost_source = 'ci'), 0) as ci
            from marts.fct_cost_daily
            group by all
        )
        select categories.month_start, categories.business_category
        from marts.cost_by_category_monthly as categories
        left join by_source using (business_category, month_start)
        where categories.effective_cost <> coalesce(by_source.billing + by_source.people + by_source.ci, 0)
            or categories.billing_effective_cost <> coalesce(by_source.billing, 0)
            or categories.people_effective_cost <> coalesce(by_source.people, 0)
            or categories.ci_effective_cost <> coalesce(by_source.ci, 0)
        """
    ).fetchall()
    bill_by_month = con.execute(
        """
        select lines.month_start, lines.bill, categories.bill
        from (
            select charge_month as month_start, sum(effective_cost_reporting) as bill
            from intermediate.int_cost__lines_categorised group by all
        ) as lines
        full outer join (
            select month_start, sum(billing_effective_cost) as bill
            from marts.cost_by_category_monthly group by all
        ) as categories using (month_start)
        """
    ).fetchall()
    people_share = con.execute(
        "select sum(people_effective_cost) / sum(effective_cost) from marts.cost_by_category_monthly"
    ).fetchone()[0]

    assert mismatches == []
    assert all(lines == categories for _, lines, categories in bill_by_month), bill_by_month
    assert 0.5 < people_share < 0.95  # people are the largest line, as the issue says
