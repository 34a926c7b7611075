"""The canonical FOCUS-shaped cost table and the billing meta tables.

`raw_billing.cost_lines` uses the FOCUS column names (1.2 set plus the 1.3 provider columns) so FOCUS
use-case queries run on it unchanged; every provider-specific extra is an `x_` column, as the spec asks
for custom columns. Money is DECIMAL(38, 10): sums tie to the cent, which floats do not guarantee.

`meta.billing_files` is the operator's log of every file ever seen in the drop folder;
`meta.billing_partitions` says which delivery currently owns each (dataset, scope, billing period, kind),
which is what makes a re-delivery replace the previous one instead of adding to it.
"""

from __future__ import annotations

# Costs: 8 decimals, up to 10 billion per line; DECIMAL(18, x) casts several times faster than DECIMAL(38, x)
# (128-bit), which matters at tens of millions of rows. Quantities and unit prices need range and precision.
MONEY = "DECIMAL(18, 8)"
QUANTITY = "DECIMAL(38, 10)"

# FOCUS columns of raw_billing.cost_lines, in order, with their DuckDB types.
FOCUS_COLUMNS: dict[str, str] = {
    "BillingAccountId": "VARCHAR",
    "BillingAccountName": "VARCHAR",
    "BillingAccountType": "VARCHAR",
    "SubAccountId": "VARCHAR",
    "SubAccountName": "VARCHAR",
    "SubAccountType": "VARCHAR",
    "BillingPeriodStart": "TIMESTAMPTZ",
    "BillingPeriodEnd": "TIMESTAMPTZ",
    "ChargePeriodStart": "TIMESTAMPTZ",
    "ChargePeriodEnd": "TIMESTAMPTZ",
    "BillingCurrency": "VARCHAR",
    "BilledCost": MONEY,
    "EffectiveCost": MONEY,
    "ListCost": MONEY,
    "ListUnitPrice": QUANTITY,
    "ContractedCost": MONEY,
    "ContractedUnitPrice": QUANTITY,
    "ChargeCategory": "VARCHAR",
    "ChargeClass": "VARCHAR",
    "ChargeDescription": "VARCHAR",
    "ChargeFrequency": "VARCHAR",
    "PricingCategory": "VARCHAR",
    "PricingQuantity": QUANTITY,
    "PricingUnit": "VARCHAR",
    "ConsumedQuantity": QUANTITY,
    "ConsumedUnit": "VARCHAR",
    "ServiceProviderName": "VARCHAR",
    "HostProviderName": "VARCHAR",
    "ProviderName": "VARCHAR",
    "PublisherName": "VARCHAR",
    "InvoiceIssuerName": "VARCHAR",
    "InvoiceId": "VARCHAR",
    "ServiceCategory": "VARCHAR",
    "ServiceSubcategory": "VARCHAR",
    "ServiceName": "VARCHAR",
    "ResourceId": "VARCHAR",
    "ResourceName": "VARCHAR",
    "ResourceType": "VARCHAR",
    "RegionId": "VARCHAR",
    "RegionName": "VARCHAR",
    "AvailabilityZone": "VARCHAR",
    "SkuId": "VARCHAR",
    "SkuPriceId": "VARCHAR",
    "SkuMeter": "VARCHAR",
    "CommitmentDiscountId": "VARCHAR",
    "CommitmentDiscountName": "VARCHAR",
    "CommitmentDiscountCategory": "VARCHAR",
    "CommitmentDiscountType": "VARCHAR",
    "CommitmentDiscountStatus": "VARCHAR",
    "CommitmentDiscountQuantity": QUANTITY,
    "CommitmentDiscountUnit": "VARCHAR",
    "PricingCurrency": "VARCHAR",
    "PricingCurrencyEffectiveCost": MONEY,
    "Tags": "JSON",
}

# Extras: lineage, delivery keys and provider-specific values.
X_COLUMNS: dict[str, str] = {
    "x_tags": "MAP(VARCHAR, VARCHAR)",  # Tags with normalised keys (lower case, trimmed, spaces/dashes -> _)
    "x_dataset": "VARCHAR",  # <provider>/<format> drop sub-folder, e.g. aws/cur2
    "x_source_format": "VARCHAR",  # focus | cur2 | cur | gcp_export | saas_invoice
    "x_scope": "VARCHAR",  # billing account (cloud) or issuer/account (SaaS): the delivery scope
    "x_billing_period": "DATE",  # first day of BillingPeriodStart's month
    "x_delivery_kind": "VARCHAR",  # charges | corrections (a file holding only ChargeClass=Correction rows)
    "x_line_item_type": "VARCHAR",  # CUR lineItem type, GCP cost_type
    "x_usage_type": "VARCHAR",
    "x_operation": "VARCHAR",
    "x_cost_before_credits": MONEY,  # GCP `cost`
    "x_credits_amount": MONEY,  # GCP sum(credits.amount), negative
    "x_credits": "JSON",
    "x_extra": "JSON",  # every source column the mapping did not use, by its source name
    "x_file_hash": "VARCHAR",
    "x_file_path": "VARCHAR",
    "x_source_row": "BIGINT",  # 1-based data row in the file (header excluded)
    "x_delivered_at": "TIMESTAMPTZ",
    "x_loaded_at": "TIMESTAMPTZ",
}

COST_LINE_COLUMNS: dict[str, str] = {**FOCUS_COLUMNS, **X_COLUMNS}

COST_LINES = "raw_billing.cost_lines"
BILLING_FILES = "meta.billing_files"
BILLING_PARTITIONS = "meta.billing_partitions"

FileStatus = str  # loaded | superseded | quarantined | duplicate
STATUSES = ("loaded", "superseded", "quarantined", "duplicate")

BILLING_DDL: tuple[str, ...] = (
    "CREATE SCHEMA IF NOT EXISTS raw_billing",
    "CREATE SCHEMA IF NOT EXISTS meta",
    "CREATE TABLE IF NOT EXISTS raw_billing.cost_lines ("
    + ", ".join(f'"{name}" {kind}' for name, kind in COST_LINE_COLUMNS.items())
    + ")",
    """
    CREATE TABLE IF NOT EXISTS meta.billing_files (
        path VARCHAR NOT NULL,
        content_hash VARCHAR NOT NULL,
        provider VARCHAR,
        format VARCHAR,
        dataset VARCHAR,
        scope VARCHAR,
        billing_period VARCHAR,
        delivery_id VARCHAR,
        delivered_at TIMESTAMPTZ,
        size_bytes BIGINT,
        mtime_ns BIGINT,
        rows BIGINT,
        billed_cost DECIMAL(38, 8),
        effective_cost DECIMAL(38, 8),
        status VARCHAR NOT NULL CHECK (status IN ('loaded', 'superseded', 'quarantined', 'duplicate')),
        reason VARCHAR,
        superseded_by VARCHAR,
        loaded_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (path, content_hash)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS meta.billing_partitions (
        dataset VARCHAR NOT NULL,
        scope VARCHAR NOT NULL,
        billing_period DATE NOT NULL,
        delivery_kind VARCHAR NOT NULL,
        content_hash VARCHAR NOT NULL,
        path VARCHAR NOT NULL,
        delivered_at TIMESTAMPTZ NOT NULL,
        rows BIGINT NOT NULL,
        billed_cost DECIMAL(38, 8),
        effective_cost DECIMAL(38, 8),
        updated_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (dataset, scope, billing_period, delivery_kind)
    )
    """,
)


def ensure_billing_tables(con) -> None:
    """Create raw_billing.cost_lines and the billing meta tables if missing (idempotent)."""
    for statement in BILLING_DDL:
        con.execute(statement)
