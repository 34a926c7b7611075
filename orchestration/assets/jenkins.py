"""Jenkins ingestion: builds of every job below the configured top-level folders -> ``raw_jenkins.builds``.

Thin: ``ingestion.jenkins.builds`` does the work (folder recursion, ``allBuilds{M,N}`` ranges, re-fetch
of running builds); this decides what to pass it. Register ``JENKINS_ASSETS`` with a ``JenkinsResource``
under the resource key "jenkins".
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from ingestion.http import HttpClient
from ingestion.jenkins.builds import BUILDS, sync_builds
from ingestion.jenkins.client import jenkins_client
from ingestion.loader import RawLoader
from orchestration.assets.ingestion import WRITER_POOL, sync_metadata, table_rows
from orchestration.resources import WarehouseResource


class JenkinsResource(dg.ConfigurableResource):
    """A Jenkins server: root URL, the user and API token (Basic auth), the top-level items to read.

    Pass `token` as ``dg.EnvVar("...")`` so Dagster resolves it at run time and never displays it;
    `token_env` is only the variable's name, for error messages. Empty `jobs` = every top-level item.
    """

    base_url: str
    user: str
    token: str | None = None
    token_env: str | None = None
    jobs: list[str] = []
    overlap_hours: float = 24.0
    timeout_seconds: float = 30.0

    def client(self) -> HttpClient:
        return jenkins_client(
            self.base_url, self.user, self.token, token_env=self.token_env, timeout=(10.0, self.timeout_seconds)
        )


@dg.asset(
    key=["raw_jenkins", "builds"],
    group_name="ingestion",
    pool=WRITER_POOL,
    kinds={"jenkins", "duckdb"},
    description=(
        "Jenkins builds of every job below the configured top-level folders (folders and multibranch projects "
        "recursed), read newest first with allBuilds{M,N} ranges down to the cursor minus the overlap; builds "
        "that were running are re-read by number."
    ),
)
def jenkins_builds(warehouse: WarehouseResource, jenkins: JenkinsResource) -> dg.MaterializeResult:
    with jenkins.client() as client, warehouse.connect() as con:
        summary = sync_builds(
            client, RawLoader(con), list(jenkins.jobs), overlap=timedelta(hours=jenkins.overlap_hours)
        )
        rows = table_rows(con, BUILDS)
    return dg.MaterializeResult(metadata=sync_metadata(summary, "scopes", rows))


JENKINS_ASSETS = [jenkins_builds]
