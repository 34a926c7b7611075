"""An `HttpClient` for PagerDuty REST v2 and its classic offset pagination (source-apis.md §4.1)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ingestion.errors import PayloadError
from ingestion.http import HttpClient
from ingestion.redaction import safe_endpoint

SOURCE = "pagerduty"
PAGERDUTY_HEADERS = {"Accept": "application/vnd.pagerduty+json;version=2"}
OFFSET_CAP = 10_000  # offset + limit may not exceed this (400 code 2002)


def pagerduty_client(base_url: str, key: str | None, *, token_env: str | None = None, **kwargs: Any) -> HttpClient:
    """HttpClient for PagerDuty at `base_url` (https://api.pagerduty.com, or a fake's /pagerduty root).

    Sends `Authorization: Token token=<key>`. 429s are retried after `Retry-After`, else after
    `ratelimit-reset` (the default policy). Extra keyword arguments go to `HttpClient`.
    """
    headers = {**PAGERDUTY_HEADERS, **(kwargs.pop("default_headers", None) or {})}
    kwargs.setdefault("use_etags", False)
    return HttpClient(
        SOURCE,
        base_url,
        token=f"token={key}" if key else None,
        token_env=token_env,
        auth_scheme="Token",
        default_headers=headers,
        **kwargs,
    )


def bad_payload(client: HttpClient, url: str, problem: str) -> PayloadError:
    endpoint = safe_endpoint(url)
    return PayloadError(
        f"pagerduty GET {endpoint}: {problem}. Fix: check the base URL points at the PagerDuty REST API root "
        "(https://api.pagerduty.com)",
        source=SOURCE,
        method="GET",
        endpoint=endpoint,
    )


def offset_pages(
    client: HttpClient, path: str, key: str, params: Mapping[str, Any], limit: int = 100, offset: int = 0
) -> Iterator[tuple[list[Any], dict[str, Any]]]:
    """(items, body) of each page of a classic-paginated list, following `more` and the server's `limit`."""
    while True:
        query = {**params, "limit": limit, "offset": offset}
        body = client.get_json(path, query)
        items = body.get(key) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise bad_payload(client, client.url_for(path, query), f"expected an object with a {key!r} list")
        yield items, body
        if not body.get("more") or not items:
            return
        offset += int(body.get("limit") or len(items))
