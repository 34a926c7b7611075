"""One Jira sync: field discovery, metadata, incremental issues + changelogs, optional deletion census.

Run as a module for a one-off sync:
    JIRA_API_TOKEN=... python -m ingestion.jira.sync --warehouse data/warehouse.duckdb \
        --base-url https://acme.atlassian.net --email me@acme.example --projects PAY,OPS
(`--deployment data_center` reads a Data Center site with a personal access token.)
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta

import duckdb

from ingestion.errors import SourceError, SyncFailedError
from ingestion.http import HttpClient
from ingestion.jira.client import JiraConfigurationError, endpoints, jira_client
from ingestion.jira.issues import Progress, census_deletions, check_projects, sync_issues
from ingestion.jira.metadata import JiraFields, discover_fields, fetch_fields, sync_metadata
from ingestion.loader import RawLoader
from ingestion.runs import SyncSummary

__all__ = ["JiraConfigurationError", "JiraFields", "sync_jira"]


def sync_jira(
    client: HttpClient,
    loader: RawLoader,
    projects: Sequence[str],
    *,
    deployment: str = "cloud",
    search_api: str = "enhanced",
    overlap: timedelta = timedelta(minutes=15),
    buffer: timedelta = timedelta(minutes=5),
    page_size: int = 100,
    census: bool = False,
    metadata: bool = True,
    story_points_field: str | None = None,
    sprint_field: str | None = None,
    progress: Progress | None = None,
) -> dict[str, SyncSummary]:
    """Sync every Jira stream of `projects`; returns one summary per stream.

    Every stream is attempted; if any scope of any stream failed, the first `SyncFailedError` is re-raised
    after the others ran (its `summary` and the other summaries are recorded in meta.sync_runs).
    """
    projects = check_projects(projects)
    ends = endpoints(deployment, search_api)
    raw_fields = fetch_fields(client, ends)
    fields = discover_fields(raw_fields, story_points_field=story_points_field, sprint_field=sprint_field)
    summaries: dict[str, SyncSummary] = {}
    failures: list[SyncFailedError] = []

    def attempt(name: str, call: Callable[[], SyncSummary | dict[str, SyncSummary]]) -> None:
        try:
            result = call()
        except SyncFailedError as exc:
            failures.append(exc)
            if exc.summary is not None:
                summaries[name] = exc.summary
            return
        if isinstance(result, dict):
            summaries.update(result)
        else:
            summaries[name] = result

    if metadata:
        attempt("metadata", lambda: sync_metadata(client, loader, ends, projects, fields, raw_fields))
    attempt(
        "issues",
        lambda: sync_issues(
            client,
            loader,
            ends,
            projects,
            fields,
            overlap=overlap,
            buffer=buffer,
            page_size=page_size,
            progress=progress,
        ),
    )
    if census:
        attempt("issue_deletions", lambda: census_deletions(client, loader, ends, projects))
    if failures:
        first = failures[0]
        raise SyncFailedError(
            "; ".join(str(f) for f in failures),
            source="jira",
            failures={k: v for f in failures for k, v in f.failures.items()},
            summary=summaries,
        ) from first
    return summaries


def main(argv: Sequence[str] | None = None) -> int:
    """Sync Jira into a DuckDB file; exit 0 on success, 1 if a scope failed, 2 on bad usage or configuration."""
    parser = argparse.ArgumentParser(
        prog="python -m ingestion.jira.sync", description="Incrementally sync Jira into raw_jira.* tables."
    )
    parser.add_argument("--warehouse", required=True, help="DuckDB file to write")
    parser.add_argument("--base-url", required=True, help="Jira site root, e.g. https://acme.atlassian.net")
    parser.add_argument("--projects", required=True, help="comma-separated project keys, e.g. PAY,OPS")
    parser.add_argument("--deployment", choices=["cloud", "data_center"], default="cloud")
    parser.add_argument("--search-api", choices=["enhanced", "legacy"], default="enhanced")
    parser.add_argument("--email", default=None, help="Atlassian account email (Cloud)")
    parser.add_argument("--token-env", default="JIRA_API_TOKEN", help="NAME of the env var holding the token")
    parser.add_argument("--overlap-minutes", type=float, default=15.0)
    parser.add_argument("--buffer-minutes", type=float, default=5.0)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--census", action="store_true", help="also run the deletion census")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token = os.environ.get(args.token_env)
    if not token:
        print(f"error: environment variable {args.token_env} is not set or empty", file=sys.stderr)
        return 2
    projects = [p.strip() for p in args.projects.split(",") if p.strip()]
    try:
        with (
            duckdb.connect(args.warehouse) as con,
            jira_client(
                args.base_url, deployment=args.deployment, email=args.email, token=token, token_env=args.token_env
            ) as client,
        ):
            summaries = sync_jira(
                client,
                RawLoader(con),
                projects,
                deployment=args.deployment,
                search_api=args.search_api,
                overlap=timedelta(minutes=args.overlap_minutes),
                buffer=timedelta(minutes=args.buffer_minutes),
                page_size=args.page_size,
                census=args.census,
            )
    except SyncFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (SourceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for stream, summary in summaries.items():
        for result in summary.results:
            print(f"{stream} {result.scope}: {result.records} records, {result.requests} requests, {result.outcome}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
