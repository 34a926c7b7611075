"""Small builders shared by the billing tests: FOCUS rows, a drop folder, a loaded warehouse."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from ingestion.billing import BillingLoader

FOCUS_12_HEADER = [
    "BillingAccountId",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "BillingCurrency",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "ServiceCategory",
    "ServiceName",
    "ResourceId",
    "Tags",
]


def focus_row(day: int, cost: str, month: str = "2026-03", **overrides: str) -> dict[str, str]:
    year, mon = (int(x) for x in month.split("-"))
    next_month = f"{year + mon // 12}-{mon % 12 + 1:02d}"
    row = {
        "BillingAccountId": "acct-1",
        "BillingPeriodStart": f"{month}-01T00:00:00Z",
        "BillingPeriodEnd": f"{next_month}-01T00:00:00Z",
        "ChargePeriodStart": f"{month}-{day:02d}T00:00:00Z",
        "ChargePeriodEnd": f"{month}-{day:02d}T23:59:59Z",
        "BillingCurrency": "USD",
        "BilledCost": cost,
        "EffectiveCost": cost,
        "ListCost": cost,
        "ContractedCost": cost,
        "ChargeCategory": "Usage",
        "ChargeClass": "",
        "ChargeDescription": "compute",
        "ProviderName": "AWS",
        "PublisherName": "AWS",
        "InvoiceIssuerName": "AWS",
        "ServiceCategory": "Compute",
        "ServiceName": "Amazon EC2",
        "ResourceId": f"i-{day}",
        "Tags": json.dumps({"team": "search"}),
    }
    row.update(overrides)
    return row


def write_csv(
    path: Path,
    rows: Iterable[Mapping[str, str]],
    header: list[str] | None = None,
    delivered: datetime | None = None,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = list(rows)
    fields = header or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    if delivered is not None:
        os.utime(path, (delivered.timestamp(), delivered.timestamp()))
    return path


def at(day: int, hour: int = 0, month: int = 4) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def loader() -> BillingLoader:
    return BillingLoader(duckdb.connect())


def totals(con: duckdb.DuckDBPyConnection, where: str = "true") -> tuple[int, Decimal, Decimal]:
    return con.execute(
        f"select count(*), coalesce(sum(BilledCost), 0), coalesce(sum(EffectiveCost), 0) "
        f"from raw_billing.cost_lines where {where}"
    ).fetchone()


def statuses(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str | None]]:
    return {p: (s, r) for p, s, r in con.execute("select path, status, reason from meta.billing_files").fetchall()}
