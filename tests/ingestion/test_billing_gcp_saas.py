"""GCP billing export (nested credits) and SaaS invoices mapped to FOCUS."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from tests.ingestion.billing_helpers import loader, write_csv


def _gcp_record(cost: float, credits: list[float], **extra: object) -> dict[str, object]:
    record: dict[str, object] = {
        "billing_account_id": "01-GCP",
        "service": {"id": "6F81", "description": "Compute Engine"},
        "sku": {"id": "CP-1", "description": "N2 core"},
        "usage_start_time": "2026-04-02 00:00:00 UTC",
        "usage_end_time": "2026-04-03 00:00:00 UTC",
        "project": {"id": "proj-search", "number": "1", "name": "Search"},
        "labels": [{"key": "Team", "value": "search"}, {"key": "cost-center", "value": "cc-1"}],
        "cost": cost,
        "currency": "USD",
        "usage": {"amount": 3600, "unit": "seconds", "amount_in_pricing_units": 1, "pricing_unit": "hour"},
        "credits": [{"name": "SUD", "amount": c, "type": "SUSTAINED_USAGE_DISCOUNT"} for c in credits],
        "invoice": {"month": "202604"},
        "cost_type": "regular",
    }
    record.update(extra)
    return record


def test_gcp_export_credits_are_netted_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "drop" / "gcp" / "export" / "2026-04.jsonl"
    path.parent.mkdir(parents=True)
    records = [
        _gcp_record(10.0, [-2.0, -0.5]),
        _gcp_record(4.0, []),
        _gcp_record(1.25, [], cost_type="tax"),
        _gcp_record(-3.0, [], cost_type="adjustment", usage_start_time="2026-02-10 00:00:00 UTC"),
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    billing = loader()

    [result] = billing.load_drop(tmp_path / "drop")

    assert result.status == "loaded", result.reason
    rows = billing.con.execute(
        "select BilledCost, EffectiveCost, x_cost_before_credits, x_credits_amount, ChargeCategory, ChargeClass, "
        "strftime(BillingPeriodStart, '%Y-%m'), SubAccountId, x_tags from raw_billing.cost_lines order by x_source_row"
    ).fetchall()
    tags = {"team": "search", "cost_center": "cc-1"}
    assert rows == [
        (
            Decimal("7.50"),
            Decimal("7.50"),
            Decimal("10.00"),
            Decimal("-2.50"),
            "Usage",
            None,
            "2026-04",
            "proj-search",
            tags,
        ),
        (
            Decimal("4.00"),
            Decimal("4.00"),
            Decimal("4.00"),
            Decimal("0"),
            "Usage",
            None,
            "2026-04",
            "proj-search",
            tags,
        ),
        (Decimal("1.25"), Decimal("1.25"), Decimal("1.25"), Decimal("0"), "Tax", None, "2026-04", "proj-search", tags),
        (
            Decimal("-3.00"),
            Decimal("-3.00"),
            Decimal("-3.00"),
            Decimal("0"),
            "Adjustment",
            "Correction",
            "2026-04",
            "proj-search",
            tags,
        ),
    ]
    credits = json.loads(billing.con.execute("select x_credits from raw_billing.cost_lines limit 1").fetchone()[0])
    assert [c["amount"] for c in credits] == [-2.0, -0.5]


def test_gcp_export_row_without_cost_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "drop" / "gcp" / "export" / "bad.jsonl"
    path.parent.mkdir(parents=True)
    broken = _gcp_record(1.0, [])
    del broken["cost"]
    path.write_text(json.dumps(_gcp_record(1.0, [])) + "\n" + json.dumps(broken) + "\n", encoding="utf-8")

    [result] = loader().load_drop(tmp_path / "drop")

    assert result.status == "quarantined"
    assert (
        result.reason == "gcp/export/bad.jsonl: column cost: empty at data row 2 (line 3); 1 column(s) with bad values"
    )


def test_saas_invoices_map_to_focus_in_their_own_currency(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    header = ["invoice_id", "vendor", "product", "period", "seats", "unit_price", "amount", "currency"]
    write_csv(
        drop / "saas/invoices/atlassian/2026-04.csv",
        [dict(zip(header, ["A-1", "Atlassian", "Jira", "2026-04", "140", "14.50", "2030.00", "eur"], strict=True))],
    )
    write_csv(
        drop / "saas/invoices/miro/2026-04.csv",
        [dict(zip(header, ["M-1", "Miro", "Miro Business", "2026-04", "80", "16", "1280", "USD"], strict=True))],
    )
    billing = loader()

    results = billing.load_drop(drop)

    assert [r.status for r in results] == ["loaded", "loaded"]
    rows = billing.con.execute(
        "select InvoiceIssuerName, ServiceName, BillingCurrency, BilledCost, EffectiveCost, ListCost, PricingQuantity, "
        "ChargeCategory, strftime(BillingPeriodStart, '%Y-%m-%d'), strftime(BillingPeriodEnd, '%Y-%m-%d'), x_scope "
        "from raw_billing.cost_lines order by 1"
    ).fetchall()
    assert rows == [
        (
            "Atlassian",
            "Jira",
            "EUR",
            Decimal("2030.00"),
            Decimal("2030.00"),
            Decimal("2030.00"),
            Decimal("140"),
            "Purchase",
            "2026-04-01",
            "2026-05-01",
            "Atlassian/Atlassian",
        ),
        (
            "Miro",
            "Miro Business",
            "USD",
            Decimal("1280"),
            Decimal("1280"),
            Decimal("1280"),
            Decimal("80"),
            "Purchase",
            "2026-04-01",
            "2026-05-01",
            "Miro/Miro",
        ),
    ]
