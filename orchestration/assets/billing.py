"""Billing ingestion in Dagster: the ``raw_billing/cost_lines`` asset and the drop-folder sensor.

Thin on purpose: the asset calls ``ingestion.billing.load_drop`` (which decides what is new, replaces
re-delivered periods and quarantines bad files) and reports ``meta.billing_files``; the sensor only looks at
the folder. It never opens the warehouse (DuckDB has one writer; a sensor holding a read lock would make the
writing asset fail), so it remembers what it has seen in its cursor: ``{relative path: [size, mtime_ns, sha256]}``.
The cursor also spares re-hashing unchanged files every tick. One run is requested per new content hash, with
``run_key = sha256``, so even a reset cursor cannot launch the same file twice (Dagster skips known run keys),
and the loader's own meta check makes a repeated run a no-op anyway. Each run loads every pending file in
delivery order, so queued runs (pool ``duckdb_writer``) may run in any order without losing a restatement.
"""

import hashlib
import json
from pathlib import Path

import dagster as dg

from ingestion.billing import file_summary, load_drop, scan_drop_folder
from orchestration.assets.ingestion import WRITER_POOL
from orchestration.resources import WarehouseResource

BILLING_ASSET_KEY = dg.AssetKey(["raw_billing", "cost_lines"])
BILLING_JOB_NAME = "billing_ingest_job"


class BillingResource(dg.ConfigurableResource):
    """Where billing files are dropped: ``<drop_dir>/<provider>/<format>/...`` (see ingestion/billing/scanner.py)."""

    drop_dir: str
    memory_limit: str | None = None  # DuckDB memory_limit while loading; None keeps the warehouse's setting


@dg.asset(
    key=BILLING_ASSET_KEY,
    group_name="ingestion",
    pool=WRITER_POOL,
    kinds={"duckdb", "csv", "parquet"},
    description=(
        "Cloud and SaaS cost lines in FOCUS shape (FOCUS 1.0-1.3, AWS CUR 2.0/legacy, GCP billing export, SaaS "
        "invoices) from the billing drop folder. A re-delivery of a billing period replaces the previous one; "
        "bad files are quarantined; every file is recorded in meta.billing_files."
    ),
)
def raw_billing_cost_lines(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, billing: BillingResource
) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        results = load_drop(con, Path(billing.drop_dir), memory_limit=billing.memory_limit)
        for result in results:
            message = f"{result.relative_path}: {result.status} ({result.rows} rows)"
            if result.status == "quarantined":
                context.log.warning(f"{message}: {result.reason}")
            else:
                context.log.info(message)
        total_rows = con.execute("select count(*) from raw_billing.cost_lines").fetchone()[0]
        files = file_summary(con)
    counts: dict[str, int] = {}
    for row in files:
        counts[str(row["status"])] = counts.get(str(row["status"]), 0) + 1
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(total_rows),
            "files_handled": dg.MetadataValue.int(len(results)),
            "files_by_status": dg.MetadataValue.json(counts),
            "this_run": dg.MetadataValue.json(
                [{"path": r.relative_path, "status": r.status, "rows": r.rows, "reason": r.reason} for r in results]
            ),
        }
    )


billing_ingest_job = dg.define_asset_job(
    BILLING_JOB_NAME,
    selection=dg.AssetSelection.assets(BILLING_ASSET_KEY),
    description="Load new or re-delivered billing files from the drop folder into raw_billing.cost_lines.",
)


def _read_cursor(cursor: str | None) -> dict[str, tuple[int, int, str]]:
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except ValueError:
        return {}
    return {str(k): (int(v[0]), int(v[1]), str(v[2])) for k, v in data.items()} if isinstance(data, dict) else {}


@dg.sensor(
    name="billing_drop_folder_sensor",
    job=billing_ingest_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Requests an ingestion run when new or changed billing files appear (run key = their sha256s), "
        "so a dropped file is reflected without waiting for a schedule."
    ),
)
def billing_drop_folder_sensor(context: dg.SensorEvaluationContext, billing: BillingResource) -> dg.SensorResult:
    """One run per tick for all files new since the last tick: each run loads every pending file in delivery
    order, so one run per file (a first drop has hundreds) would only queue no-op runs behind the first."""
    known = _read_cursor(context.cursor)
    files = scan_drop_folder(Path(billing.drop_dir), known)
    seen_hashes = {entry[2] for entry in known.values()}
    new_files = []
    for drop_file in files:
        if drop_file.content_hash not in seen_hashes:
            seen_hashes.add(drop_file.content_hash)
            new_files.append(drop_file)
    requests = []
    if new_files:
        hashes = sorted(f.content_hash for f in new_files)
        run_key = hashes[0] if len(hashes) == 1 else hashlib.sha256("".join(hashes).encode()).hexdigest()
        first = new_files[0].relative_path[:200]
        requests.append(
            dg.RunRequest(
                run_key=run_key,
                tags={"techledger/billing_files": str(len(new_files)), "techledger/billing_file": first},
            )
        )
    cursor = {f.relative_path: [f.size_bytes, f.mtime_ns, f.content_hash] for f in files}
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))
