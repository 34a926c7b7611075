"""PagerDuty services and teams -> `raw_pagerduty.services`, `raw_pagerduty.teams`.

Both are small, change rarely and have no `since` filter: each run reads the whole list (classic
offset pagination, `more`/`offset`) and upserts it by id. The services map incidents to teams and to
the delivery services dbt knows (by name).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ingestion.http import HttpClient
from ingestion.loader import RawLoader, RawTable
from ingestion.meta import SyncRun
from ingestion.pagerduty.client import SOURCE, bad_payload, offset_pages
from ingestion.runs import SyncSummary, run_scopes

SERVICES = RawTable(
    source=SOURCE,
    stream="services",
    primary_key=("id",),
    columns={"id": "VARCHAR", "name": "VARCHAR", "status": "VARCHAR"},
)
TEAMS = RawTable(
    source=SOURCE,
    stream="teams",
    primary_key=("id",),
    columns={"id": "VARCHAR", "name": "VARCHAR"},
)


def _sync_list(client: HttpClient, loader: RawLoader, table: RawTable, path: str, batch_size: int) -> SyncSummary:
    loader.ensure_table(table)

    def sync_scope(scope: str, run: SyncRun) -> Mapping[str, Any]:
        rows: list[dict[str, Any]] = []
        for items, _body in offset_pages(client, path, table.stream, {}):
            for index, item in enumerate(items):
                if not isinstance(item, dict) or not item.get("id"):
                    raise bad_payload(client, client.url_for(path), f"{table.stream} item {index} has no id")
                rows.append({"id": item["id"], "name": item.get("name"), "status": item.get("status"), "payload": item})
            if len(rows) >= batch_size:
                loader.upsert(table, rows, run)
                rows = []
        state = {"synced": True}
        loader.upsert(table, rows, run, state=state)
        return state

    return run_scopes(client, loader, SOURCE, table.stream, ["all"], sync_scope)


def sync_services(client: HttpClient, loader: RawLoader, *, batch_size: int = 500) -> SyncSummary:
    """Read every PagerDuty service (full list each run)."""
    return _sync_list(client, loader, SERVICES, "/services", batch_size)


def sync_teams(client: HttpClient, loader: RawLoader, *, batch_size: int = 500) -> SyncSummary:
    """Read every PagerDuty team (full list each run)."""
    return _sync_list(client, loader, TEAMS, "/teams", batch_size)
