"""The billing drop-folder sensor: one run per new file (run key = sha256), none for files already seen."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb

from ingestion.billing import sha256_file
from orchestration.assets.billing import (
    BillingResource,
    billing_drop_folder_sensor,
    billing_ingest_job,
    raw_billing_cost_lines,
)
from orchestration.resources import WarehouseResource

HEADER = (
    "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,BilledCost,EffectiveCost\n"
)


def _focus(path: Path, days: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "".join(
        f"acct-1,2026-04-01T00:00:00Z,2026-05-01T00:00:00Z,2026-04-{d:02d}T00:00:00Z,2026-04-{d:02d}T23:00:00Z,"
        f"Usage,1.00,1.00\n"
        for d in range(1, days + 1)
    )
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def _evaluate(instance: dg.DagsterInstance, drop: Path, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"billing": BillingResource(drop_dir=str(drop))}
    )
    return billing_drop_folder_sensor(context)


def test_sensor_requests_one_run_per_new_file_and_none_for_seen_files(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    first = _focus(drop / "aws" / "focus" / "mtd-1.csv", 3)
    with dg.DagsterInstance.ephemeral() as instance:
        result = _evaluate(instance, drop, None)
        assert [r.run_key for r in result.run_requests] == [sha256_file(first)]
        assert billing_drop_folder_sensor.job_name == billing_ingest_job.name

        again = _evaluate(instance, drop, result.cursor)
        assert again.run_requests == []

        second = _focus(drop / "aws" / "focus" / "mtd-2.csv", 5)
        shutil.copy(first, drop / "aws" / "focus" / "copy-of-1.csv")
        third = _evaluate(instance, drop, again.cursor)
        assert [r.run_key for r in third.run_requests] == [sha256_file(second)]

        _focus(first, 4)  # the same path re-delivered with new content
        fourth = _evaluate(instance, drop, third.cursor)
        assert [r.run_key for r in fourth.run_requests] == [sha256_file(first)]


def test_billing_asset_loads_the_drop(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    _focus(drop / "aws" / "focus" / "mtd-1.csv", 3)
    warehouse = tmp_path / "wh.duckdb"
    result = dg.materialize(
        [raw_billing_cost_lines],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse), memory_limit="1GB"),
            "billing": BillingResource(drop_dir=str(drop)),
        },
    )
    assert result.success
    [event] = result.get_asset_materialization_events()
    assert event.materialization.metadata["dagster/row_count"].value == 3
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select status from meta.billing_files").fetchall() == [("loaded",)]
