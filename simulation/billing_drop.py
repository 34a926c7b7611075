"""The simulated company's cloud and SaaS bill, written as files into a billing drop folder.

``write_billing_drop(company, root)`` writes 12 months (ending with the month of ``company.anchor``, the open
month) of: FOCUS 1.2 CSV for two AWS accounts and one GCP billing account, AWS CUR 2.0 Parquet (with a
manifest) for the data-platform account, a GCP BigQuery billing export as newline-delimited JSON (nested
``credits`` and ``labels``, as ``bq extract --destination_format NEWLINE_DELIMITED_JSON`` writes it) and
monthly SaaS invoices (source control, issue tracker, CI, observability, whiteboard; one in EUR).

Real delivery behaviour: the open month is delivered three times, each a growing month-to-date file; one
correction for a closed month arrives in the open month (ChargeClass = Correction); one file is malformed.
Tag keys come in case variants (``Team``, ``team``, `` TEAM ``) and ~8% of cloud spend carries no tag.
The billing stories of ``simulation.stories`` are honoured. Deterministic: same company, same bytes.

Returns the ground truth as data: expected totals per (billing month, provider folder, currency) for the
final state of the drop, and the story facts. This module imports nothing from ingestion/orchestration.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from simulation.determinism import rng_for

FOCUS_HEADER = [
    "BillingAccountId",
    "BillingAccountName",
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
    "ChargeFrequency",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "ServiceCategory",
    "ServiceName",
    "ResourceId",
    "ResourceName",
    "RegionId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
]
CENT = Decimal("0.01")
AWS_PROD, AWS_DEV, AWS_DATA = "111111111111", "222222222222", "333333333333"
GCP_FOCUS_ACCOUNT, GCP_EXPORT_ACCOUNT = "01A2B3-C4D5E6-000001", "01A2B3-C4D5E6-000002"
SP_ARN = "arn:aws:savingsplans::333333333333:savingsplan/sp-0001"


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _month_add(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _dt(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class Resource:
    """A daily cost line: account, service, resource, team tag, daily cost (may grow)."""

    account: str
    service: str
    category: str
    resource_id: str
    team: str | None
    daily_cost: float
    start: date | None = None
    growth_per_month: float = 0.0


@dataclass
class GroundTruth:
    anchor: str
    months: list[str]
    open_month: str
    totals: dict[tuple[str, str, str], dict[str, Decimal]] = field(default_factory=dict)
    stories: dict[str, Any] = field(default_factory=dict)
    correction: dict[str, Any] = field(default_factory=dict)
    malformed: dict[str, Any] = field(default_factory=dict)
    open_month_deliveries: dict[str, list[str]] = field(default_factory=dict)
    untagged_share: float = 0.0
    files: list[str] = field(default_factory=list)

    def add(self, month: str, provider: str, currency: str, billed: Decimal, effective: Decimal) -> None:
        slot = self.totals.setdefault((month, provider, currency), {"billed": Decimal(0), "effective": Decimal(0)})
        slot["billed"] += billed
        slot["effective"] += effective


class _Writer:
    def __init__(self, company: Any, root: Path, months: int = 12) -> None:
        self.company = company
        self.root = root
        self.seed = company.seed
        anchor = company.anchor
        self.anchor = anchor
        # Providers deliver with a lag; the open (not yet invoiced) month is the one three days before the anchor.
        lagged = (anchor - timedelta(days=3)).date()
        self.open_month = date(lagged.year, lagged.month, 1)
        self.months = [_month_add(self.open_month, -i) for i in range(months - 1, -1, -1)]
        self.truth = GroundTruth(
            anchor=_iso(anchor),
            months=[m.strftime("%Y-%m") for m in self.months],
            open_month=self.months[-1].strftime("%Y-%m"),
        )
        self.tagged = Decimal(0)
        self.untagged = Decimal(0)
        stories = company.stories
        vector = stories.get("vector_db_appears_on_bill").params
        idle = stories.get("idle_dev_cluster").params
        data = stories.get("data_platform_cost_grows_with_usage").params
        self.vector, self.idle, self.data = vector, idle, data
        self.aws_resources = [
            Resource(AWS_PROD, "Amazon Elastic Compute Cloud", "Compute", "i-checkout-api", "checkout", 310.0),
            Resource(AWS_PROD, "Amazon Elastic Compute Cloud", "Compute", "i-payments-api", "payments", 280.0),
            Resource(AWS_PROD, "Amazon Relational Database Service", "Databases", "db-payments", "payments", 190.0),
            Resource(AWS_PROD, "Amazon Simple Storage Service", "Storage", "s3-assets", "platform", 45.0),
            Resource(
                AWS_PROD,
                str(vector["service_name"]),
                "Analytics",
                str(vector["resource_id"]),
                "search",
                float(vector["monthly_cost_usd"]) / 30.0,
                start=date.fromisoformat(str(vector["first_usage_date"])),
            ),
            Resource(
                AWS_DEV,
                str(idle["service_name"]),
                "Compute",
                str(idle["resource_id"]),
                "platform",
                float(idle["monthly_cost_usd"]) / 30.0,
            ),
            Resource(AWS_DEV, "Amazon Elastic Compute Cloud", "Compute", "i-dev-sandbox", "search", 60.0),
        ]
        self.gcp_resources = [
            Resource(GCP_FOCUS_ACCOUNT, "Compute Engine", "Compute", "gce-search-indexer", "search", 120.0),
            Resource(GCP_FOCUS_ACCOUNT, "BigQuery", "Analytics", "bq-analytics", "data-platform", 85.0),
            Resource(GCP_FOCUS_ACCOUNT, "Cloud Storage", "Storage", "gcs-backups", "platform", 20.0),
        ]
        self.tag_key_variants = {AWS_PROD: "Team", AWS_DEV: "team", GCP_FOCUS_ACCOUNT: " TEAM "}

    # -- helpers ----------------------------------------------------------------------------------
    def _days(self, month: date, upto: date | None = None) -> list[date]:
        end = _month_add(month, 1)
        if upto is not None:
            end = min(end, upto)
        return [month + timedelta(days=i) for i in range((end - month).days)]

    def _mtd_cuts(self) -> list[date]:
        elapsed = min(
            (self.anchor - _dt(self.open_month)) // timedelta(days=1),
            (_month_add(self.open_month, 1) - self.open_month).days,
        )
        return [self.open_month + timedelta(days=round(elapsed * k / 3)) for k in (1, 2, 3)]

    def _delivered(self, month: date, k: int = 3) -> datetime:
        if month == self.open_month:
            return _dt(self.open_month) + timedelta(days=(self._mtd_cuts()[k - 1] - self.open_month).days, hours=6)
        return _dt(_month_add(month, 1)) + timedelta(days=2)

    def _touch(self, path: Path, when: datetime) -> None:
        stamp = when.timestamp()
        os.utime(path, (stamp, stamp))
        self.truth.files.append(path.relative_to(self.root).as_posix())

    def _tagged(self, resource: str, day: date) -> bool:
        """Untagged on 2 days in 25 per resource (8% of its spend), at a resource-specific phase."""
        phase = rng_for(self.seed, "billing-untagged", resource).randrange(25)
        return (day.toordinal() + phase) % 25 >= 2

    def _growth(self, r: Resource, day: date) -> float:
        months = (day.year - self.months[0].year) * 12 + day.month - self.months[0].month
        return (1 + r.growth_per_month) ** months

    # -- FOCUS ------------------------------------------------------------------------------------
    def _focus_rows(
        self, resources: list[Resource], account: str, month: date, upto: date | None, provider: str, count: bool = True
    ) -> list[dict[str, str]]:
        rows = []
        period_end = _month_add(month, 1)
        for day in self._days(month, upto):
            for r in resources:
                if r.account != account or (r.start is not None and day < r.start):
                    continue
                noise = 1 + (rng_for(self.seed, "billing-noise", r.resource_id, day.isoformat()).random() - 0.5) * 0.04
                cost = _money(r.daily_cost * noise * self._growth(r, day))
                tagged = r.team is not None and self._tagged(r.resource_id, day)
                tags = {self.tag_key_variants.get(account, "team"): r.team, "cost-center": f"cc-{r.team}"}
                rows.append(
                    {
                        "BillingAccountId": account,
                        "BillingAccountName": f"{provider}-{account[-4:]}",
                        "BillingPeriodStart": _iso(_dt(month)),
                        "BillingPeriodEnd": _iso(_dt(period_end)),
                        "ChargePeriodStart": _iso(_dt(day)),
                        "ChargePeriodEnd": _iso(_dt(day + timedelta(days=1))),
                        "BillingCurrency": "USD",
                        "BilledCost": str(cost),
                        "EffectiveCost": str(cost),
                        "ListCost": str(cost),
                        "ContractedCost": str(cost),
                        "ChargeCategory": "Usage",
                        "ChargeClass": "",
                        "ChargeDescription": f"{r.service} usage",
                        "ChargeFrequency": "Usage-Based",
                        "PricingCategory": "Standard",
                        "PricingQuantity": "24",
                        "PricingUnit": "Hours",
                        "ConsumedQuantity": "24",
                        "ConsumedUnit": "Hours",
                        "ProviderName": provider,
                        "PublisherName": provider,
                        "InvoiceIssuerName": provider,
                        "ServiceCategory": r.category,
                        "ServiceName": r.service,
                        "ResourceId": r.resource_id,
                        "ResourceName": r.resource_id,
                        "RegionId": "eu-west-2" if provider == "AWS" else "europe-west2",
                        "SubAccountId": account,
                        "SubAccountName": account,
                        "Tags": json.dumps(tags) if tagged else "",
                    }
                )
                if count:
                    self._count_tags(cost, tagged, month)
        return rows

    def _count_tags(self, cost: Decimal, tagged: bool, month: date) -> None:
        if month == self.open_month:
            return  # counted once, from the final delivery (see write())
        if tagged:
            self.tagged += cost
        else:
            self.untagged += cost

    def _write_csv(self, path: Path, header: list[str], rows: list[dict[str, str]], when: datetime) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        self._touch(path, when)

    def _focus_dataset(self, provider_dir: str, provider: str, resources: list[Resource], account: str) -> None:
        for month in self.months:
            label = month.strftime("%Y-%m")
            deliveries = [1, 2, 3] if month == self.open_month else [3]
            for k in deliveries:
                upto = self._mtd_cuts()[k - 1] if month == self.open_month else None
                rows = self._focus_rows(resources, account, month, upto, provider)
                if month == self.open_month and k == 3:
                    for row in rows:
                        self._count_tags_final(row)
                name = f"focus-{account}-{label}" + (f"-d{k}" if month == self.open_month else "") + ".csv"
                path = self.root / provider_dir / "focus" / account / label / name
                self._write_csv(path, FOCUS_HEADER, rows, self._delivered(month, k))
                if month == self.open_month:
                    self.truth.open_month_deliveries.setdefault(f"{provider_dir}/focus/{account}", []).append(
                        path.relative_to(self.root).as_posix()
                    )
                if k == 3:
                    self._add_rows(label, provider_dir, rows)

    def _count_tags_final(self, row: dict[str, str]) -> None:
        cost = Decimal(row["EffectiveCost"])
        if row["Tags"]:
            self.tagged += cost
        else:
            self.untagged += cost

    def _add_rows(self, month: str, provider: str, rows: list[dict[str, str]]) -> None:
        for row in rows:
            self.truth.add(
                month, provider, row["BillingCurrency"], Decimal(row["BilledCost"]), Decimal(row["EffectiveCost"])
            )

    # -- corrections and malformed ---------------------------------------------------------------
    def _correction(self) -> None:
        closed = self.months[-4]
        open_label = self.open_month.strftime("%Y-%m")
        amount = Decimal("-250.00")
        row = dict.fromkeys(FOCUS_HEADER, "")
        row.update(
            {
                "BillingAccountId": AWS_PROD,
                "BillingAccountName": f"AWS-{AWS_PROD[-4:]}",
                "BillingPeriodStart": _iso(_dt(self.open_month)),
                "BillingPeriodEnd": _iso(_dt(_month_add(self.open_month, 1))),
                "ChargePeriodStart": _iso(_dt(closed)),
                "ChargePeriodEnd": _iso(_dt(_month_add(closed, 1))),
                "BillingCurrency": "USD",
                "BilledCost": str(amount),
                "EffectiveCost": str(amount),
                "ListCost": str(amount),
                "ContractedCost": str(amount),
                "ChargeCategory": "Credit",
                "ChargeClass": "Correction",
                "ChargeDescription": f"Correction: RDS storage overcharge in {closed:%Y-%m}",
                "ChargeFrequency": "One-Time",
                "ProviderName": "AWS",
                "PublisherName": "AWS",
                "InvoiceIssuerName": "AWS",
                "ServiceCategory": "Databases",
                "ServiceName": "Amazon Relational Database Service",
                "ResourceId": "db-payments",
                "SubAccountId": AWS_PROD,
            }
        )
        path = self.root / "aws" / "focus" / AWS_PROD / open_label / f"corrections-{AWS_PROD}-{open_label}.csv"
        self._write_csv(path, FOCUS_HEADER, [row], self._delivered(self.open_month, 2) + timedelta(hours=1))
        self._add_rows(open_label, "aws", [row])
        self.truth.correction = {
            "path": path.relative_to(self.root).as_posix(),
            "billing_period": open_label,
            "charge_period": closed.strftime("%Y-%m"),
            "billed_cost": str(amount),
            "account": AWS_PROD,
        }

    def _malformed(self) -> None:
        month = self.months[-2]
        rows = self._focus_rows(self.aws_resources, AWS_DEV, month, month + timedelta(days=2), "AWS", count=False)
        rows[2]["BilledCost"] = "12,34.5x"
        label = month.strftime("%Y-%m")
        path = self.root / "aws" / "focus" / AWS_DEV / label / f"focus-{AWS_DEV}-{label}-late.csv"
        self._write_csv(path, FOCUS_HEADER, rows, self._delivered(month) + timedelta(days=3))
        self.truth.malformed = {"path": path.relative_to(self.root).as_posix(), "column": "BilledCost", "row": 3}

    # -- CUR 2.0 --------------------------------------------------------------------------------------
    def _cur(self) -> None:
        data = self.data
        for month in self.months:
            label = month.strftime("%Y-%m")
            for k in [1, 2, 3] if month == self.open_month else [3]:
                upto = self._mtd_cuts()[k - 1] if month == self.open_month else None
                rows: list[dict[str, Any]] = []
                for day in self._days(month, upto):
                    months_in = (day - self.months[0]).days / 30.4
                    events = (
                        float(data["daily_usage_at_start"]) * (1 + float(data["usage_growth_per_month"])) ** months_in
                    )
                    events = round(events, 3)
                    cost = _money(events * float(data["unit_cost_usd"]))
                    tagged = self._tagged("cur", day)
                    rows.append(
                        self._cur_row(
                            month,
                            day,
                            "Usage",
                            cost,
                            cost,
                            events,
                            "AmazonEMR",
                            "data-pipelines",
                            {"user_Team": "data-platform"} if tagged else {},
                        )
                    )
                    covered = _money(96.0)
                    sp_effective = _money(72.0)
                    rows.append(
                        self._cur_row(
                            month,
                            day,
                            "SavingsPlanCoveredUsage",
                            covered,
                            sp_effective,
                            24,
                            "AmazonEC2",
                            "i-data-workers",
                            {"user_team": "data-platform"} if tagged else {},
                        )
                    )
                    rows.append(
                        self._cur_row(
                            month,
                            day,
                            "SavingsPlanNegation",
                            -covered,
                            Decimal(0),
                            0,
                            "AmazonEC2",
                            "i-data-workers",
                            {},
                        )
                    )
                    rows.append(
                        self._cur_row(
                            month,
                            day,
                            "SavingsPlanRecurringFee",
                            _money(80.0),
                            _money(8.0),
                            0,
                            "ComputeSavingsPlans",
                            "",
                            {},
                            total=_money(80.0),
                            used=sp_effective,
                        )
                    )
                rows.append(self._cur_row(month, month, "Tax", _money(150.0), _money(150.0), 0, "AmazonEMR", "", {}))
                table = pa.Table.from_pylist(rows, schema=_CUR_SCHEMA)
                delivery = f"{label}-{k}"
                path = (
                    self.root / "aws" / "cur2" / AWS_DATA / label / delivery / f"cur2-{AWS_DATA}-{label}-00001.parquet"
                )
                path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(table, path)
                when = self._delivered(month, k)
                manifest = {
                    "delivery_id": f"assembly-{delivery}",
                    "delivered_at": _iso(when),
                    "billingPeriod": label,
                    "account": AWS_DATA,
                    "files": [path.name],
                }
                path.with_name(path.name + ".manifest.json").write_text(
                    json.dumps(manifest, indent=2), encoding="utf-8"
                )
                self._touch(path, when)
                if month == self.open_month:
                    self.truth.open_month_deliveries.setdefault(f"aws/cur2/{AWS_DATA}", []).append(
                        path.relative_to(self.root).as_posix()
                    )
                if k == 3:
                    for row in rows:
                        self.truth.add(label, "aws", "USD", row["line_item_unblended_cost"], row["_effective"])
                        if row["line_item_line_item_type"] in ("Usage", "SavingsPlanCoveredUsage"):
                            if row["resource_tags"]:
                                self.tagged += row["_effective"]
                            else:
                                self.untagged += row["_effective"]

    def _cur_row(
        self,
        month: date,
        day: date,
        kind: str,
        unblended: Decimal,
        effective: Decimal,
        amount: float,
        product: str,
        resource: str,
        tags: dict[str, str],
        total: Decimal | None = None,
        used: Decimal | None = None,
    ) -> dict[str, Any]:
        is_sp = kind.startswith("SavingsPlan")
        return {
            "identity_line_item_id": f"{kind}-{day.isoformat()}-{resource}",
            "bill_payer_account_id": AWS_DATA,
            "bill_billing_period_start_date": _dt(month),
            "bill_billing_period_end_date": _dt(_month_add(month, 1)),
            "bill_billing_entity": "AWS",
            "line_item_line_item_type": kind,
            "line_item_usage_start_date": _dt(day),
            "line_item_usage_end_date": _dt(day + timedelta(days=1)),
            "line_item_usage_account_id": AWS_DATA,
            "line_item_product_code": product,
            "line_item_line_item_description": f"{kind} {product}",
            "line_item_resource_id": resource,
            "line_item_usage_amount": Decimal(str(amount)).quantize(Decimal("0.001")),
            "line_item_currency_code": "USD",
            "line_item_unblended_cost": unblended,
            "pricing_public_on_demand_cost": unblended if kind in ("Usage", "SavingsPlanCoveredUsage") else None,
            "savings_plan_savings_plan_a_r_n": SP_ARN if is_sp else None,
            "savings_plan_savings_plan_effective_cost": effective if kind == "SavingsPlanCoveredUsage" else None,
            "savings_plan_total_commitment_to_date": total,
            "savings_plan_used_commitment": used,
            "product_region_code": "eu-west-2",
            "resource_tags": list(tags.items()),
            "_effective": effective,
        }

    # -- GCP export -------------------------------------------------------------------------------
    def _gcp_export(self) -> None:
        for month in self.months:
            label = month.strftime("%Y-%m")
            for k in [1, 2, 3] if month == self.open_month else [3]:
                upto = self._mtd_cuts()[k - 1] if month == self.open_month else None
                lines = []
                total_cost = total_net = Decimal(0)
                for day in self._days(month, upto):
                    for name, service, daily, team in (
                        ("gke-search", "Kubernetes Engine", 140.0, "search"),
                        ("cloudsql-checkout", "Cloud SQL", 65.0, "checkout"),
                    ):
                        cost = _money(daily)
                        credit = _money(-daily * 0.2)
                        tagged = self._tagged(name, day)
                        record = {
                            "billing_account_id": GCP_EXPORT_ACCOUNT,
                            "service": {"id": service[:4].upper(), "description": service},
                            "sku": {"id": f"SKU-{name}", "description": f"{service} core hours"},
                            "usage_start_time": f"{day.isoformat()} 00:00:00 UTC",
                            "usage_end_time": f"{(day + timedelta(days=1)).isoformat()} 00:00:00 UTC",
                            "project": {"id": f"proj-{team}", "number": "1234", "name": f"proj-{team}"},
                            "labels": [{"key": "Team", "value": team}] if tagged else [],
                            "location": {
                                "location": "europe-west2",
                                "country": "GB",
                                "region": "europe-west2",
                                "zone": "europe-west2-a",
                            },
                            "resource": {"name": name, "global_name": f"//gcp/{name}"},
                            "export_time": f"{day.isoformat()} 08:00:00 UTC",
                            "cost": float(cost),
                            "currency": "USD",
                            "currency_conversion_rate": 1.0,
                            "usage": {
                                "amount": 86400.0,
                                "unit": "seconds",
                                "amount_in_pricing_units": 24.0,
                                "pricing_unit": "hour",
                            },
                            "credits": [
                                {
                                    "name": "Sustained use discount",
                                    "amount": float(credit),
                                    "full_name": "Sustained use discount",
                                    "id": "SUD",
                                    "type": "SUSTAINED_USAGE_DISCOUNT",
                                }
                            ],
                            "invoice": {"month": month.strftime("%Y%m")},
                            "cost_type": "regular",
                        }
                        lines.append(json.dumps(record, separators=(",", ":")))
                        total_cost += cost
                        total_net += cost + credit
                        if k == 3:
                            if tagged:
                                self.tagged += cost + credit
                            else:
                                self.untagged += cost + credit
                path = self.root / "gcp" / "export" / GCP_EXPORT_ACCOUNT / f"gcp-billing-{label}"
                path = path.with_name(path.name + (f"-d{k}" if month == self.open_month else "") + ".jsonl")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("\n".join(lines) + "\n", encoding="utf-8")
                self._touch(path, self._delivered(month, k))
                if k == 3:
                    self.truth.add(label, "gcp", "USD", total_net, total_net)

    # -- SaaS invoices ------------------------------------------------------------------------------
    def _saas(self) -> None:
        seats = self.company.stories.get("unused_saas_seats").params
        vendors = [
            ("GitHub", "GitHub Enterprise Cloud", "Developer Tools", 120, Decimal("21.00"), "USD", None),
            ("Atlassian", "Jira Software Cloud Premium", "Developer Tools", 140, Decimal("14.50"), "EUR", None),
            ("CircleCI", "CircleCI Performance", "Developer Tools", 1, Decimal("2400.00"), "USD", None),
            ("Datadog", "Datadog Infrastructure Pro", "Management and Governance", 90, Decimal("23.00"), "USD", None),
            (
                str(seats["vendor"]),
                "Miro Business",
                "Business Applications",
                int(seats["seats_purchased"]),
                _money(float(seats["price_per_seat_month_usd"])),
                "USD",
                int(seats["seats_active"]),
            ),
        ]
        header = [
            "invoice_id",
            "vendor",
            "product",
            "period",
            "seats",
            "unit_price",
            "amount",
            "currency",
            "service_category",
            "active_seats",
        ]
        for month in self.months:
            label = month.strftime("%Y-%m")
            for vendor, product, category, qty, price, currency, active in vendors:
                amount = (price * qty).quantize(CENT)
                row = {
                    "invoice_id": f"INV-{vendor[:3].upper()}-{label}",
                    "vendor": vendor,
                    "product": product,
                    "period": label,
                    "seats": str(qty),
                    "unit_price": str(price),
                    "amount": str(amount),
                    "currency": currency,
                    "service_category": category,
                    "active_seats": "" if active is None else str(active),
                }
                path = self.root / "saas" / "invoices" / vendor.lower() / f"{vendor.lower()}-{label}.csv"
                when = _dt(month) + timedelta(days=1)
                self._write_csv(path, header, [row], when)
                self.truth.add(label, "saas", currency, amount, amount)

    def write(self) -> GroundTruth:
        self._focus_dataset("aws", "AWS", self.aws_resources, AWS_PROD)
        self._focus_dataset("aws", "AWS", self.aws_resources, AWS_DEV)
        self._focus_dataset("gcp", "Google Cloud", self.gcp_resources, GCP_FOCUS_ACCOUNT)
        self._correction()
        self._malformed()
        self._cur()
        self._gcp_export()
        self._saas()
        total = self.tagged + self.untagged
        self.truth.untagged_share = float(self.untagged / total) if total else 0.0
        self.truth.stories = {story.id: story.to_dict() for story in self.company.stories if story.domain == "billing"}
        return self.truth


_CUR_SCHEMA = pa.schema(
    [
        ("identity_line_item_id", pa.string()),
        ("bill_payer_account_id", pa.string()),
        ("bill_billing_period_start_date", pa.timestamp("ms", tz="UTC")),
        ("bill_billing_period_end_date", pa.timestamp("ms", tz="UTC")),
        ("bill_billing_entity", pa.string()),
        ("line_item_line_item_type", pa.string()),
        ("line_item_usage_start_date", pa.timestamp("ms", tz="UTC")),
        ("line_item_usage_end_date", pa.timestamp("ms", tz="UTC")),
        ("line_item_usage_account_id", pa.string()),
        ("line_item_product_code", pa.string()),
        ("line_item_line_item_description", pa.string()),
        ("line_item_resource_id", pa.string()),
        ("line_item_usage_amount", pa.decimal128(18, 3)),
        ("line_item_currency_code", pa.string()),
        ("line_item_unblended_cost", pa.decimal128(18, 2)),
        ("pricing_public_on_demand_cost", pa.decimal128(18, 2)),
        ("savings_plan_savings_plan_a_r_n", pa.string()),
        ("savings_plan_savings_plan_effective_cost", pa.decimal128(18, 2)),
        ("savings_plan_total_commitment_to_date", pa.decimal128(18, 2)),
        ("savings_plan_used_commitment", pa.decimal128(18, 2)),
        ("product_region_code", pa.string()),
        ("resource_tags", pa.map_(pa.string(), pa.string())),
    ]
)


def write_billing_drop(company: Any, root: Path, months: int = 12) -> GroundTruth:
    """Write the company's bill for the ``months`` months ending with the open month into ``root`` (a drop
    folder) and return the ground truth. ``months`` must be at least 4 (the correction targets month -4)."""
    if months < 4:
        raise ValueError(f"months must be >= 4 (the correction is for the 4th month back), got {months}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    return _Writer(company, root, months).write()
