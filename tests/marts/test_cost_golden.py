"""Golden tests of the cost marts, end to end: billing files -> loader -> dbt build -> marts (dbt as a subprocess).

* The FOCUS 1.2 specification's worked examples keep their EffectiveCost totals through categorisation, pool
  splits and daily grouping (fct_cost_daily, cost_by_category_monthly), and the dbt data tests of the cost models
  (variance reconciles exactly, shared splits sum exactly, totals preserved) pass on them.
* Money in two currencies is converted with the FX seed before it is summed, and a currency without an FX rate
  fails the build instead of being summed raw.

Uses private --target-path/--log-path so it never clashes with other dbt runs on the same checkout.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ingestion.billing import BillingLoader
from ingestion.catalog import ensure_raw_tables
from tests.dbt_run import DBT_PROJECT, dbt_build
from tests.ingestion.billing_helpers import focus_row, write_csv

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "tests" / "ingestion" / "fixtures" / "focus_spec_examples"
# Two examples carry an impossible timestamp in the spec itself and are quarantined by the loader
# (tests/ingestion/test_billing_focus.py); they never reach the marts.
INVALID_IN_SPEC = {"commitment_discount_purchase_scenario_2", "commitment_discount_purchase_scenario_3"}
COST_MARTS = (
    "+cost_by_category_monthly +cost_variance_monthly +cost_coverage_monthly +cost_unallocated_items_monthly "
    "+unit_costs_monthly"
)


def _money(text: str) -> Decimal:
    return Decimal(text.strip().replace("$", "").replace(",", ""))


def _example_rows(example: Path) -> tuple[list[str], list[dict[str, str]]]:
    with example.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [row for row in reader if any((value or "").strip() for value in row.values())]
        return list(reader.fieldnames or []), rows


def _copy_example(example: Path, drop: Path) -> None:
    """One drop provider folder per example, so no example's delivery supersedes another's. The commitment
    examples omit BillingCurrency (mandatory in FOCUS; their amounts are USD): it is added, amounts untouched."""
    target = drop / example.stem / "focus" / example.name
    target.parent.mkdir(parents=True)
    header, rows = _example_rows(example)
    if "BillingCurrency" in header:
        shutil.copy(example, target)
        return
    write_csv(target, [{**row, "BillingCurrency": "USD"} for row in rows], header=[*header, "BillingCurrency"])


def _fx_rate(currency: str, month: str) -> Decimal:
    with (DBT_PROJECT / "seeds" / "fx_rates.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if (row["currency"], row["reporting_currency"], row["month"]) == (currency, "USD", f"{month}-01"):
                return Decimal(row["rate"])
    raise AssertionError(f"seeds/fx_rates.csv has no {currency}->USD rate for {month}")


def _load(drop: Path, warehouse: Path) -> None:
    """The billing drop loaded, and every other source's raw tables empty, as the pipeline leaves a warehouse with
    billing as its only source (ingestion/catalog.py): the cost marts also read Jira effort, CI and deployments."""
    with duckdb.connect(str(warehouse)) as con:
        results = BillingLoader(con).load_drop(drop)
        ensure_raw_tables(con)
    quarantined = [r for r in results if r.status != "loaded" and r.relative_path.split("/")[0] not in INVALID_IN_SPEC]
    assert not quarantined, quarantined


@pytest.fixture(scope="module")
def dbt_work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One target folder for the module's dbt runs, so the second one reuses the first one's parse."""
    return tmp_path_factory.mktemp("cost_dbt")


def _dbt_build(warehouse: Path, work: Path, select: str) -> subprocess.CompletedProcess[str]:
    # only the tests of what is built: a seed the cost models share (teams) also carries other marts' tests
    return dbt_build(warehouse, work, "--select", *select.split(), "--indirect-selection", "cautious")


@pytest.fixture(scope="module")
def examples_warehouse(tmp_path_factory: pytest.TempPathFactory, dbt_work: Path) -> Path:
    """Every valid FOCUS spec example, plus a USD and a EUR line of March 2026, loaded and built into the marts."""
    work = tmp_path_factory.mktemp("cost_golden")
    drop = work / "drop"
    for example in sorted(EXAMPLES.glob("*.csv")):
        if example.stem not in INVALID_IN_SPEC:
            _copy_example(example, drop)
    write_csv(
        drop / "currencies" / "focus" / "mixed.csv",
        [
            focus_row(3, "10.00", BillingAccountId="usd-account", BillingCurrency="USD"),
            focus_row(4, "100.00", BillingAccountId="eur-account", BillingCurrency="EUR"),
        ],
    )
    warehouse = work / "warehouse.duckdb"
    _load(drop, warehouse)
    result = _dbt_build(warehouse, dbt_work, COST_MARTS)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "ERROR=0" in result.stdout
    return warehouse


def test_focus_spec_examples_keep_their_effective_cost_totals(examples_warehouse: Path) -> None:
    """Per worked example, the spec's EffectiveCost total is what fct_cost_daily holds (billing and reporting
    currency), and all examples together are what cost_by_category_monthly reports as the bill over its months
    (its effective_cost also carries the shipped people_costs seed's loaded cost of those months)."""
    expected = {}
    for example in sorted(EXAMPLES.glob("*.csv")):
        if example.stem not in INVALID_IN_SPEC:
            _, rows = _example_rows(example)
            expected[example.stem] = sum((_money(r["EffectiveCost"]) for r in rows), Decimal(0))
    with duckdb.connect(str(examples_warehouse), read_only=True) as con:
        got = dict(
            con.execute(
                "select drop_provider, sum(effective_cost) from marts.fct_cost_daily "
                "where cost_source = 'billing' and drop_provider <> 'currencies' group by drop_provider"
            ).fetchall()
        )
        reporting = con.execute(
            "select sum(effective_cost_reporting) from marts.fct_cost_daily "
            "where cost_source = 'billing' and drop_provider <> 'currencies'"
        ).fetchone()[0]
        by_category = con.execute("select sum(billing_effective_cost) from marts.cost_by_category_monthly").fetchone()[
            0
        ]
        currencies = con.execute(
            "select sum(effective_cost_reporting) from marts.fct_cost_daily where drop_provider = 'currencies'"
        ).fetchone()[0]

    assert got == expected
    assert reporting == sum(expected.values())  # every example is in USD, the reporting currency
    assert by_category == sum(expected.values()) + currencies


def test_a_second_currency_is_converted_before_it_is_summed(examples_warehouse: Path) -> None:
    """100.00 EUR of March 2026 counts as 100.00 x the seed's EUR->USD rate for March, next to 10.00 USD."""
    rate = _fx_rate("EUR", "2026-03")
    with duckdb.connect(str(examples_warehouse), read_only=True) as con:
        lines = con.execute(
            "select billing_currency, effective_cost, fx_rate, effective_cost_reporting from marts.fct_cost_daily "
            "where drop_provider = 'currencies' order by billing_currency"
        ).fetchall()
        march = con.execute(
            "select sum(billing_effective_cost) from marts.cost_by_category_monthly "
            "where month_start = date '2026-03-01'"
        ).fetchone()[0]
        march_examples = con.execute(
            "select coalesce(sum(effective_cost_reporting), 0) from marts.fct_cost_daily "
            "where charge_month = date '2026-03-01' and cost_source = 'billing' and drop_provider <> 'currencies'"
        ).fetchone()[0]

    assert lines == [
        ("EUR", Decimal("100.00"), rate, Decimal("100.00") * rate),
        ("USD", Decimal("10.00"), Decimal(1), Decimal("10.00")),
    ]
    assert march - march_examples == Decimal("10.00") + Decimal("100.00") * rate
    assert rate != 1  # a raw sum would have been 110.00


def test_a_currency_without_fx_rate_fails_the_build_and_nothing_is_summed(tmp_path: Path, dbt_work: Path) -> None:
    """A GBP line next to a USD one: no GBP->USD rate in the seed, so the build stops with the currency and month
    named, and no cost mart is written."""
    drop = tmp_path / "drop"
    write_csv(
        drop / "aws" / "focus" / "mixed.csv",
        [
            focus_row(3, "10.00", BillingAccountId="usd-account", BillingCurrency="USD"),
            focus_row(4, "100.00", BillingAccountId="gbp-account", BillingCurrency="GBP"),
        ],
    )
    warehouse = tmp_path / "warehouse.duckdb"
    _load(drop, warehouse)

    result = _dbt_build(warehouse, dbt_work, COST_MARTS)

    assert result.returncode != 0
    assert "no FX rate from GBP to USD for 2026-03" in result.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        marts = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    assert marts.isdisjoint({"fct_cost_daily", "cost_by_category_monthly", "cost_variance_monthly"})
