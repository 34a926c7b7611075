"""PagerDuty ingestion: incidents (+ log entries), services and teams -> ``raw_pagerduty.<stream>``.

Thin: ``ingestion.pagerduty`` does the work (created-time windows of at most `window_days`, split under
the 10,000-offset cap, unresolved incidents re-fetched, log entries of changed incidents); this decides
what to pass it. Register ``PAGERDUTY_ASSETS`` with a ``PagerDutyResource`` under the resource key "pagerduty".
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import duckdb

from ingestion.http import HttpClient
from ingestion.loader import RawLoader, RawTable
from ingestion.pagerduty.client import pagerduty_client
from ingestion.pagerduty.directory import SERVICES, TEAMS, sync_services, sync_teams
from ingestion.pagerduty.incidents import INCIDENTS, LOG_ENTRIES, sync_incidents
from ingestion.runs import SyncSummary
from orchestration.assets.ingestion import WRITER_POOL, sync_metadata, table_rows
from orchestration.resources import WarehouseResource

GROUP = "ingestion"
KINDS = {"pagerduty", "duckdb"}


class PagerDutyResource(dg.ConfigurableResource):
    """A PagerDuty account: API root, the REST API key, the services to read (empty = all).

    Pass `token` as ``dg.EnvVar("...")`` so Dagster resolves it at run time and never displays it;
    `token_env` is only the variable's name, for error messages.
    """

    base_url: str = "https://api.pagerduty.com"
    token: str | None = None
    token_env: str | None = None
    service_ids: list[str] = []
    window_days: int = 90
    timeout_seconds: float = 30.0

    def client(self) -> HttpClient:
        return pagerduty_client(
            self.base_url, self.token, token_env=self.token_env, timeout=(10.0, self.timeout_seconds)
        )


def _spec(stream: str, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(key=["raw_pagerduty", stream], group_name=GROUP, kinds=KINDS, description=description)


def _result(con: duckdb.DuckDBPyConnection, table: RawTable, summary: SyncSummary) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        asset_key=["raw_pagerduty", table.stream], metadata=sync_metadata(summary, row_count=table_rows(con, table))
    )


@dg.multi_asset(
    specs=[
        _spec("incidents", "PagerDuty incidents in created-time windows; unresolved ones re-fetched by id."),
        _spec("log_entries", "Log entries (trigger, acknowledge, resolve) of new or changed incidents."),
    ],
    pool=WRITER_POOL,
    name="pagerduty_incidents_and_log_entries",
)
def pagerduty_incidents(warehouse: WarehouseResource, pagerduty: PagerDutyResource) -> Iterator[dg.MaterializeResult]:
    with pagerduty.client() as client, warehouse.connect() as con:
        summary = sync_incidents(client, RawLoader(con), list(pagerduty.service_ids), window_days=pagerduty.window_days)
        yield _result(con, INCIDENTS, summary)
        yield _result(con, LOG_ENTRIES, summary)


@dg.multi_asset(
    specs=[
        _spec("services", "PagerDuty services (full list each run): maps incidents to delivery services."),
        _spec("teams", "PagerDuty teams (full list each run)."),
    ],
    pool=WRITER_POOL,
    name="pagerduty_services_and_teams",
)
def pagerduty_directory(warehouse: WarehouseResource, pagerduty: PagerDutyResource) -> Iterator[dg.MaterializeResult]:
    with pagerduty.client() as client, warehouse.connect() as con:
        loader = RawLoader(con)
        services = sync_services(client, loader)
        teams = sync_teams(client, loader)
        yield _result(con, SERVICES, services)
        yield _result(con, TEAMS, teams)


PAGERDUTY_ASSETS = [pagerduty_incidents, pagerduty_directory]
