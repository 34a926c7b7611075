"""Pieces the GitLab connectors share: project paths, cursors, the updated-at walk, the CLI shell.

The incremental walk (source-apis.md §0, §6 "gitlab.pipelines/deployments"): one cheap probe
(`GET /projects/:id`) reads the server clock; the window is `[cursor - overlap, Date - buffer]` and the
list is read with `updated_after`/`updated_before` + `order_by=updated_at&sort=asc`, following the
server's `Link rel="next"`. `updated_before` pins the upper edge, so during the walk items can only
*leave* the window (an item updated while we page gets a newer `updated_at`); with page-number
paging that shifts later items one place back and one could be skipped. The walk therefore compares
`x-total` of its first and last page and re-reads the window when it shrank (the upserts absorb the
repeats). Items that left the window are read by the next run, whose window starts before them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from ingestion.cli import SourceCli
from ingestion.errors import PayloadError
from ingestion.gitlab.client import gitlab_client
from ingestion.http import HttpClient, Page, server_time
from ingestion.loader import RawLoader
from ingestion.redaction import safe_endpoint
from ingestion.runs import SyncSummary

SOURCE = "gitlab"
MAX_REWALKS = 2

logger = logging.getLogger("techledger.ingestion.gitlab")


def project_ref(project: str) -> str:
    """The URL-encoded path GitLab accepts in place of a numeric id (`group/sub/name` -> `group%2Fsub%2Fname`)."""
    if project.isdigit():
        return project
    parts = project.split("/")
    if len(parts) < 2 or not all(p.strip() for p in parts):
        raise ValueError(f"GitLab project {project!r} must be a numeric id or a path like 'group/name'")
    return quote(project, safe="")


def project_base(project: str) -> str:
    return f"/projects/{project_ref(project)}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_cursor(state: Mapping[str, Any] | None, stream: str, scope: str) -> datetime | None:
    if not state or state.get("cursor") is None:
        return None
    try:
        cursor = datetime.fromisoformat(state["cursor"])
    except (TypeError, ValueError):
        cursor = None
    if cursor is None or cursor.tzinfo is None:
        raise ValueError(
            f"meta.sync_state cursor for gitlab/{stream}/{scope} is not a zoned ISO timestamp "
            f"({state['cursor']!r}); delete that row to force a full resync"
        )
    return cursor


def parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no time zone")
    return parsed


def require(item: Any, fields: Sequence[str], url: str, where: str, what: str) -> dict[str, Any]:
    """The item as a dict with `fields` present, or a PayloadError naming endpoint and position."""

    def bad(problem: str) -> PayloadError:
        endpoint = safe_endpoint(url)
        return PayloadError(
            f"gitlab GET {endpoint}: {where} {problem}. Fix: check the base URL points at a GitLab REST API v4 "
            "root (e.g. https://gitlab.com/api/v4)",
            source=SOURCE,
            method="GET",
            endpoint=endpoint,
        )

    if not isinstance(item, dict):
        raise bad(f"is a {type(item).__name__}, not a {what} object")
    for field in fields:
        if item.get(field) is None:
            raise bad(f"has no {field!r}")
    return item


def page_items(page: Page, fields: Sequence[str], what: str) -> Iterator[dict[str, Any]]:
    for index, item in enumerate(page.items):
        yield require(item, fields, page.url, f"item {index} of page {page.page_number}", what)


def window(
    client: HttpClient, project: str, cursor: datetime | None, overlap: timedelta, buffer: timedelta
) -> tuple[datetime | None, datetime]:
    """(start, end) of this run's window: start = cursor - overlap (None on the first run), end = Date - buffer."""
    probe = client.get(project_base(project))  # also fails fast, with a clear 404, on a wrong project path
    end = server_time(probe) - buffer
    return (cursor - overlap if cursor is not None else None), end


def walk_updated(
    client: HttpClient,
    path: str,
    start: datetime | None,
    end: datetime,
    per_page: int,
    extra: Mapping[str, Any] | None = None,
) -> Iterator[Page]:
    """Pages of `path` updated in (start, end], oldest update first; see the module docstring."""
    params: dict[str, Any] = {**(extra or {}), "order_by": "updated_at", "sort": "asc", "per_page": per_page}
    params["updated_before"] = iso(end)
    if start is not None:
        params["updated_after"] = iso(start)
    for walk in range(MAX_REWALKS + 1):
        first_total = last_total = None
        for page in client.paginate(path, params):
            total = page.response.headers.get("x-total")
            first_total = total if page.page_number == 1 else first_total
            last_total = total
            yield page
        if first_total == last_total:
            return
        logger.info(
            "gitlab %s: the window shrank while paging (x-total %s -> %s), items were updated meanwhile; "
            "re-reading it (%d/%d)",
            safe_endpoint(client.url_for(path)),
            first_total,
            last_total,
            walk + 1,
            MAX_REWALKS,
        )
    logger.warning("gitlab %s: the window kept changing while paging; the next run's overlap re-reads it", path)


CLI = SourceCli(
    source="gitlab",
    scope_flag="projects",
    scope_help="comma-separated project paths (group/name) or ids",
    base_url_help="GitLab REST API root, e.g. https://gitlab.com/api/v4",
    default_token_env="GITLAB_TOKEN",
    make_client=gitlab_client,
)


def cli(
    stream: str,
    description: str,
    run: Callable[[HttpClient, RawLoader, list[str]], SyncSummary],
    argv: Sequence[str] | None = None,
) -> int:
    """`python -m ingestion.gitlab.<stream>` (see ingestion/cli.py for arguments and exit codes)."""
    return CLI.main(stream, description, run, argv)
