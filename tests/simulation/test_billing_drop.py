"""The simulated bill: loading the drop reproduces the generator's ground truth, and the stories show."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ingestion.billing import load_drop, scan_drop_folder
from simulation.billing_drop import GroundTruth, write_billing_drop
from simulation.company import generate_company

ANCHOR = datetime(2026, 3, 2, tzinfo=UTC)


def _company():
    return generate_company(seed=7, scale=0.3, anchor=ANCHOR, history_days=60)


@pytest.fixture(scope="module")
def drop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth, duckdb.DuckDBPyConnection]:
    root = tmp_path_factory.mktemp("billing") / "drop"
    truth = write_billing_drop(_company(), root, months=5)  # 12 by default; 5 keeps the test fast
    con = duckdb.connect()
    load_drop(con, root)
    return root, truth, con


def test_loaded_drop_reproduces_ground_truth_totals_per_month_and_provider(drop) -> None:
    _, truth, con = drop
    got = {
        (month, provider, currency): {"billed": billed, "effective": effective}
        for month, provider, currency, billed, effective in con.execute(
            "select strftime(x_billing_period, '%Y-%m'), split_part(x_dataset, '/', 1), BillingCurrency, "
            "sum(BilledCost), sum(EffectiveCost) from raw_billing.cost_lines group by all"
        ).fetchall()
    }
    assert got == truth.totals
    assert sorted({m for m, _, _ in truth.totals}) == truth.months
    assert len(truth.months) == 5
    assert {p for _, p, _ in truth.totals} == {"aws", "gcp", "saas"}
    assert ("2026-01", "saas", "EUR") in truth.totals


def test_open_month_is_delivered_three_times_growing_and_only_the_last_counts(drop) -> None:
    root, truth, con = drop
    assert truth.open_month == "2026-02"
    for dataset, paths in truth.open_month_deliveries.items():
        assert len(paths) == 3, dataset
        sizes = [(root / p).stat().st_size for p in paths]
        assert sizes == sorted(sizes) and len(set(sizes)) == 3, dataset
        states = dict(con.execute("select path, status from meta.billing_files").fetchall())
        assert [states[p] for p in paths] == ["superseded", "superseded", "loaded"]


def test_correction_and_malformed_file_behave_as_delivered(drop) -> None:
    _, truth, con = drop
    correction = con.execute(
        "select strftime(BillingPeriodStart, '%Y-%m'), strftime(ChargePeriodStart, '%Y-%m'), BilledCost "
        "from raw_billing.cost_lines where ChargeClass = 'Correction'"
    ).fetchall()
    assert correction == [
        (
            truth.correction["billing_period"],
            truth.correction["charge_period"],
            Decimal(truth.correction["billed_cost"]),
        )
    ]
    status, reason = con.execute(
        "select status, reason from meta.billing_files where path = ?", [truth.malformed["path"]]
    ).fetchone()
    assert status == "quarantined"
    assert f"column {truth.malformed['column']}: not a number" in reason
    assert f"at data row {truth.malformed['row']} " in reason


def test_billing_stories_are_in_the_bill(drop) -> None:
    _, truth, con = drop
    vector = truth.stories["vector_db_appears_on_bill"]["params"]
    first_day, months = con.execute(
        "select min(ChargePeriodStart)::date, count(distinct x_billing_period) from raw_billing.cost_lines "
        "where ResourceId = ?",
        [vector["resource_id"]],
    ).fetchone()
    assert first_day == date.fromisoformat(vector["first_usage_date"])
    assert months == 2  # its first month and the open month
    idle = truth.stories["idle_dev_cluster"]["params"]
    monthly = con.execute(
        "select sum(EffectiveCost) from raw_billing.cost_lines "
        "where ResourceId = ? and x_billing_period = '2026-01-01'",
        [idle["resource_id"]],
    ).fetchone()[0]
    assert abs(float(monthly) - idle["monthly_cost_usd"] * 31 / 30) < 0.03 * idle["monthly_cost_usd"]
    seats = con.execute(
        "select PricingQuantity, x_extra ->> 'active_seats' from raw_billing.cost_lines "
        "where InvoiceIssuerName = 'Miro' and x_billing_period = '2026-01-01'"
    ).fetchone()
    assert seats == (Decimal(80), "47")
    data = con.execute(
        "select x_billing_period, sum(PricingQuantity) / count(distinct ChargePeriodStart) from raw_billing.cost_lines "
        "where x_line_item_type = 'Usage' and ServiceName = 'AmazonEMR' group by 1 order by 1"
    ).fetchall()
    growth = float(data[-2][1] / data[-3][1]) - 1
    assert 0.05 < growth < 0.09
    untagged = con.execute(
        "select sum(EffectiveCost) filter (where x_tags is null) / sum(EffectiveCost) from raw_billing.cost_lines "
        "where split_part(x_dataset, '/', 1) in ('aws', 'gcp') and ChargeCategory = 'Usage' and ResourceId is not null "
        "and x_line_item_type is distinct from 'SavingsPlanNegation'"
    ).fetchone()[0]
    assert 0.07 < float(untagged) < 0.09
    assert abs(truth.untagged_share - float(untagged)) < 0.01
    keys = {
        k
        for (t,) in con.execute("select Tags from raw_billing.cost_lines where Tags is not null").fetchall()
        for k in json.loads(t)
    }
    assert {"Team", "team", " TEAM "} <= keys


def test_the_drop_is_deterministic(tmp_path: Path) -> None:
    first = write_billing_drop(_company(), tmp_path / "a", months=4)
    second = write_billing_drop(_company(), tmp_path / "b", months=4)
    assert first.totals == second.totals
    hashes_a = [(f.relative_path, f.content_hash) for f in scan_drop_folder(tmp_path / "a")]
    hashes_b = [(f.relative_path, f.content_hash) for f in scan_drop_folder(tmp_path / "b")]
    assert hashes_a == hashes_b
