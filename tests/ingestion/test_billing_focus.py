"""FOCUS files: the specification's worked examples, version column variants and tag-key normalisation."""

from __future__ import annotations

import csv
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from tests.ingestion.billing_helpers import focus_row, loader, write_csv

EXAMPLES = Path(__file__).parent / "fixtures" / "focus_spec_examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.csv"))


# Two examples carry an impossible timestamp (ChargePeriodEnd 2023-02-01T30:00:00Z, hour 30) in the spec itself;
# a real feed like that must be quarantined with the column and row, not loaded with a guessed time.
INVALID_IN_SPEC = {"commitment_discount_purchase_scenario_2": 3, "commitment_discount_purchase_scenario_3": 4}


def _money(text: str) -> Decimal:
    return Decimal(text.strip().replace("$", "").replace(",", ""))


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=[p.stem for p in EXAMPLE_FILES])
def test_focus_spec_examples_keep_billed_and_effective_cost_per_row(example: Path, tmp_path: Path) -> None:
    """Each worked example of the FOCUS 1.2 spec (CC BY 4.0, FinOps Foundation FOCUS project) loads row by row
    with the spec's BilledCost and EffectiveCost: $-formatted amounts, M/D/YY dates, BOMs and "null" included."""
    target = tmp_path / "drop" / "examples" / "focus" / example.name
    target.parent.mkdir(parents=True)
    shutil.copy(example, target)
    with example.open(encoding="utf-8-sig", newline="") as handle:
        expected = [(_money(r["BilledCost"]), _money(r["EffectiveCost"])) for r in csv.DictReader(handle)]
    billing = loader()

    [result] = billing.load_drop(tmp_path / "drop")

    if example.stem in INVALID_IN_SPEC:
        row = INVALID_IN_SPEC[example.stem]
        assert result.status == "quarantined"
        assert f"column ChargePeriodEnd: not a timestamp ('2023-02-01T30:00:00Z') at data row {row}" in result.reason
        assert billing.con.execute("select count(*) from raw_billing.cost_lines").fetchone()[0] == 0
        return
    assert result.status == "loaded", result.reason
    got = billing.con.execute(
        "select BilledCost, EffectiveCost from raw_billing.cost_lines order by x_source_row"
    ).fetchall()
    assert got == expected
    assert result.billed_cost == sum(b for b, _ in expected)
    assert result.effective_cost == sum(e for _, e in expected)


def test_focus_version_column_variants_map_to_the_same_columns(tmp_path: Path) -> None:
    """FOCUS 1.0-1.2 ProviderName and 1.3 ServiceProviderName/HostProviderName land in the same columns."""
    v12 = focus_row(1, "10.00", BillingAccountId="a-12")
    v13 = {k: v for k, v in focus_row(1, "10.00", BillingAccountId="a-13").items() if k != "ProviderName"}
    v13 |= {"ServiceProviderName": "AWS", "HostProviderName": "AWS"}
    write_csv(tmp_path / "drop" / "aws" / "focus" / "v12.csv", [v12])
    write_csv(tmp_path / "drop" / "aws" / "focus" / "v13.csv", [v13])
    billing = loader()

    results = billing.load_drop(tmp_path / "drop")

    assert [r.status for r in results] == ["loaded", "loaded"]
    rows = billing.con.execute(
        "select BillingAccountId, ServiceProviderName, ProviderName, HostProviderName "
        "from raw_billing.cost_lines order by 1"
    ).fetchall()
    assert rows == [("a-12", "AWS", "AWS", None), ("a-13", "AWS", "AWS", "AWS")]


def test_tag_keys_are_normalised_and_originals_kept(tmp_path: Path) -> None:
    rows = [
        focus_row(1, "1.00", Tags=json.dumps({"Team": "search", "Cost Center": "cc-1"})),
        focus_row(2, "1.00", Tags=json.dumps({" TEAM ": "search", "cost-center": "cc-1"})),
        focus_row(3, "1.00", Tags=json.dumps({"team": "search"})),
        focus_row(4, "1.00", Tags=""),
    ]
    write_csv(tmp_path / "drop" / "aws" / "focus" / "tags.csv", rows)
    billing = loader()

    billing.load_drop(tmp_path / "drop")

    got = billing.con.execute("select Tags, x_tags from raw_billing.cost_lines order by x_source_row").fetchall()
    assert [json.loads(t) if t else None for t, _ in got] == [
        {"Team": "search", "Cost Center": "cc-1"},
        {" TEAM ": "search", "cost-center": "cc-1"},
        {"team": "search"},
        None,
    ]
    assert [m for _, m in got] == [
        {"team": "search", "cost_center": "cc-1"},
        {"team": "search", "cost_center": "cc-1"},
        {"team": "search"},
        None,
    ]
