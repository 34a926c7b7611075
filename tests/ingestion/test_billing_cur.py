"""AWS CUR -> FOCUS: every line-item type of the mapping table (shared/reference/cost-data.md §2), CUR 2.0
Parquet and legacy CUR CSV alike."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.ingestion.billing_helpers import loader

SP = "arn:aws:savingsplans::1:savingsplan/sp-1"
RI = "arn:aws:ec2:eu-west-2:1:reserved-instances/ri-1"
D = Decimal


def _line(kind: str, unblended: str, **extra: Any) -> dict[str, Any]:
    row = {
        "identity_line_item_id": f"{kind}-{len(extra)}",
        "bill_payer_account_id": "999999999999",
        "bill_billing_period_start_date": datetime(2026, 4, 1, tzinfo=UTC),
        "bill_billing_period_end_date": datetime(2026, 5, 1, tzinfo=UTC),
        "line_item_line_item_type": kind,
        "line_item_usage_start_date": datetime(2026, 4, 3, tzinfo=UTC),
        "line_item_usage_end_date": datetime(2026, 4, 3, 1, tzinfo=UTC),
        "line_item_usage_account_id": "888888888888",
        "line_item_product_code": "AmazonEC2",
        "line_item_resource_id": "i-1",
        "line_item_usage_amount": D("1"),
        "line_item_unblended_cost": D(unblended),
        "line_item_currency_code": "USD",
        "pricing_public_on_demand_cost": None,
        "savings_plan_savings_plan_a_r_n": None,
        "savings_plan_savings_plan_effective_cost": None,
        "savings_plan_total_commitment_to_date": None,
        "savings_plan_used_commitment": None,
        "reservation_reservation_a_r_n": None,
        "reservation_effective_cost": None,
        "reservation_unused_amortized_upfront_fee_for_billing_period": None,
        "reservation_unused_recurring_fee": None,
        "resource_tags": [],
    }
    row.update({k: D(v) if isinstance(v, str) and k not in _TEXT else v for k, v in extra.items()})
    return row


_TEXT = {"savings_plan_savings_plan_a_r_n", "reservation_reservation_a_r_n", "line_item_resource_id"}

# (line item, expected ChargeCategory, BilledCost, EffectiveCost)
LINES: list[tuple[dict[str, Any], str, str, str]] = [
    (
        _line("Usage", "2.00", pricing_public_on_demand_cost="2.00", resource_tags=[("user_Team", "search")]),
        "Usage",
        "2.00",
        "2.00",
    ),
    # Savings Plan: the covered usage shows on-demand cost, the negation cancels it, the fee bills the commitment
    (
        _line(
            "SavingsPlanCoveredUsage",
            "3.00",
            savings_plan_savings_plan_a_r_n=SP,
            savings_plan_savings_plan_effective_cost="2.00",
            pricing_public_on_demand_cost="3.00",
        ),
        "Usage",
        "3.00",
        "2.00",
    ),
    (_line("SavingsPlanNegation", "-3.00", savings_plan_savings_plan_a_r_n=SP), "Usage", "-3.00", "0"),
    (
        _line(
            "SavingsPlanRecurringFee",
            "2.50",
            savings_plan_savings_plan_a_r_n=SP,
            savings_plan_total_commitment_to_date="2.50",
            savings_plan_used_commitment="2.00",
            line_item_resource_id=SP,
        ),
        "Purchase",
        "2.50",
        "0.50",
    ),
    (_line("SavingsPlanUpfrontFee", "100.00", savings_plan_savings_plan_a_r_n=SP), "Purchase", "100.00", "0"),
    # Reserved instance, all upfront: the fee is billed once, usage carries the amortised share
    (_line("Fee", "876.00", reservation_reservation_a_r_n=RI), "Purchase", "876.00", "0"),
    (
        _line(
            "DiscountedUsage",
            "0",
            reservation_reservation_a_r_n=RI,
            reservation_effective_cost="0.10",
            pricing_public_on_demand_cost="0.20",
        ),
        "Usage",
        "0",
        "0.10",
    ),
    (
        _line(
            "RIFee",
            "1.00",
            reservation_reservation_a_r_n=RI,
            reservation_unused_amortized_upfront_fee_for_billing_period="0.30",
            reservation_unused_recurring_fee="0.20",
        ),
        "Purchase",
        "1.00",
        "0.50",
    ),
    (_line("Fee", "15.00"), "Purchase", "15.00", "15.00"),  # e.g. a domain registration: no reservation
    (_line("Credit", "-5.00"), "Credit", "-5.00", "-5.00"),
    (_line("Refund", "-1.50"), "Adjustment", "-1.50", "-1.50"),
    (_line("Tax", "4.00"), "Tax", "4.00", "4.00"),
    (_line("EdpDiscount", "-0.20"), "Usage", "-0.20", "-0.20"),
]


def _schema() -> pa.Schema:
    fields = []
    for name, value in LINES[0][0].items():
        if name == "resource_tags":
            fields.append((name, pa.map_(pa.string(), pa.string())))
        elif isinstance(value, datetime):
            fields.append((name, pa.timestamp("ms", tz="UTC")))
        elif isinstance(value, Decimal) or name in {
            "pricing_public_on_demand_cost",
            "savings_plan_savings_plan_effective_cost",
            "savings_plan_total_commitment_to_date",
            "savings_plan_used_commitment",
            "reservation_effective_cost",
            "reservation_unused_amortized_upfront_fee_for_billing_period",
            "reservation_unused_recurring_fee",
        }:
            fields.append((name, pa.decimal128(18, 6)))
        else:
            fields.append((name, pa.string()))
    return pa.schema(fields)


LEGACY = {
    "identity_line_item_id": "identity/LineItemId",
    "bill_payer_account_id": "bill/PayerAccountId",
    "bill_billing_period_start_date": "bill/BillingPeriodStartDate",
    "bill_billing_period_end_date": "bill/BillingPeriodEndDate",
    "line_item_line_item_type": "lineItem/LineItemType",
    "line_item_usage_start_date": "lineItem/UsageStartDate",
    "line_item_usage_end_date": "lineItem/UsageEndDate",
    "line_item_usage_account_id": "lineItem/UsageAccountId",
    "line_item_product_code": "lineItem/ProductCode",
    "line_item_resource_id": "lineItem/ResourceId",
    "line_item_usage_amount": "lineItem/UsageAmount",
    "line_item_unblended_cost": "lineItem/UnblendedCost",
    "line_item_currency_code": "lineItem/CurrencyCode",
    "pricing_public_on_demand_cost": "pricing/publicOnDemandCost",
    "savings_plan_savings_plan_a_r_n": "savingsPlan/SavingsPlanARN",
    "savings_plan_savings_plan_effective_cost": "savingsPlan/SavingsPlanEffectiveCost",
    "savings_plan_total_commitment_to_date": "savingsPlan/TotalCommitmentToDate",
    "savings_plan_used_commitment": "savingsPlan/UsedCommitment",
    "reservation_reservation_a_r_n": "reservation/ReservationARN",
    "reservation_effective_cost": "reservation/EffectiveCost",
    "reservation_unused_amortized_upfront_fee_for_billing_period": (
        "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"
    ),
    "reservation_unused_recurring_fee": "reservation/UnusedRecurringFee",
}


def _write(tmp_path: Path, fmt: str) -> Path:
    drop = tmp_path / "drop"
    rows = [line for line, *_ in LINES]
    if fmt == "cur2":
        path = drop / "aws" / "cur2" / "2026-04" / "cur.parquet"
        path.parent.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=_schema()), path)
    else:
        path = drop / "aws" / "cur" / "2026-04" / "cur.csv"
        path.parent.mkdir(parents=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([*LEGACY.values(), "resourceTags/user:Team"])
            for row in rows:
                values = [
                    v.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(v, datetime) else ("" if v is None else str(v))
                    for k, v in row.items()
                    if k in LEGACY
                ]
                writer.writerow([*values, dict(row["resource_tags"]).get("user_Team", "")])
    return drop


@pytest.fixture(params=["cur2", "cur"])
def loaded(request: pytest.FixtureRequest, tmp_path: Path):
    billing = loader()
    [result] = billing.load_drop(_write(tmp_path, request.param))
    assert result.status == "loaded", result.reason
    return billing.con


def test_each_line_item_type_maps_to_focus(loaded) -> None:
    got = loaded.execute(
        "select x_line_item_type, ChargeCategory, BilledCost, EffectiveCost from raw_billing.cost_lines "
        "order by x_source_row"
    ).fetchall()
    expected = [(line["line_item_line_item_type"], cat, D(b), D(e)) for line, cat, b, e in LINES]
    assert got == expected


def test_savings_plan_negation_and_covered_usage_do_not_double_count(loaded) -> None:
    billed, effective, listed = loaded.execute(
        "select sum(BilledCost), sum(EffectiveCost), sum(ListCost) from raw_billing.cost_lines "
        "where x_line_item_type in ('SavingsPlanCoveredUsage', 'SavingsPlanNegation', 'SavingsPlanRecurringFee')"
    ).fetchone()
    assert billed == D("2.50")  # what was invoiced: the commitment
    assert effective == D("2.50")  # used (2.00 on the usage) + unused (0.50 on the fee), not 2.00 + 3.00
    commitment = loaded.execute(
        "select CommitmentDiscountId, CommitmentDiscountStatus, PricingCategory from raw_billing.cost_lines "
        "where x_line_item_type = 'SavingsPlanCoveredUsage'"
    ).fetchone()
    assert commitment == (SP, "Used", "Committed")
    assert listed == D("3.00") + D("0") + D("2.50")


def test_upfront_fee_is_not_counted_twice_in_effective_cost(loaded) -> None:
    billed, effective = loaded.execute(
        "select sum(BilledCost), sum(EffectiveCost) from raw_billing.cost_lines where CommitmentDiscountId = ?",
        [RI],
    ).fetchone()
    assert billed == D("877.00")  # upfront fee + recurring fee, as invoiced
    assert effective == D("0.60")  # amortised usage 0.10 + unused 0.50; the upfront Fee row carries 0


def test_cur_tags_strip_the_user_prefix_and_normalise(loaded) -> None:
    tags = loaded.execute(
        "select Tags::varchar, x_tags from raw_billing.cost_lines where x_line_item_type = 'Usage'"
    ).fetchone()
    assert tags == ('{"Team":"search"}', {"team": "search"})
    header = loaded.execute(
        "select distinct BillingAccountId, SubAccountId, ServiceProviderName, x_scope from raw_billing.cost_lines"
    ).fetchall()
    assert header == [("999999999999", "888888888888", "AWS", "999999999999")]
