"""Per-format SQL mappings to the FOCUS-shaped cost table: FOCUS 1.0-1.3, AWS CUR (2.0 and legacy), GCP, SaaS.

Each mapping is SQL over a *parsed* relation ``p`` (one row per source row, money and timestamp columns
already parsed by the ``tl_*`` macros), so loading is one ``INSERT ... SELECT`` that DuckDB streams; no
row goes through Python. A ``Plan`` names the source columns that must exist, which ones must parse as
money or timestamps (the validator checks them and reports the first bad row), and the SELECT list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ingestion.billing.schema import FOCUS_COLUMNS, MONEY, QUANTITY

# Temporary macros the plans rely on; created on the loading connection.
MACROS: tuple[str, ...] = (
    "CREATE OR REPLACE TEMP MACRO tl_present(x) AS x IS NOT NULL AND lower(trim(x::VARCHAR)) NOT IN ('', 'null')",
    # Fast path first (a plain number or ISO timestamp casts directly); the slow paths handle "$1,000.00 ",
    # "1e3", M/D/YY dates (which a plain cast would misread as year 0004) and "null" literals.
    f"""CREATE OR REPLACE TEMP MACRO tl_money(x) AS coalesce(try_cast(x AS {MONEY}), CASE WHEN tl_present(x) THEN
        coalesce(try_cast(replace(replace(replace(trim(x::VARCHAR), '$', ''), ',', ''), ' ', '') AS {MONEY}),
                 try_cast(try_cast(trim(x::VARCHAR) AS DOUBLE) AS {MONEY})) END)""",
    f"""CREATE OR REPLACE TEMP MACRO tl_qty(x) AS coalesce(try_cast(x AS {QUANTITY}), CASE WHEN tl_present(x) THEN
        coalesce(try_cast(replace(replace(replace(trim(x::VARCHAR), '$', ''), ',', ''), ' ', '') AS {QUANTITY}),
                 try_cast(try_cast(trim(x::VARCHAR) AS DOUBLE) AS {QUANTITY})) END)""",
    """CREATE OR REPLACE TEMP MACRO tl_ts(x) AS CASE
        WHEN contains(x::VARCHAR, '/') THEN timezone('UTC', try_strptime(trim(x::VARCHAR),
            ['%m/%d/%y', '%m/%d/%Y', '%m/%d/%y %H:%M', '%m/%d/%Y %H:%M', '%m/%d/%Y %H:%M:%S']))
        ELSE coalesce(try_cast(x AS TIMESTAMPTZ), CASE WHEN tl_present(x) THEN coalesce(
            try_cast(trim(x::VARCHAR) AS TIMESTAMPTZ),
            timezone('UTC', try_strptime(trim(x::VARCHAR), ['%Y-%m-%dT%H:%M:%S.%fZ', '%Y-%m', '%Y%m']))) END) END""",
    "CREATE OR REPLACE TEMP MACRO tl_norm_key(k) AS regexp_replace(lower(trim(k)), '[\\s\\-]+', '_', 'g')",
    """CREATE OR REPLACE TEMP MACRO tl_dedupe(ents) AS list_filter(ents,
        (e, i) -> e.key IS NOT NULL AND list_position(list_transform(ents, y -> y.key), e.key) = i)""",
    """CREATE OR REPLACE TEMP MACRO tl_norm_tags(m) AS CASE WHEN m IS NOT NULL THEN map_from_entries(tl_dedupe(
        list_transform(map_entries(m), e -> {'key': tl_norm_key(e.key), 'value': e.value}))) END""",
    """CREATE OR REPLACE TEMP MACRO tl_json_map(x) AS CASE WHEN tl_present(x)
        THEN json_transform(x::VARCHAR, '"MAP(VARCHAR, VARCHAR)"') END""",
    """CREATE OR REPLACE TEMP MACRO tl_month(ts) AS CAST(date_trunc('month', timezone('UTC', ts)) AS DATE)""",
)


@dataclass
class SourceColumns:
    """The columns of a source file: lower-cased name -> (actual name, DuckDB type)."""

    columns: Mapping[str, tuple[str, str]]

    def find(self, *candidates: str) -> str | None:
        for candidate in candidates:
            hit = self.columns.get(candidate.lower())
            if hit is not None:
                return hit[0]
        return None

    def type_of(self, name: str) -> str:
        return self.columns[name.lower()][1]

    @property
    def names(self) -> list[str]:
        return [actual for actual, _ in self.columns.values()]


@dataclass
class Plan:
    """How one file becomes cost lines."""

    required: list[tuple[str, tuple[str, ...]]]  # (display name, candidates); missing -> quarantine
    money: list[str] = field(default_factory=list)  # actual source names that must parse as costs
    quantities: list[str] = field(default_factory=list)  # ... as quantities / unit prices
    timestamps: list[str] = field(default_factory=list)  # ... as timestamps
    json_columns: list[str] = field(default_factory=list)  # ... as JSON objects
    not_null: list[str] = field(default_factory=list)  # ... must be present on every row
    select: dict[str, str] = field(default_factory=dict)  # target column -> SQL over p
    used: set[str] = field(default_factory=set)  # source columns consumed (the rest go to x_extra)


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Builder:
    def __init__(self, cols: SourceColumns) -> None:
        self.cols = cols
        self.plan = Plan(required=[])

    def require(self, display: str, *candidates: str) -> None:
        self.plan.required.append((display, candidates or (display,)))

    def ref(self, *candidates: str, kind: str = "text") -> str:
        name = self.cols.find(*candidates)
        if name is None:
            return "NULL"
        self.plan.used.add(name)
        if kind == "money" and name not in self.plan.money:
            self.plan.money.append(name)
        if kind == "qty" and name not in self.plan.quantities:
            self.plan.quantities.append(name)
        if kind == "ts" and name not in self.plan.timestamps:
            self.plan.timestamps.append(name)
        if kind == "json" and name not in self.plan.json_columns:
            self.plan.json_columns.append(name)
        return f"p.{q(name)}"


def focus_plan(cols: SourceColumns) -> Plan:
    """FOCUS 1.0-1.3 (and 1.0-preview names): FOCUS columns by name, case-insensitive, version aliases."""
    b = _Builder(cols)
    for display in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"):
        b.require(display)
    b.require("ChargeCategory", "ChargeCategory", "ChargeType")
    b.require("BilledCost")
    b.require("EffectiveCost")
    aliases: dict[str, tuple[str, ...]] = {
        "ServiceProviderName": ("ServiceProviderName", "ProviderName", "Provider"),
        "ProviderName": ("ProviderName", "Provider", "ServiceProviderName"),
        "PublisherName": ("PublisherName", "Publisher"),
        "InvoiceIssuerName": ("InvoiceIssuerName", "InvoiceIssuer"),
        "ChargeCategory": ("ChargeCategory", "ChargeType"),
        "ConsumedQuantity": ("ConsumedQuantity", "UsageQuantity"),
        "ConsumedUnit": ("ConsumedUnit", "UsageUnit"),
        "RegionId": ("RegionId", "Region"),
    }
    select: dict[str, str] = {}
    for target, kind in FOCUS_COLUMNS.items():
        candidates = aliases.get(target, (target,))
        if target == "Tags":
            select[target] = f"CAST({b.ref(*candidates, kind='json')} AS JSON)"
            continue
        if kind == MONEY:
            select[target] = f"tl_money({b.ref(*candidates, kind='money')})"
        elif kind == QUANTITY:
            select[target] = f"tl_qty({b.ref(*candidates, kind='qty')})"
        elif kind == "TIMESTAMPTZ":
            select[target] = f"tl_ts({b.ref(*candidates, kind='ts')})"
        else:
            select[target] = f"CAST({b.ref(*candidates)} AS VARCHAR)"
    tags = cols.find("Tags")
    if tags is not None and cols.type_of(tags).upper().startswith("MAP"):
        b.plan.json_columns.remove(tags)
        select["Tags"] = f"to_json(p.{q(tags)})"
        select["x_tags"] = f"tl_norm_tags(p.{q(tags)})"
    else:
        select["x_tags"] = f"tl_norm_tags(tl_json_map({select['Tags']}))"
    # Without an account or issuer the file is its own scope (replaced only by a file at the same path).
    scope_parts = (select["BillingAccountId"], select["InvoiceIssuerName"], select["ProviderName"])
    select["x_scope"] = f"coalesce({', '.join(scope_parts)}, 'file:' || __FILE__)"
    b.plan.select = select
    return b.plan


# CUR 2.0 (snake) name -> legacy CUR (category/Name) name
CUR_COLUMNS: dict[str, str] = {
    "identity_line_item_id": "identity/LineItemId",
    "bill_payer_account_id": "bill/PayerAccountId",
    "bill_billing_period_start_date": "bill/BillingPeriodStartDate",
    "bill_billing_period_end_date": "bill/BillingPeriodEndDate",
    "bill_invoice_id": "bill/InvoiceId",
    "bill_billing_entity": "bill/BillingEntity",
    "line_item_line_item_type": "lineItem/LineItemType",
    "line_item_usage_start_date": "lineItem/UsageStartDate",
    "line_item_usage_end_date": "lineItem/UsageEndDate",
    "line_item_usage_account_id": "lineItem/UsageAccountId",
    "line_item_product_code": "lineItem/ProductCode",
    "line_item_line_item_description": "lineItem/LineItemDescription",
    "line_item_resource_id": "lineItem/ResourceId",
    "line_item_usage_amount": "lineItem/UsageAmount",
    "line_item_usage_type": "lineItem/UsageType",
    "line_item_operation": "lineItem/Operation",
    "line_item_currency_code": "lineItem/CurrencyCode",
    "line_item_unblended_rate": "lineItem/UnblendedRate",
    "line_item_unblended_cost": "lineItem/UnblendedCost",
    "line_item_net_unblended_cost": "lineItem/NetUnblendedCost",
    "line_item_availability_zone": "lineItem/AvailabilityZone",
    "line_item_legal_entity": "lineItem/LegalEntity",
    "product_product_name": "product/ProductName",
    "product_region_code": "product/regionCode",
    "product_servicecode": "product/servicecode",
    "pricing_public_on_demand_rate": "pricing/publicOnDemandRate",
    "pricing_public_on_demand_cost": "pricing/publicOnDemandCost",
    "pricing_unit": "pricing/unit",
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
CUR_QUANTITIES = {"line_item_usage_amount", "line_item_unblended_rate", "pricing_public_on_demand_rate"}
CUR_MONEY = {
    "line_item_unblended_cost",
    "line_item_net_unblended_cost",
    "pricing_public_on_demand_cost",
    "savings_plan_savings_plan_effective_cost",
    "savings_plan_total_commitment_to_date",
    "savings_plan_used_commitment",
    "reservation_effective_cost",
    "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation_unused_recurring_fee",
}
CUR_TIMESTAMPS = {
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
}
CUR_REQUIRED = (
    "bill_payer_account_id",
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
    "line_item_line_item_type",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_unblended_cost",
)
USAGE_TYPES = ("Usage", "SavingsPlanCoveredUsage", "DiscountedUsage")
DISCOUNT_TYPES = ("SavingsPlanNegation", "EdpDiscount", "PrivateRateDiscount", "BundledDiscount", "Discount")

SERVICE_CATEGORIES: dict[str, str] = {
    "AmazonEC2": "Compute",
    "AWSLambda": "Compute",
    "AmazonEKS": "Compute",
    "AmazonECS": "Compute",
    "AmazonS3": "Storage",
    "AmazonEBS": "Storage",
    "AmazonRDS": "Databases",
    "AmazonDynamoDB": "Databases",
    "AmazonElastiCache": "Databases",
    "AmazonES": "Analytics",
    "AmazonOpenSearchService": "Analytics",
    "AmazonAthena": "Analytics",
    "AmazonKinesis": "Analytics",
    "AmazonCloudFront": "Networking",
    "AmazonVPC": "Networking",
    "AmazonRoute53": "Networking",
    "AmazonCloudWatch": "Management and Governance",
    "AWSSupportBusiness": "Other",
}


def _sql_list(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _category_case(code: str) -> str:
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in SERVICE_CATEGORIES.items())
    return f"CASE {code} {whens} ELSE 'Other' END"


def cur_plan(cols: SourceColumns) -> Plan:
    """AWS CUR 2.0 (Parquet/CSV, snake names) or legacy CUR (``lineItem/...`` names), with the
    focus_converters line-item-type rules (shared/reference/cost-data.md §2)."""
    b = _Builder(cols)
    r: dict[str, str] = {}
    for snake, legacy in CUR_COLUMNS.items():
        kind = (
            "money"
            if snake in CUR_MONEY
            else "qty"
            if snake in CUR_QUANTITIES
            else "ts"
            if snake in CUR_TIMESTAMPS
            else "text"
        )
        r[snake] = b.ref(snake, legacy, kind=kind)
    for snake in CUR_REQUIRED:
        b.require(snake, snake, CUR_COLUMNS[snake])
    lit = r["line_item_line_item_type"]
    unblended = f"tl_money({r['line_item_unblended_cost']})"
    billed = f"coalesce(tl_money({r['line_item_net_unblended_cost']}), {unblended})"

    def m(name: str) -> str:
        return f"tl_qty({r[name]})" if name in CUR_QUANTITIES else f"tl_money({r[name]})"

    ri_arn = f"nullif({r['reservation_reservation_a_r_n']}, '')"
    sp_arn = f"nullif({r['savings_plan_savings_plan_a_r_n']}, '')"
    effective = f"""CASE {lit}
        WHEN 'SavingsPlanCoveredUsage' THEN {m("savings_plan_savings_plan_effective_cost")}
        WHEN 'SavingsPlanRecurringFee' THEN coalesce({m("savings_plan_total_commitment_to_date")}, 0)
            - coalesce({m("savings_plan_used_commitment")}, 0)
        WHEN 'SavingsPlanNegation' THEN 0
        WHEN 'SavingsPlanUpfrontFee' THEN 0
        WHEN 'DiscountedUsage' THEN {m("reservation_effective_cost")}
        WHEN 'RIFee' THEN coalesce({m("reservation_unused_amortized_upfront_fee_for_billing_period")}, 0)
            + coalesce({m("reservation_unused_recurring_fee")}, 0)
        WHEN 'Fee' THEN CASE WHEN {ri_arn} IS NOT NULL THEN 0 ELSE {billed} END
        ELSE {billed} END"""
    category = f"""CASE
        WHEN {lit} = 'Tax' THEN 'Tax'
        WHEN {lit} IN ('Fee', 'RIFee', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee') THEN 'Purchase'
        WHEN {lit} = 'Credit' THEN 'Credit'
        WHEN {lit} = 'Refund' THEN 'Adjustment'
        WHEN {lit} IN ({_sql_list(USAGE_TYPES + DISCOUNT_TYPES)}) THEN 'Usage'
        ELSE 'Adjustment' END"""
    frequency = f"""CASE
        WHEN {lit} IN ('RIFee', 'SavingsPlanRecurringFee') THEN 'Recurring'
        WHEN {lit} IN ('Fee', 'SavingsPlanUpfrontFee', 'Tax', 'Credit', 'Refund') THEN 'One-Time'
        ELSE 'Usage-Based' END"""
    usage_amount = m("line_item_usage_amount")
    on_demand = (
        f"coalesce({m('pricing_public_on_demand_cost')}, "
        f"{m('pricing_public_on_demand_rate')} * {usage_amount}, {unblended})"
    )
    list_cost = f"""CASE WHEN {lit} IN ({_sql_list(USAGE_TYPES)}) THEN {on_demand}
        WHEN {lit} IN ({_sql_list(DISCOUNT_TYPES)}) THEN 0 ELSE {billed} END"""
    contracted = f"""CASE WHEN {lit} = 'Usage' THEN {unblended}
        WHEN {lit} IN ('SavingsPlanCoveredUsage', 'DiscountedUsage') THEN {on_demand}
        WHEN {lit} IN ({_sql_list(DISCOUNT_TYPES)}) THEN 0 ELSE {billed} END"""
    is_sp = f"{lit} LIKE 'SavingsPlan%'"
    is_ri = f"({lit} IN ('DiscountedUsage', 'RIFee') OR ({lit} = 'Fee' AND {ri_arn} IS NOT NULL))"
    commitment_id = f"CASE WHEN {is_sp} THEN {sp_arn} WHEN {is_ri} THEN {ri_arn} END"
    product_name = r["product_product_name"]
    if (product_map := cols.find("product")) is not None and cols.type_of(product_map).upper().startswith("MAP"):
        b.plan.used.add(product_map)
        product_name = f"coalesce(p.{q(product_map)}['product_name'], {product_name})"
    tags_map = "NULL"
    if (rt := cols.find("resource_tags")) is not None and cols.type_of(rt).upper().startswith("MAP"):
        b.plan.used.add(rt)
        tags_map = f"""map_from_entries(tl_dedupe(list_transform(
            list_filter(map_entries(p.{q(rt)}), e -> e.value IS NOT NULL AND e.value <> ''),
            e -> {{'key': regexp_replace(e.key, '^user[_:]', ''), 'value': e.value}})))"""
    else:
        tag_cols = [c for c in cols.names if c.lower().startswith("resourcetags/")]
        if tag_cols:
            entries = ", ".join(
                "{'key': '" + c.split("/", 1)[1].replace("'", "''") + "', 'value': " + f"p.{q(c)}" + "}"
                for c in tag_cols
            )
            b.plan.used.update(tag_cols)
            tags_map = f"""map_from_entries(tl_dedupe(list_transform(
                list_filter([{entries}], e -> e.value IS NOT NULL AND e.value <> ''),
                e -> {{'key': regexp_replace(e.key, '^user[_:]', ''), 'value': e.value}})))"""
    tags_json = f"CASE WHEN cardinality({tags_map}) > 0 THEN to_json({tags_map}) END"
    select = dict.fromkeys(FOCUS_COLUMNS, "NULL")
    select.update(
        {
            "BillingAccountId": r["bill_payer_account_id"],
            "SubAccountId": r["line_item_usage_account_id"],
            "BillingPeriodStart": f"tl_ts({r['bill_billing_period_start_date']})",
            "BillingPeriodEnd": f"tl_ts({r['bill_billing_period_end_date']})",
            "ChargePeriodStart": f"tl_ts({r['line_item_usage_start_date']})",
            "ChargePeriodEnd": f"tl_ts({r['line_item_usage_end_date']})",
            "BillingCurrency": f"coalesce({r['line_item_currency_code']}, 'USD')",
            "BilledCost": billed,
            "EffectiveCost": effective,
            "ListCost": list_cost,
            "ListUnitPrice": m("pricing_public_on_demand_rate"),
            "ContractedCost": contracted,
            "ContractedUnitPrice": f"CASE WHEN {lit} = 'Usage' THEN {m('line_item_unblended_rate')} END",
            "ChargeCategory": category,
            "ChargeDescription": r["line_item_line_item_description"],
            "ChargeFrequency": frequency,
            "PricingCategory": f"""CASE WHEN {lit} IN ('SavingsPlanCoveredUsage', 'DiscountedUsage') THEN 'Committed'
                WHEN {lit} = 'Usage' THEN 'Standard' END""",
            "PricingQuantity": f"CASE WHEN {lit} IN ({_sql_list(USAGE_TYPES)}) THEN {usage_amount} END",
            "PricingUnit": r["pricing_unit"],
            "ConsumedQuantity": f"CASE WHEN {lit} IN ({_sql_list(USAGE_TYPES)}) THEN {usage_amount} END",
            "ConsumedUnit": f"CASE WHEN {lit} IN ({_sql_list(USAGE_TYPES)}) THEN {r['pricing_unit']} END",
            "ServiceProviderName": "'AWS'",
            "ProviderName": "'AWS'",
            "PublisherName": f"coalesce({r['line_item_legal_entity']}, 'Amazon Web Services, Inc.')",
            "InvoiceIssuerName": f"coalesce({r['bill_billing_entity']}, 'AWS')",
            "InvoiceId": r["bill_invoice_id"],
            "ServiceCategory": _category_case(r["line_item_product_code"]),
            "ServiceName": f"coalesce({product_name}, {r['line_item_product_code']})",
            "ResourceId": f"nullif({r['line_item_resource_id']}, '')",
            "RegionId": r["product_region_code"],
            "AvailabilityZone": f"nullif({r['line_item_availability_zone']}, '')",
            "CommitmentDiscountId": commitment_id,
            "CommitmentDiscountCategory": f"CASE WHEN {is_sp} THEN 'Spend' WHEN {is_ri} THEN 'Usage' END",
            "CommitmentDiscountType": (
                f"CASE WHEN {is_sp} THEN 'Savings Plan' WHEN {is_ri} THEN 'Reserved Instance' END"
            ),
            "CommitmentDiscountStatus": (
                f"CASE WHEN {lit} IN ('SavingsPlanCoveredUsage', 'DiscountedUsage') THEN 'Used' END"
            ),
            "Tags": tags_json,
            "x_tags": f"CASE WHEN cardinality({tags_map}) > 0 THEN tl_norm_tags({tags_map}) END",
            "x_line_item_type": lit,
            "x_usage_type": r["line_item_usage_type"],
            "x_operation": r["line_item_operation"],
        }
    )
    select["x_scope"] = f"coalesce({r['bill_payer_account_id']}, '')"
    b.plan.select = select
    return b.plan


# BigQuery "detailed/standard usage cost" export, extracted as newline-delimited JSON.
GCP_JSON_COLUMNS: dict[str, str] = {
    "billing_account_id": "VARCHAR",
    "service": "STRUCT(id VARCHAR, description VARCHAR)",
    "sku": "STRUCT(id VARCHAR, description VARCHAR)",
    "usage_start_time": "VARCHAR",
    "usage_end_time": "VARCHAR",
    "project": "STRUCT(id VARCHAR, number VARCHAR, name VARCHAR)",
    "labels": "STRUCT(key VARCHAR, value VARCHAR)[]",
    "location": "STRUCT(location VARCHAR, country VARCHAR, region VARCHAR, zone VARCHAR)",
    "resource": "STRUCT(name VARCHAR, global_name VARCHAR)",
    "export_time": "VARCHAR",
    "cost": "VARCHAR",
    "currency": "VARCHAR",
    "currency_conversion_rate": "VARCHAR",
    "usage": "STRUCT(amount VARCHAR, unit VARCHAR, amount_in_pricing_units VARCHAR, pricing_unit VARCHAR)",
    "credits": "STRUCT(name VARCHAR, amount DOUBLE, full_name VARCHAR, id VARCHAR, type VARCHAR)[]",
    "invoice": "STRUCT(month VARCHAR)",
    "cost_type": "VARCHAR",
    "cost_at_list": "VARCHAR",
}


def gcp_plan(cols: SourceColumns) -> Plan:
    """GCP billing export: BilledCost = EffectiveCost = cost + Σcredits (Google's own FOCUS view);
    the credits stay in ``x_credits`` and ``x_cost_before_credits``."""
    b = _Builder(cols)
    for name in ("billing_account_id", "cost", "currency", "usage_start_time", "usage_end_time", "invoice"):
        b.require(name)
        b.plan.not_null.append(name)
    r = {name: b.ref(name) for name in GCP_JSON_COLUMNS}
    for name in ("cost", "cost_at_list"):
        if r[name] != "NULL":
            b.plan.money.append(name)
    for name in ("usage_start_time", "usage_end_time"):
        b.plan.timestamps.append(name)
    credits_sum = f"coalesce(list_sum(list_transform({r['credits']}, c -> c.amount)), 0)"
    net = f"(tl_money({r['cost']}) + CAST({credits_sum} AS {MONEY}))"
    period = f"timezone('UTC', strptime({r['invoice']}.month, '%Y%m'))"
    usage_start = f"tl_ts({r['usage_start_time']})"
    cost_type = f"coalesce({r['cost_type']}, 'regular')"
    labels = f"map_from_entries(tl_dedupe(list_transform({r['labels']}, e -> {{'key': e.key, 'value': e.value}})))"
    select = dict.fromkeys(FOCUS_COLUMNS, "NULL")
    select.update(
        {
            "BillingAccountId": r["billing_account_id"],
            "SubAccountId": f"{r['project']}.id",
            "SubAccountName": f"{r['project']}.name",
            "SubAccountType": "'Project'",
            "BillingPeriodStart": period,
            "BillingPeriodEnd": f"{period} + INTERVAL 1 MONTH",
            "ChargePeriodStart": usage_start,
            "ChargePeriodEnd": f"tl_ts({r['usage_end_time']})",
            "BillingCurrency": r["currency"],
            "BilledCost": net,
            "EffectiveCost": net,
            "ListCost": f"coalesce(tl_money({r['cost_at_list']}), tl_money({r['cost']}))",
            "ContractedCost": f"tl_money({r['cost']})",
            "ChargeCategory": f"""CASE {cost_type} WHEN 'tax' THEN 'Tax' WHEN 'regular' THEN 'Usage'
                ELSE 'Adjustment' END""",
            "ChargeClass": f"CASE WHEN {cost_type} = 'adjustment' AND {usage_start} < {period} THEN 'Correction' END",
            "ChargeDescription": f"{r['sku']}.description",
            "ChargeFrequency": f"CASE WHEN {cost_type} = 'regular' THEN 'Usage-Based' ELSE 'One-Time' END",
            "PricingQuantity": f"tl_qty({r['usage']}.amount_in_pricing_units)",
            "PricingUnit": f"{r['usage']}.pricing_unit",
            "ConsumedQuantity": f"tl_qty({r['usage']}.amount)",
            "ConsumedUnit": f"{r['usage']}.unit",
            "ServiceProviderName": "'Google Cloud'",
            "ProviderName": "'Google Cloud'",
            "PublisherName": "'Google Cloud'",
            "InvoiceIssuerName": "'Google Cloud'",
            "ServiceCategory": "'Other'",
            "ServiceName": f"{r['service']}.description",
            "ResourceId": f"coalesce({r['resource']}.global_name, {r['resource']}.name)",
            "ResourceName": f"{r['resource']}.name",
            "RegionId": f"{r['location']}.region",
            "AvailabilityZone": f"{r['location']}.zone",
            "SkuId": f"{r['sku']}.id",
            "Tags": f"CASE WHEN len({r['labels']}) > 0 THEN to_json({labels}) END",
            "x_tags": f"CASE WHEN len({r['labels']}) > 0 THEN tl_norm_tags({labels}) END",
            "x_line_item_type": cost_type,
            "x_cost_before_credits": f"tl_money({r['cost']})",
            "x_credits_amount": f"CAST({credits_sum} AS {MONEY})",
            "x_credits": f"CASE WHEN len({r['credits']}) > 0 THEN to_json({r['credits']}) END",
        }
    )
    select["x_scope"] = f"coalesce({r['billing_account_id']}, '')"
    b.plan.select = select
    return b.plan


def saas_plan(cols: SourceColumns) -> Plan:
    """SaaS invoice CSV: vendor, product, period (YYYY-MM) or period_start/period_end, quantity or seats,
    unit_price, amount, currency; optional invoice_id, account_id, unit, description, charge_type,
    service_category, tags (JSON)."""
    b = _Builder(cols)
    b.require("vendor")
    b.require("product")
    b.require("period", "period", "period_start")
    b.require("amount")
    b.require("currency")
    b.plan.not_null += [n for n in (cols.find("vendor"), cols.find("amount"), cols.find("currency")) if n]
    vendor = b.ref("vendor")
    amount = f"tl_money({b.ref('amount', kind='money')})"
    quantity = f"tl_qty({b.ref('quantity', 'seats', kind='qty')})"
    unit_price = f"tl_qty({b.ref('unit_price', kind='qty')})"
    period_col = cols.find("period_start", "period")
    if period_col is not None:
        b.plan.used.add(period_col)
        b.plan.timestamps.append(period_col)
    start = f"tl_ts(p.{q(period_col)})" if period_col else "NULL"
    end_ref = b.ref("period_end", kind="ts")
    end = f"coalesce(tl_ts({end_ref}), {start} + INTERVAL 1 MONTH)"
    account = f"coalesce({b.ref('account_id')}, {vendor})"
    charge_type = f"lower(coalesce({b.ref('charge_type')}, 'subscription'))"
    tags = b.ref("tags", kind="json")
    select = dict.fromkeys(FOCUS_COLUMNS, "NULL")
    select.update(
        {
            "BillingAccountId": account,
            "BillingPeriodStart": start,
            "BillingPeriodEnd": end,
            "ChargePeriodStart": start,
            "ChargePeriodEnd": end,
            "BillingCurrency": f"upper({b.ref('currency')})",
            "BilledCost": amount,
            "EffectiveCost": amount,
            "ListCost": f"coalesce({quantity} * {unit_price}, {amount})",
            "ListUnitPrice": unit_price,
            "ContractedCost": amount,
            "ContractedUnitPrice": unit_price,
            "ChargeCategory": f"""CASE {charge_type} WHEN 'tax' THEN 'Tax' WHEN 'credit' THEN 'Credit'
                WHEN 'usage' THEN 'Usage' ELSE 'Purchase' END""",
            "ChargeDescription": f"coalesce({b.ref('description')}, {b.ref('product')})",
            "ChargeFrequency": f"CASE WHEN {charge_type} = 'usage' THEN 'Usage-Based' ELSE 'Recurring' END",
            "PricingQuantity": quantity,
            "PricingUnit": f"coalesce({b.ref('unit')}, 'Seat')",
            "ConsumedQuantity": quantity,
            "ConsumedUnit": f"coalesce({b.ref('unit')}, 'Seat')",
            "ServiceProviderName": vendor,
            "ProviderName": vendor,
            "PublisherName": vendor,
            "InvoiceIssuerName": vendor,
            "InvoiceId": b.ref("invoice_id"),
            "ServiceCategory": f"coalesce({b.ref('service_category')}, 'Other')",
            "ServiceName": b.ref("product"),
            "SkuId": b.ref("sku", "product"),
            "Tags": f"CAST({tags} AS JSON)",
            "x_tags": f"tl_norm_tags(tl_json_map({tags}))",
        }
    )
    select["x_scope"] = f"{vendor} || '/' || {account}"
    b.plan.select = select
    return b.plan


PLANS = {"focus": focus_plan, "cur": cur_plan, "cur2": cur_plan, "gcp_export": gcp_plan, "saas_invoice": saas_plan}
