"""Small pieces the GitHub delivery connectors share: repo names, cursors, timestamps, the CLI shell."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ingestion.cli import SourceCli
from ingestion.errors import PayloadError
from ingestion.github.client import github_client
from ingestion.http import HttpClient, Page
from ingestion.loader import RawLoader
from ingestion.redaction import safe_endpoint
from ingestion.runs import SyncSummary

SOURCE = "github"


def split_repo(repo: str) -> tuple[str, str]:
    parts = repo.split("/")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise ValueError(f"repository {repo!r} must be written as 'owner/name'")
    return parts[0], parts[1]


def read_cursor(state: Mapping[str, Any] | None, stream: str, scope: str, key: str = "cursor") -> datetime | None:
    if not state or state.get(key) is None:
        return None
    try:
        cursor = datetime.fromisoformat(state[key])
    except (TypeError, ValueError):
        cursor = None
    if cursor is None or cursor.tzinfo is None:
        raise ValueError(
            f"meta.sync_state {key} for github/{stream}/{scope} is not a zoned ISO timestamp "
            f"({state[key]!r}); delete that row to force a full resync"
        )
    return cursor


def parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no time zone")
    return parsed


def require(item: Any, fields: Sequence[str], page: Page, index: int, what: str) -> dict[str, Any]:
    """The item as a dict with `fields` present, or a PayloadError naming endpoint, page and item."""
    return require_at(item, fields, page.url, f"item {index} of page {page.page_number}", what)


def require_at(item: Any, fields: Sequence[str], url: str, where: str, what: str) -> dict[str, Any]:
    """Like `require` for any object: `where` says which part of the response at `url` it is."""

    def bad(problem: str) -> PayloadError:
        endpoint = safe_endpoint(url)
        return PayloadError(
            f"github GET {endpoint}: {where} {problem}. "
            "Fix: check the base URL points at a GitHub REST API root and the API version is 2022-11-28",
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


CLI = SourceCli(
    source="github",
    scope_flag="repos",
    scope_help="comma-separated owner/name list",
    base_url_help="GitHub REST API root, e.g. https://api.github.com",
    default_token_env="GITHUB_TOKEN",
    make_client=github_client,
)


def cli(
    stream: str,
    description: str,
    run: Callable[[HttpClient, RawLoader, list[str]], SyncSummary],
    argv: Sequence[str] | None = None,
) -> int:
    """`python -m ingestion.github.<stream>` (see ingestion/cli.py for arguments and exit codes)."""
    return CLI.main(stream, description, run, argv)
