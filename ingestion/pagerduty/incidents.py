"""PagerDuty incidents and their log entries -> `raw_pagerduty.incidents`, `raw_pagerduty.log_entries`.

`since`/`until` filter on *created* time and may span at most 6 months; without them PagerDuty shows
only the last month. So (source-apis.md §4.1, §6):

- the walk reads `[start, window end)` in windows of at most `window_days` (90), `sort_by=created_at:asc`,
  following `more`/`offset`. `start` is the previous cursor minus `overlap`, or `initial_days` back on
  the first run; the window end is the server's Date minus `buffer`, stored as the cursor after the walk;
- offset + limit may not pass 10,000 (400 code 2002): a window whose first page reports (`total=true`)
  more incidents than that is halved, recursively; if a window still grows past it while paging, the
  rest is re-read from the last created time seen;
- incidents are created once but change status later, and the list filters on created time only: every
  incident stored unresolved and not met by the walk is re-fetched by id (`GET /incidents/{id}`);
- log entries (trigger / acknowledge / resolve, with timestamps: the acknowledgement time the incident
  object drops once resolved) are fetched for incidents that are new or changed (status or
  `last_status_change_at` differs from the stored row).

    python -m ingestion.pagerduty.incidents --warehouse data/warehouse.duckdb \
        --base-url https://api.pagerduty.com --token-env PAGERDUTY_TOKEN [--service-ids PABC123,...]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from ingestion.errors import NotFoundError, SourceError, SyncFailedError
from ingestion.http import HttpClient, server_time
from ingestion.loader import RawLoader, RawTable
from ingestion.meta import SyncRun
from ingestion.pagerduty.client import OFFSET_CAP, SOURCE, bad_payload, offset_pages, pagerduty_client
from ingestion.pagerduty.directory import sync_services, sync_teams
from ingestion.runs import SyncSummary, run_scopes

STREAM = "incidents"
ALL = "all"

logger = logging.getLogger("techledger.ingestion.pagerduty")

INCIDENTS = RawTable(
    source=SOURCE,
    stream="incidents",
    primary_key=("id",),
    columns={
        "id": "VARCHAR",
        "incident_number": "BIGINT",
        "service_id": "VARCHAR",
        "status": "VARCHAR",
        "created_at": "TIMESTAMPTZ",
        "last_status_change_at": "TIMESTAMPTZ",
        "resolved_at": "TIMESTAMPTZ",
    },
)
LOG_ENTRIES = RawTable(
    source=SOURCE,
    stream="log_entries",
    primary_key=("id",),
    columns={"id": "VARCHAR", "incident_id": "VARCHAR", "type": "VARCHAR", "created_at": "TIMESTAMPTZ"},
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no time zone")
    return parsed


def sync_incidents(
    client: HttpClient,
    loader: RawLoader,
    service_ids: Sequence[str] = (),
    *,
    window_days: int = 90,
    initial_days: int = 365,
    overlap: timedelta = timedelta(hours=1),
    buffer: timedelta = timedelta(minutes=1),
    limit: int = 100,
    batch_size: int = 500,
    fetch_log_entries: bool = True,
) -> SyncSummary:
    """Sync incidents (+ log entries) of each service id, or of the whole account when none are given.

    One scope (one `meta.sync_runs` row and cursor) per service id, or the scope "all".
    `fetch_log_entries=False` skips log entries (acknowledgement times) for a cheap bulk backfill.
    """
    if not 1 <= window_days <= 180:
        raise ValueError(f"window_days must be between 1 and 180 (PagerDuty allows 6 months), got {window_days}")
    if not 1 <= limit <= 100:
        raise ValueError(f"limit must be between 1 and 100, got {limit}")
    loader.ensure_table(INCIDENTS)
    loader.ensure_table(LOG_ENTRIES)
    scopes = list(service_ids) or [ALL]

    def sync_scope(scope: str, run: SyncRun) -> Mapping[str, Any]:
        services = {} if scope == ALL else {"service_ids[]": [scope]}
        state = loader.get_state(SOURCE, STREAM, scope) or {}
        cursor = _parse(state.get("cursor"))
        probe = client.get("/incidents", {**services, "limit": 1})
        window_end = server_time(probe) - buffer
        start = cursor - overlap if cursor is not None else window_end - timedelta(days=initial_days)
        sql = "SELECT id, status, last_status_change_at FROM raw_pagerduty.incidents"
        rows = loader.con.execute(
            sql + ("" if scope == ALL else " WHERE service_id = ?"), [] if scope == ALL else [scope]
        )
        known: dict[str, tuple[str, datetime | None]] = {r[0]: (r[1], r[2]) for r in rows.fetchall()}
        seen: set[str] = set()
        incidents: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        windows = 0

        def flush(new_state: Mapping[str, Any] | None = None) -> None:
            nonlocal incidents, entries
            loader.upsert(LOG_ENTRIES, entries, run)
            loader.upsert(INCIDENTS, incidents, run, state=new_state)
            incidents, entries = [], []

        def take(item: Any, url: str, where: str) -> None:
            if not isinstance(item, dict) or not item.get("id") or not item.get("created_at"):
                raise bad_payload(client, url, f"{where} is not an incident with an id and created_at")
            incident_id = str(item["id"])
            seen.add(incident_id)
            changed_at = _parse(item.get("last_status_change_at") or item.get("updated_at"))
            stored = known.get(incident_id)
            if stored is not None and stored[0] == item.get("status") and stored[1] == changed_at:
                return
            known[incident_id] = (str(item.get("status")), changed_at)
            incidents.append(
                {
                    "id": incident_id,
                    "incident_number": item.get("incident_number"),
                    "service_id": (item.get("service") or {}).get("id"),
                    "status": item.get("status"),
                    "created_at": item["created_at"],
                    "last_status_change_at": changed_at,
                    "resolved_at": item.get("resolved_at"),
                    "payload": item,
                }
            )
            if fetch_log_entries:
                path = f"/incidents/{incident_id}/log_entries"
                for page, _body in offset_pages(client, path, "log_entries", {}):
                    for index, entry in enumerate(page):
                        if not isinstance(entry, dict) or not entry.get("id"):
                            raise bad_payload(client, client.url_for(path), f"log entry {index} has no id")
                        entries.append(
                            {
                                "id": entry["id"],
                                "incident_id": incident_id,
                                "type": entry.get("type"),
                                "created_at": entry.get("created_at"),
                                "payload": entry,
                            }
                        )
            if len(incidents) + len(entries) >= batch_size:
                flush()

        def read_window(lo: datetime, hi: datetime) -> None:
            nonlocal windows
            params = {**services, "since": _iso(lo), "until": _iso(hi), "sort_by": "created_at:asc"}
            first = client.get_json("/incidents", {**params, "limit": limit, "offset": 0, "total": "true"})
            total = first.get("total") if isinstance(first, dict) else None
            if isinstance(total, int) and total > OFFSET_CAP and hi - lo >= timedelta(seconds=2):
                middle = (lo + (hi - lo) / 2).replace(microsecond=0)
                read_window(lo, middle)
                read_window(middle, hi)
                return
            windows += 1
            url = client.url_for("/incidents", params)
            offset, body, last_created = 0, first, None
            while True:
                items = body.get("incidents") if isinstance(body, dict) else None
                if not isinstance(items, list):
                    raise bad_payload(client, url, "expected an object with an 'incidents' list")
                for index, item in enumerate(items):
                    take(item, url, f"incident {offset + index}")
                    last_created = _parse(item["created_at"])
                if not body.get("more") or not items:
                    return
                offset += int(body.get("limit") or len(items))
                if offset + limit > OFFSET_CAP:
                    # Grew past the cap while paging: re-read the rest from the last created time seen.
                    if last_created is None or last_created <= lo:
                        raise bad_payload(
                            client, url, f"more than {OFFSET_CAP} incidents created at {_iso(lo)}; cannot page on"
                        )
                    read_window(last_created, hi)
                    return
                body = client.get_json("/incidents", {**params, "limit": limit, "offset": offset})

        lo = start
        while lo < window_end:
            hi = min(window_end, lo + timedelta(days=window_days))
            read_window(lo, hi)
            lo = hi
        for incident_id, (status, _changed) in list(known.items()):
            if status != "resolved" and incident_id not in seen:
                path = f"/incidents/{incident_id}"
                try:
                    body = client.get_json(path)
                except NotFoundError:
                    logger.warning("pagerduty incident %s was unresolved and is gone (deleted)", incident_id)
                    continue
                take(body.get("incident") if isinstance(body, dict) else None, client.url_for(path), "the body")
        new_state = {"cursor": window_end.isoformat(), "windows": windows}
        flush(new_state)
        return new_state

    return run_scopes(client, loader, SOURCE, STREAM, scopes, sync_scope)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ingestion.pagerduty.incidents`: exit 0 on success, 1 if a scope failed, 2 on bad usage."""
    parser = argparse.ArgumentParser(
        prog="python -m ingestion.pagerduty.incidents",
        description="Sync PagerDuty incidents, log entries, services and teams into raw_pagerduty.*.",
    )
    parser.add_argument("--warehouse", required=True, help="DuckDB file to write")
    parser.add_argument("--base-url", default="https://api.pagerduty.com", help="PagerDuty REST API root")
    parser.add_argument("--token-env", default="PAGERDUTY_TOKEN", help="NAME of the env var holding the API key")
    parser.add_argument("--service-ids", default="", help="comma-separated service ids (default: all)")
    parser.add_argument("--window-days", type=int, default=90)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    key = os.environ.get(args.token_env)
    if not key:
        print(f"error: environment variable {args.token_env} is not set or empty", file=sys.stderr)
        return 2
    service_ids = [s.strip() for s in args.service_ids.split(",") if s.strip()]
    summaries: list[SyncSummary] = []
    try:
        with (
            duckdb.connect(args.warehouse) as con,
            pagerduty_client(args.base_url, key, token_env=args.token_env) as client,
        ):
            loader = RawLoader(con)
            summaries.append(sync_services(client, loader))
            summaries.append(sync_teams(client, loader))
            summaries.append(sync_incidents(client, loader, service_ids, window_days=args.window_days))
    except SyncFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (SourceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for summary in summaries:
        for result in summary.results:
            print(f"{summary.stream} {result.scope}: {result.records} records, {result.requests} requests")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
