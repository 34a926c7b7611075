"""Every raw table techledger can load, so the warehouse always has the same shape whichever sources are on.

The dbt models that unify several sources (deployments from GitHub, GitLab and Jenkins; incidents from
PagerDuty, GitHub and Jira; CI runs...) read every source's staging model. A company without Jenkins must still
get its deployments from GitHub and GitLab, so instead of dropping the models built on an unconfigured source,
the pipeline creates that source's raw tables empty before dbt runs (`ensure_raw_tables`).
"""

from __future__ import annotations

import duckdb

from ingestion.billing.schema import ensure_billing_tables
from ingestion.github.commits import COMMITS
from ingestion.github.deployments import DEPLOYMENT_STATUSES, DEPLOYMENTS
from ingestion.github.issues import ISSUES
from ingestion.github.pr_children import PR_COMMITS, PR_REVIEWS
from ingestion.github.pull_requests import PULL_REQUESTS
from ingestion.github.releases import RELEASES
from ingestion.github.workflow_runs import WORKFLOW_JOBS, WORKFLOW_RUNS
from ingestion.gitlab.deployments import DEPLOYMENTS as GITLAB_DEPLOYMENTS
from ingestion.gitlab.environments import ENVIRONMENTS
from ingestion.gitlab.merge_requests import TABLES as GITLAB_MR_TABLES
from ingestion.gitlab.pipelines import JOBS, PIPELINES
from ingestion.jenkins.builds import BUILDS
from ingestion.jira.tables import ALL_TABLES as JIRA_TABLES
from ingestion.loader import RawLoader, RawTable
from ingestion.pagerduty.directory import SERVICES, TEAMS
from ingestion.pagerduty.incidents import INCIDENTS, LOG_ENTRIES

RAW_TABLES: tuple[RawTable, ...] = (
    PULL_REQUESTS,
    PR_REVIEWS,
    PR_COMMITS,
    COMMITS,
    DEPLOYMENTS,
    DEPLOYMENT_STATUSES,
    ISSUES,
    RELEASES,
    WORKFLOW_RUNS,
    WORKFLOW_JOBS,
    *GITLAB_MR_TABLES,
    GITLAB_DEPLOYMENTS,
    ENVIRONMENTS,
    PIPELINES,
    JOBS,
    BUILDS,
    *JIRA_TABLES,
    SERVICES,
    TEAMS,
    INCIDENTS,
    LOG_ENTRIES,
)


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every missing raw table (empty) and the meta tables; existing tables and rows are untouched."""
    loader = RawLoader(con)
    loader.ensure_meta()
    for table in RAW_TABLES:
        loader.ensure_table(table)
    ensure_billing_tables(con)
