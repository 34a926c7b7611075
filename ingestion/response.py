"""The response object the HTTP client hands to connectors, and the server's clock.

`ApiResponse` is a plain copy of what the server sent (status, headers, body, final URL). It never
keeps the `requests.Response`, whose `.request` holds the Authorization header: a response can be
logged, stored in a `Page` or attached to an error without any risk of leaking the token.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

from requests.structures import CaseInsensitiveDict
from requests.utils import parse_header_links

from ingestion.redaction import safe_endpoint

logger = logging.getLogger("techledger.ingestion.http")

_UNPARSED: Any = object()


@dataclass(eq=False)
class ApiResponse:
    """What the server answered. `from_cache` is True when the body came from the ETag cache (304)."""

    status_code: int
    headers: CaseInsensitiveDict[str]
    url: str
    content: bytes = field(repr=False)
    from_cache: bool = False
    _data: Any = field(default=_UNPARSED, repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    @property
    def is_json(self) -> bool:
        return "json" in self.headers.get("Content-Type", "").lower()

    def json(self) -> Any:
        """The decoded JSON body (decoded once; the client already validated it for 2xx answers)."""
        if self._data is _UNPARSED:
            self._data = json.loads(self.content) if self.content else None
        return self._data

    @property
    def server_message(self) -> str:
        """The human message in an error body (GitHub `message`, Jira `errorMessages`...), else raw text."""
        try:
            data = self.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            for key in ("message", "error_description", "error", "errorMessage"):
                value = data.get(key)
                if isinstance(value, str) and value:
                    return value
                if isinstance(value, dict) and isinstance(value.get("message"), str):
                    return value["message"]
            for key in ("errorMessages", "errors"):
                value = data.get(key)
                if isinstance(value, list) and value:
                    return "; ".join(str(v.get("message", v)) if isinstance(v, dict) else str(v) for v in value)
        return self.text

    @property
    def links(self) -> dict[str, str]:
        """`Link` header relations (`next`, `last`...) as absolute URLs, exactly as the server gave them."""
        header = self.headers.get("Link")
        if not header:
            return {}
        links: dict[str, str] = {}
        for link in parse_header_links(header):
            rel, url = link.get("rel"), link.get("url")
            if rel and url:
                for name in rel.split():
                    links[name] = urljoin(self.url, url)
        return links


def server_time(response: ApiResponse) -> datetime:
    """The server's clock at the time of `response`, from its `Date` header (tz-aware UTC).

    Connectors take "now" from the server, not from the local clock: cursor windows and rate-limit
    resets are the server's notion of time, a client clock can be skewed, and the simulated company
    runs on its own clock. Falls back to the local clock (with a warning) if the header is missing.
    """
    value = response.headers.get("Date")
    if value:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:  # RFC 7231 dates are GMT by definition
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)
    logger.warning("response from %s has no usable Date header; using the local clock", safe_endpoint(response.url))
    return datetime.now(UTC)
