"""Ingestion assets: one per API stream, each landing in ``raw_<source>.<stream>``; and what they share.

Every source's assets report the same metadata (``sync_metadata``) and most run one sync the same way
(``run_sync``), so a new source module only declares its assets.
"""

from collections.abc import Callable
from datetime import timedelta

import dagster as dg
import duckdb

from ingestion.github.pull_requests import sync_pull_requests
from ingestion.http import HttpClient
from ingestion.loader import RawLoader, RawTable
from ingestion.runs import SyncSummary
from orchestration.resources import GitHubResource, WarehouseResource

WRITER_POOL = "duckdb_writer"

Sync = Callable[[HttpClient, RawLoader, list[str]], SyncSummary]


def table_rows(con: duckdb.DuckDBPyConnection, table: RawTable) -> int:
    """Rows in a raw table (0 when the sync never had to create it)."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [table.schema, table.stream]
    ).fetchone()
    return con.sql(f"select count(*) from {table.sql_name}").fetchone()[0] if exists and exists[0] else 0


def sync_metadata(
    summary: SyncSummary | None, scope_label: str | None = None, row_count: int | None = None
) -> dict[str, dg.MetadataValue]:
    """What every ingestion asset reports: records and requests of this sync, the table's size, and per scope
    (repository, project, job folder...) the records, requests and outcome, under ``scope_label``."""
    metadata = {
        "records_synced": dg.MetadataValue.int(summary.records if summary else 0),
        "requests": dg.MetadataValue.int(summary.requests if summary else 0),
    }
    if row_count is not None:
        metadata["dagster/row_count"] = dg.MetadataValue.int(row_count)
    if scope_label and summary is not None:
        metadata[scope_label] = dg.MetadataValue.json(
            {r.scope: {"records": r.records, "requests": r.requests, "outcome": r.outcome} for r in summary.results}
        )
    return metadata


def run_sync(
    warehouse: WarehouseResource, client: HttpClient, sync: Sync, scopes: list[str], scope_label: str
) -> dict[str, dg.MetadataValue]:
    """Open the warehouse, run one connector sync over ``scopes`` with ``client``, and return its metadata."""
    with client, warehouse.connect() as con:
        summary = sync(client, RawLoader(con), list(scopes))
    return sync_metadata(summary, scope_label)


@dg.asset(
    key=["raw_github", "pull_requests"],
    group_name="ingestion",
    pool=WRITER_POOL,
    kinds={"github", "duckdb"},
    description=(
        "GitHub pull requests of the configured repositories, upserted into raw_github.pull_requests. "
        "Incremental: walks each repository's PRs newest-updated first and stops below the last cursor minus "
        "an overlap; every sync is recorded in meta.sync_runs."
    ),
)
def github_pull_requests(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, github: GitHubResource
) -> dg.MaterializeResult:
    client = github.client()

    def progress(repo: str, records: int) -> None:
        context.log.info(f"{repo}: {records} pull requests loaded so far")

    with warehouse.connect() as con:
        loader = RawLoader(con)
        loader.ensure_meta()
        summary = sync_pull_requests(
            client,
            loader,
            github.repos,
            overlap=timedelta(minutes=github.overlap_minutes),
            per_page=github.per_page,
            progress=progress,
        )
        total_rows = con.sql("select count(*) from raw_github.pull_requests").fetchone()[0]
    return dg.MaterializeResult(metadata=sync_metadata(summary, "repos", total_rows))
