"""Delivery semantics: re-deliveries replace, duplicates load once, corrections keep their periods, bad files
are quarantined without touching what is stored."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

from ingestion.billing import pending_files, scan_drop_folder
from tests.ingestion.billing_helpers import at, focus_row, loader, statuses, totals, write_csv

MTD = "aws/focus/acct-1/2026-04"


def _mtd_rows(days: int, month: str = "2026-04") -> list[dict[str, str]]:
    return [focus_row(day, "10.00", month=month) for day in range(1, days + 1)]


def test_month_delivered_three_times_keeps_the_last_delivery_not_the_sum(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    for k, days in enumerate((5, 10, 15), start=1):
        write_csv(drop / MTD / f"mtd-{k}.csv", _mtd_rows(days), delivered=at(days + 1))
    billing = loader()

    results = billing.load_drop(drop)

    assert [r.status for r in results] == ["loaded", "loaded", "loaded"]
    assert totals(billing.con) == (15, Decimal("150.00"), Decimal("150.00"))
    state = statuses(billing.con)
    assert state[f"{MTD}/mtd-1.csv"][0] == "superseded"
    assert state[f"{MTD}/mtd-2.csv"] == ("superseded", f"replaced by {MTD}/mtd-3.csv")
    assert state[f"{MTD}/mtd-3.csv"][0] == "loaded"
    recorded = billing.con.execute(
        "select rows, billed_cost, effective_cost from meta.billing_files where path = ?", [f"{MTD}/mtd-3.csv"]
    ).fetchone()
    assert recorded == (15, Decimal("150.00"), Decimal("150.00"))


def test_redelivery_loaded_in_a_later_run_replaces_in_one_transaction(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    write_csv(drop / MTD / "mtd-1.csv", _mtd_rows(5), delivered=at(6))
    billing = loader()
    billing.load_drop(drop)
    write_csv(drop / MTD / "mtd-2.csv", _mtd_rows(8), delivered=at(9))

    [result] = billing.load_drop(drop)

    assert result.status == "loaded"
    assert totals(billing.con) == (8, Decimal("80.00"), Decimal("80.00"))


def test_an_older_delivery_arriving_late_does_not_replace_the_newer(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    write_csv(drop / MTD / "mtd-new.csv", _mtd_rows(12), delivered=at(13))
    billing = loader()
    billing.load_drop(drop)
    write_csv(drop / MTD / "mtd-old.csv", _mtd_rows(4), delivered=at(5))

    [result] = billing.load_drop(drop)

    assert result.status == "superseded"
    assert totals(billing.con) == (12, Decimal("120.00"), Decimal("120.00"))


def test_other_scopes_and_periods_are_untouched_by_a_redelivery(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    write_csv(drop / MTD / "a.csv", _mtd_rows(3), delivered=at(4))
    write_csv(drop / "aws/focus/acct-2/b.csv", [focus_row(1, "7.00", month="2026-04", BillingAccountId="acct-2")])
    write_csv(drop / "aws/focus/acct-1/2026-03/c.csv", [focus_row(1, "5.00", month="2026-03")], delivered=at(2))
    write_csv(drop / MTD / "a2.csv", _mtd_rows(4), delivered=at(5))
    billing = loader()

    billing.load_drop(drop)

    assert totals(billing.con, "BillingAccountId = 'acct-2'")[1] == Decimal("7.00")
    assert totals(billing.con, "x_billing_period = '2026-03-01'")[1] == Decimal("5.00")
    assert totals(billing.con, "BillingAccountId = 'acct-1' and x_billing_period = '2026-04-01'")[1] == Decimal("40.00")


def test_same_content_seen_twice_is_loaded_once(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    first = write_csv(drop / MTD / "mtd.csv", _mtd_rows(3), delivered=at(4))
    copy = drop / "aws/focus/acct-1/copy/mtd-copy.csv"
    copy.parent.mkdir(parents=True)
    shutil.copy(first, copy)
    billing = loader()

    results = billing.load_drop(drop)
    again = billing.load_drop(drop)

    assert sorted(r.status for r in results) == ["duplicate", "loaded"]
    assert again == []
    assert pending_files(billing.con, scan_drop_folder(drop)) == []
    assert totals(billing.con)[0] == 3
    assert statuses(billing.con)["aws/focus/acct-1/copy/mtd-copy.csv"] == (
        "duplicate",
        f"same content as {MTD}/mtd.csv",
    )


def test_correction_for_a_closed_month_keeps_billing_and_charge_periods(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    write_csv(drop / "aws/focus/acct-1/2026-02/feb.csv", _mtd_rows(28, month="2026-02"), delivered=at(2, month=3))
    billing = loader()
    billing.load_drop(drop)
    closed_before = billing.con.execute(
        "select * exclude (x_loaded_at) from raw_billing.cost_lines order by x_source_row"
    ).fetchall()
    write_csv(drop / MTD / "mtd.csv", _mtd_rows(6), delivered=at(7))
    correction = focus_row(
        1,
        "-25.00",
        month="2026-04",
        ChargeClass="Correction",
        ChargeCategory="Credit",
        ChargePeriodStart="2026-02-10T00:00:00Z",
        ChargePeriodEnd="2026-02-11T00:00:00Z",
    )
    write_csv(drop / MTD / "corrections.csv", [correction], delivered=at(8))

    results = billing.load_drop(drop)

    assert [r.status for r in results] == ["loaded", "loaded"]
    row = billing.con.execute(
        "select strftime(BillingPeriodStart, '%Y-%m'), strftime(ChargePeriodStart, '%Y-%m-%d'), BilledCost, "
        "x_delivery_kind from raw_billing.cost_lines where ChargeClass = 'Correction'"
    ).fetchall()
    assert row == [("2026-04", "2026-02-10", Decimal("-25.00"), "corrections")]
    closed_after = billing.con.execute(
        "select * exclude (x_loaded_at) from raw_billing.cost_lines "
        "where x_billing_period = '2026-02-01' order by x_source_row"
    ).fetchall()
    assert closed_after == closed_before
    # the corrections file does not wipe the open month's regular delivery
    assert totals(billing.con, "x_billing_period = '2026-04-01'")[1] == Decimal("35.00")


def test_malformed_file_is_quarantined_with_reason_and_the_rest_loads(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    write_csv(drop / MTD / "good-1.csv", _mtd_rows(5), delivered=at(6))
    billing = loader()
    billing.load_drop(drop)
    bad_rows = _mtd_rows(9)
    bad_rows[6]["BilledCost"] = "1O.00"
    write_csv(drop / MTD / "bad.csv", bad_rows, delivered=at(10))
    missing = [{k: v for k, v in r.items() if k != "EffectiveCost"} for r in _mtd_rows(9)]
    write_csv(drop / MTD / "missing.csv", missing, delivered=at(10, 1))
    write_csv(drop / "aws/focus/acct-9/other.csv", [focus_row(1, "3.00", BillingAccountId="acct-9")])

    results = {r.relative_path: r for r in billing.load_drop(drop)}

    assert results[f"{MTD}/bad.csv"].status == "quarantined"
    assert results[f"{MTD}/bad.csv"].reason == (
        f"{MTD}/bad.csv: column BilledCost: not a number ('1O.00') at data row 7 (line 8); 1 column(s) with bad values"
    )
    assert results[f"{MTD}/missing.csv"].reason == f"{MTD}/missing.csv: missing mandatory column(s) EffectiveCost"
    assert results["aws/focus/acct-9/other.csv"].status == "loaded"
    # what was stored for the period before the bad re-delivery is intact
    assert totals(billing.con, "BillingAccountId = 'acct-1'") == (5, Decimal("50.00"), Decimal("50.00"))
    assert statuses(billing.con)[f"{MTD}/bad.csv"][0] == "quarantined"


def test_structurally_broken_csv_is_quarantined(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    path = write_csv(drop / MTD / "ok.csv", _mtd_rows(2))
    with path.open("a", encoding="utf-8") as handle:
        handle.write('acct-1,"unterminated\n')
    billing = loader()

    [result] = billing.load_drop(drop)

    assert result.status == "quarantined"
    assert result.reason.startswith(f"{MTD}/ok.csv: ")
    assert totals(billing.con)[0] == 0
