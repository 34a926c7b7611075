"""Jira ingestion: one multi-asset landing every Jira stream in ``raw_jira.<stream>``.

Thin on purpose: the connector (``ingestion.jira``) does the work; this decides what to pass it.
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Literal

import dagster as dg

from ingestion.http import HttpClient
from ingestion.jira.client import jira_client
from ingestion.jira.sync import sync_jira
from ingestion.jira.tables import ALL_TABLES
from ingestion.loader import RawLoader
from orchestration.assets.ingestion import WRITER_POOL, sync_metadata, table_rows
from orchestration.resources import WarehouseResource

STREAM_DESCRIPTIONS = {
    "issues": "Jira issues of the configured projects (incremental JQL window on `updated`, epoch-ms bounds).",
    "changelogs": "Full change histories (changelog bulkfetch) of the issues that changed in each sync.",
    "issue_deletions": "Tombstones from the id-only deletion census: issues no longer returned by Jira.",
    "fields": "Jira fields of the site, with the discovered story-points and sprint fields marked.",
    "statuses": "Workflow statuses with their status category.",
    "projects": "The configured Jira projects.",
    "boards": "Agile boards of the configured projects.",
    "sprints": "Sprints of the configured projects' scrum boards.",
}


class JiraResource(dg.ConfigurableResource):
    """A Jira site: Cloud (Basic email:api_token) or Data Center (Bearer personal access token).

    Pass `token` as ``dg.EnvVar("...")`` so Dagster resolves it at run time and never displays it.
    """

    base_url: str
    deployment: Literal["cloud", "data_center"] = "cloud"
    email: str | None = None
    token: str | None = None
    token_env: str | None = None
    projects: list[str]
    search_api: Literal["enhanced", "legacy"] = "enhanced"
    page_size: int = 100
    overlap_minutes: float = 15.0
    buffer_minutes: float = 5.0
    census: bool = True
    story_points_field: str | None = None
    sprint_field: str | None = None
    timeout_seconds: float = 30.0

    def client(self) -> HttpClient:
        return jira_client(
            self.base_url,
            deployment=self.deployment,
            email=self.email,
            token=self.token,
            token_env=self.token_env,
            timeout=(10.0, self.timeout_seconds),
        )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=["raw_jira", table.stream],
            group_name="ingestion",
            kinds={"jira", "duckdb"},
            description=STREAM_DESCRIPTIONS[table.stream],
        )
        for table in ALL_TABLES
    ],
    pool=WRITER_POOL,
    can_subset=False,
)
def jira_streams(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, jira: JiraResource
) -> Iterator[dg.MaterializeResult]:
    def progress(project: str, records: int) -> None:
        context.log.info(f"jira {project}: {records} records loaded so far")

    with jira.client() as client, warehouse.connect() as con:
        summaries = sync_jira(
            client,
            RawLoader(con),
            jira.projects,
            deployment=jira.deployment,
            search_api=jira.search_api,
            overlap=timedelta(minutes=jira.overlap_minutes),
            buffer=timedelta(minutes=jira.buffer_minutes),
            page_size=jira.page_size,
            census=jira.census,
            story_points_field=jira.story_points_field,
            sprint_field=jira.sprint_field,
            progress=progress,
        )
        for table in ALL_TABLES:
            yield dg.MaterializeResult(
                asset_key=["raw_jira", table.stream],
                metadata=sync_metadata(summaries.get(table.stream), row_count=table_rows(con, table)),
            )
