"""Ingestion assets: one per API stream, each landing in ``raw_<source>.<stream>``."""

from datetime import timedelta

import dagster as dg

from ingestion.github.pull_requests import sync_pull_requests
from ingestion.loader import RawLoader
from orchestration.resources import GitHubResource, WarehouseResource

WRITER_POOL = "duckdb_writer"


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
    return dg.MaterializeResult(
        metadata={
            "records_synced": dg.MetadataValue.int(summary.records),
            "requests": dg.MetadataValue.int(summary.requests),
            "dagster/row_count": dg.MetadataValue.int(total_rows),
            "repos": dg.MetadataValue.json(
                {r.scope: {"records": r.records, "requests": r.requests, "outcome": r.outcome} for r in summary.results}
            ),
        }
    )
