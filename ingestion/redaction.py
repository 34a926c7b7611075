"""Keeping secrets out of messages.

Tokens travel only in request headers. These helpers make sure nothing that ends up in a log line,
an exception or the database can carry one: URLs are shown without secret-looking query values, and
any text we did not write ourselves (server messages, library exception text) is scrubbed of the
literal token value before use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit

REDACTED = "***"

# Query parameters that carry credentials in some APIs (GitLab private_token, OAuth access_token,
# pre-signed URLs...). Matched as substrings of the lower-cased parameter name.
_SECRET_PARAM_HINTS = (
    "token",
    "secret",
    "password",
    "passwd",
    "signature",
    "apikey",
    "api_key",
    "access_key",
    "private_key",
    "credential",
)

_WHITESPACE = re.compile(r"\s+")


def safe_endpoint(url: str) -> str:
    """Path and query of `url`, with credential-looking query values replaced by `***`.

    Scheme and host are dropped because the base URL is already known to the reader and the path is
    what tells them which resource failed.
    """
    parts = urlsplit(url)
    path = parts.path or "/"
    if not parts.query:
        return path
    pairs = [
        (name, REDACTED if any(hint in name.lower() for hint in _SECRET_PARAM_HINTS) else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return f"{path}?{urlencode(pairs, safe='/:,')}"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every occurrence of each non-empty secret in `text` by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace and cut to `limit` characters so messages stay a single readable line."""
    text = _WHITESPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
