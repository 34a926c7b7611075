"""Errors raised while talking to a source.

Every message is one line a data engineer can act on without reading a stack trace: what failed
(source, method, endpoint, status), what the server said, and how to fix it. Messages never carry a
secret: the HTTP client builds them from redacted URLs and runs them through its redactor, and no
exception keeps a reference to the `requests` objects (those hold the Authorization header).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class SourceError(Exception):
    """Base class: a source could not be read. Carries structured context for callers and logs."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        method: str | None = None,
        endpoint: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.source = source
        self.method = method
        self.endpoint = endpoint
        self.status = status

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class PermissionDeniedError(SourceError):
    """The credentials are valid but may not read this resource. Retrying cannot help."""


class AuthenticationError(SourceError):
    """The server rejected the credentials themselves (401) even after one retry."""


class NotFoundError(SourceError):
    """The resource does not exist, or (GitHub) exists but is invisible to this token."""


class RateLimitExhaustedError(SourceError):
    """The server asked us to wait longer than the client's `max_wait`; better to fail and rerun later."""


class RetriesExhaustedError(SourceError):
    """Transient failures (5xx, timeouts, truncated bodies, throttling) outlasted the retry budget."""


class RequestRejectedError(SourceError):
    """The server refused the request as malformed (400/405/410/422...); a code or config problem."""


class PayloadError(SourceError):
    """The server answered, but the body does not have the shape the connector relies on."""


class SyncFailedError(SourceError):
    """Some scopes of a sync failed while the others completed.

    Raised after every scope was attempted, so one broken repository does not hold back the rest
    (design bar "other streams keep going"). `failures` maps scope -> one-line error message and
    `summary` is the full per-scope result.
    """

    def __init__(self, message: str, *, source: str, failures: Mapping[str, str], summary: Any = None) -> None:
        super().__init__(message, source=source)
        self.failures = dict(failures)
        self.summary = summary
