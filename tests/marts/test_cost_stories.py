"""The cost marts find the simulated company's billing stories (simulation/stories.py) in the demo warehouse.

Ground truth comes from the stories' parameters and from the billing drop writer, never from the marts.
"""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path

import duckdb
import pytest

from simulation.billing_drop import write_billing_drop
from tests.conftest import DemoRun


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
