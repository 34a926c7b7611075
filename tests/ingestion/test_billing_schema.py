"""The billing tables: the dbt staging fallback mirrors the raw table, and every load is a logged sync run."""

from __future__ import annotations

import re
from pathlib import Path

from ingestion.billing.schema import COST_LINE_COLUMNS
from tests.ingestion.billing_helpers import focus_row, loader, write_csv

STAGING = Path(__file__).parents[2] / "dbt_project" / "models" / "staging" / "billing" / "stg_billing__cost_lines.sql"


def test_dbt_staging_fallback_lists_every_raw_column_with_its_type() -> None:
    fallback = re.findall(r"cast\(null as ([^)]+\)?)\) as (\w+)", STAGING.read_text(encoding="utf-8"))
    assert fallback == [(kind.lower(), name.lower()) for name, kind in COST_LINE_COLUMNS.items()]


def test_each_drop_load_is_recorded_in_sync_runs(tmp_path: Path) -> None:
    write_csv(tmp_path / "drop" / "aws" / "focus" / "a.csv", [focus_row(1, "2.00"), focus_row(2, "3.00")])
    billing = loader()

    billing.load_drop(tmp_path / "drop")

    runs = billing.con.execute("select source, stream, records, outcome from meta.sync_runs").fetchall()
    assert runs == [("billing", "cost_lines", 2, "success")]
