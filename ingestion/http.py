"""One HTTP client per source: retries, rate limits, conditional requests, pagination.

Why a hand-written retry loop instead of urllib3's `Retry`: a GitHub 403 can mean "primary limit",
"secondary limit" or "no permission" and only the body and headers tell which (see
`ingestion.github.rate_limits`); truncated bodies only show up when the JSON is decoded; and every
wait must go through an injectable `sleep` so tests can record waits instead of sitting through them.

Secrets: the token lives only in the session's headers. Messages are built from redacted URLs and
scrubbed of the token; responses are copied into `ApiResponse` so no `requests` object (which holds the
request headers) escapes; `repr(client)` hides the token.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from ingestion.errors import (
    AuthenticationError,
    NotFoundError,
    PayloadError,
    PermissionDeniedError,
    RateLimitExhaustedError,
    RequestRejectedError,
    RetriesExhaustedError,
    SourceError,
)
from ingestion.etag_cache import CachedResponse, EtagCache
from ingestion.rate_limits import DefaultRateLimitPolicy, RateLimitPolicy, retry_after_seconds
from ingestion.redaction import one_line, redact, safe_endpoint
from ingestion.response import ApiResponse, server_time
from ingestion.stats import RequestStats

__all__ = ["ApiResponse", "HttpClient", "Page", "RequestStats", "server_time"]

logger = logging.getLogger("techledger.ingestion.http")

# Failures worth retrying: the request may well succeed a moment later. SSLError is a ConnectionError
# subclass but is a configuration problem, so it is handled before these.
_TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_RETRYABLE_STATUSES = frozenset({408, 425, 429})
# Headers of a 304 that describe the (empty) 304 body rather than the cached representation.
_ENTITY_HEADERS = frozenset({"content-length", "content-type", "content-encoding", "transfer-encoding"})


@dataclass(frozen=True)
class Page:
    """One page of a paginated list: its items, the response it came from and its position."""

    items: list[Any]
    response: ApiResponse
    url: str
    page_number: int


class HttpClient:
    """HTTP access to one source (one `requests.Session`), with the retry and rate-limit policy of that source.

    `sleep` and `rng` are injectable so tests can record waits and make jitter deterministic.
    `token_env` is only the *name* of the environment variable, used to make error messages actionable.
    """

    def __init__(
        self,
        source: str,
        base_url: str,
        *,
        token: str | None = None,
        token_env: str | None = None,
        auth_scheme: str = "Bearer",
        auth_header: str = "Authorization",
        rate_limit_policy: RateLimitPolicy | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_retries: int = 6,
        backoff_base: float = 1.0,
        backoff_max: float = 120.0,
        max_wait: float = 3600.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        default_headers: Mapping[str, str] | None = None,
        etag_cache: MutableMapping[str, CachedResponse] | None = None,
        use_etags: bool = True,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"{source}: base URL must start with http:// or https://, got {base_url!r}")
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.token_env = token_env
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_wait = max_wait
        self.use_etags = use_etags
        self._token = token or None
        self._policy: RateLimitPolicy = rate_limit_policy or DefaultRateLimitPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._etags: MutableMapping[str, CachedResponse] = etag_cache if etag_cache is not None else EtagCache()
        self._stats = RequestStats()
        self._session = requests.Session()
        self._session.headers.update(default_headers or {})
        if self._token:
            value = f"{auth_scheme} {self._token}" if auth_scheme else self._token
            self._session.headers[auth_header] = value

    # ------------------------------------------------------------------ public API

    @property
    def stats(self) -> RequestStats:
        return self._stats

    def __repr__(self) -> str:
        token = "'***'" if self._token else "None"
        return f"HttpClient(source={self.source!r}, base_url={self.base_url!r}, token={token})"

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    def redact(self, text: str) -> str:
        """`text` with the token (if any) replaced by `***`; for messages built from foreign text."""
        return redact(text, [self._token])

    def url_for(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> str:
        """The full URL for a path (joined to the base URL) or an absolute URL, with `params` encoded.

        Absolute URLs must point at the base URL's host: a pagination link to another host would
        otherwise receive our Authorization header.
        """
        if "://" in path_or_url:
            url = path_or_url
            if _origin(url) != _origin(self.base_url):
                raise SourceError(
                    f"{self.source}: refusing to request {safe_endpoint(url)} on {_origin(url)}: it is not the "
                    f"configured base URL's host ({_origin(self.base_url)}), and the request would carry "
                    "the credentials there. Fix: check the configured base URL.",
                    source=self.source,
                )
        else:
            url = f"{self.base_url}/{path_or_url.lstrip('/')}"
        if params:
            prepared = requests.Request("GET", url, params=dict(params)).prepare().url
            assert prepared is not None
            url = prepared
        return url

    def get(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> ApiResponse:
        """GET with retries; 304 answers come back as the cached 200 with `from_cache=True`."""
        return self.request("GET", path_or_url, params)

    def get_json(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET and decode the JSON body; a non-JSON answer is a `PayloadError` naming the endpoint."""
        response = self.get(path_or_url, params)
        return self._json_body(response, self.url_for(path_or_url, params))

    def paginate(
        self, path_or_url: str, params: Mapping[str, Any] | None = None, *, items_key: str | None = None
    ) -> Iterator[Page]:
        """Yield pages, following `Link: rel="next"` exactly as given (never building page URLs).

        The next URL already carries every query parameter the server wants, so it is requested as-is
        with no params added. `items_key` names the list inside an object body (e.g. `workflow_runs`).
        """
        url = self.url_for(path_or_url, params)
        requested: set[str] = set()
        page_number = 0
        while True:
            page_number += 1
            requested.add(url)
            response = self.get(url)
            items = self._page_items(response, url, items_key)
            yield Page(items, response, url, page_number)
            next_url = response.links.get("next")
            if next_url is None:
                return
            if next_url in requested:
                raise PayloadError(
                    self._describe(
                        "GET",
                        url,
                        f'page {page_number} links rel="next" back to an already-read page ({safe_endpoint(next_url)})',
                        "this is a server-side pagination bug; report it to the API owner",
                    ),
                    source=self.source,
                    method="GET",
                    endpoint=safe_endpoint(url),
                )
            url = self.url_for(next_url)

    def request(
        self,
        method: str,
        path_or_url: str,
        params: Mapping[str, Any] | None = None,
        *,
        json_body: Any = None,
    ) -> ApiResponse:
        """Send one logical request, retrying transient failures and honouring rate limits."""
        method = method.upper()
        url = self.url_for(path_or_url, params)
        failures = 0  # retries done so far for this logical request
        rate_waits = 0  # rate-limit waits so far (secondary limits escalate with repeats)
        auth_retried = False
        while True:
            cached = self._etags.get(url) if method == "GET" and self.use_etags else None
            headers = {"If-None-Match": cached.etag} if cached is not None else {}
            self._stats.requests += 1
            try:
                raw = self._session.request(method, url, headers=headers, json=json_body, timeout=self.timeout)
                try:
                    content = raw.content  # reading the body is where truncation surfaces
                finally:
                    raw.close()
            except requests.exceptions.SSLError as exc:
                raise self._error(SourceError, method, url, f"TLS error ({type(exc).__name__})", _TLS_HINT) from None
            except _TRANSIENT_ERRORS as exc:
                transport_problem: str | None = _describe_exception(exc)
            except requests.exceptions.RequestException as exc:
                raise self._error(
                    SourceError, method, url, f"request failed ({type(exc).__name__})", _URL_HINT
                ) from None
            else:
                transport_problem = None
            if transport_problem is not None:
                # Retried outside the except block so a final error does not chain the requests
                # exception, whose .request still holds the Authorization header.
                failures = self._wait_and_retry(method, url, failures, None, transport_problem)
                continue

            response = ApiResponse(raw.status_code, CaseInsensitiveDict(raw.headers), raw.url, content)
            status = response.status_code

            if status == 304 and cached is not None:
                self._stats.not_modified += 1
                logger.debug("%s GET %s: 304 not modified, served from cache", self.source, safe_endpoint(url))
                return _replay(cached, response)

            if 200 <= status < 300:
                if content and response.is_json:
                    try:
                        response.json()
                    except ValueError:
                        problem = f"HTTP {status} with a truncated or malformed JSON body ({len(content)} bytes)"
                        failures = self._wait_and_retry(method, url, failures, None, problem)
                        continue
                self._remember(method, url, response)
                return response

            if status < 400:
                raise self._error(RequestRejectedError, method, url, f"unexpected HTTP {status}", _URL_HINT, status)

            self._stats.http_errors[status] += 1
            said = self._server_said(response)

            if status == 401:
                if not auth_retried and failures < self.max_retries:
                    # GitHub and others emit transient 401s; a bad token fails again right away.
                    auth_retried = True
                    failures = self._wait_and_retry(method, url, failures, None, f"HTTP 401{said}")
                    continue
                raise self._error(
                    AuthenticationError, method, url, f"HTTP 401 unauthorized{said}", self._auth_hint(), status
                )

            decision = self._policy.classify(response, previous_waits=rate_waits)
            if decision is not None and decision.action == "retry":
                rate_waits += 1
                problem = f"HTTP {status} {decision.kind} rate limit ({decision.reason}){said}"
                failures = self._wait_and_retry(method, url, failures, decision.wait, problem, rate_limited=True)
                continue
            if status == 403 or (decision is not None and decision.action == "deny"):
                raise self._error(
                    PermissionDeniedError,
                    method,
                    url,
                    f"HTTP {status} permission denied{said}",
                    self._permission_hint(),
                    status,
                )
            if status == 404:
                raise self._error(
                    NotFoundError, method, url, f"HTTP 404 not found{said}", self._not_found_hint(), status
                )
            if status in _RETRYABLE_STATUSES or status >= 500:
                wait = retry_after_seconds(response)
                failures = self._wait_and_retry(method, url, failures, wait, f"HTTP {status}{said}")
                continue
            raise self._error(
                RequestRejectedError, method, url, f"HTTP {status} request rejected{said}", _REJECTED_HINT, status
            )

    # ------------------------------------------------------------------ internals

    def _wait_and_retry(
        self,
        method: str,
        url: str,
        failures: int,
        wait: float | None,
        problem: str,
        *,
        rate_limited: bool = False,
    ) -> int:
        """Sleep before the next attempt, or raise if the retry budget or `max_wait` is exceeded."""
        if wait is not None and wait > self.max_wait:
            raise RateLimitExhaustedError(
                self._describe(
                    method,
                    url,
                    f"{problem}; the server asks to wait {wait:.0f} s, more than max_wait={self.max_wait:.0f} s",
                    "rerun after the limit resets, use a token with a higher quota, or raise max_wait",
                ),
                source=self.source,
                method=method,
                endpoint=safe_endpoint(url),
            )
        if failures >= self.max_retries:
            raise RetriesExhaustedError(
                self._describe(
                    method,
                    url,
                    f"gave up after {failures + 1} attempts; last problem: {problem}",
                    "the source is failing, throttling or too slow right now; rerun later, and if it "
                    "persists check the source's status or raise max_retries/timeout",
                ),
                source=self.source,
                method=method,
                endpoint=safe_endpoint(url),
            )
        if wait is None:
            # Exponential backoff with full jitter: spreads retries of many clients over the window.
            wait = self._rng.uniform(0.0, min(self.backoff_max, self.backoff_base * 2**failures))
        log = logger.warning if rate_limited or wait >= 10 else logger.info
        log(
            "%s %s %s: %s; retry %d/%d in %.2f s",
            self.source,
            method,
            safe_endpoint(url),
            self.redact(problem),
            failures + 1,
            self.max_retries,
            wait,
        )
        self._stats.retries += 1
        self._stats.waited_seconds += wait
        self._sleep(wait)
        return failures + 1

    def _remember(self, method: str, url: str, response: ApiResponse) -> None:
        etag = response.headers.get("ETag")
        if method == "GET" and self.use_etags and etag:
            self._etags[url] = CachedResponse(etag, response.url, dict(response.headers), response.content)

    def _json_body(self, response: ApiResponse, url: str) -> Any:
        try:
            return response.json()
        except ValueError:
            content_type = response.headers.get("Content-Type", "no content type")
            raise PayloadError(
                self._describe(
                    "GET",
                    url,
                    f"expected a JSON body, got {len(response.content)} bytes of {content_type}",
                    "check the base URL points at the API root (e.g. https://api.github.com), not a web page or proxy",
                ),
                source=self.source,
                method="GET",
                endpoint=safe_endpoint(url),
                status=response.status_code,
            ) from None

    def _page_items(self, response: ApiResponse, url: str, items_key: str | None) -> list[Any]:
        data = self._json_body(response, url)
        items = data.get(items_key) if items_key is not None and isinstance(data, dict) else data
        if not isinstance(items, list):
            expected = f"an object with a list in {items_key!r}" if items_key else "a JSON list"
            raise PayloadError(
                self._describe(
                    "GET",
                    url,
                    f"expected {expected}, got {type(data).__name__}",
                    "check the base URL points at the API root (e.g. https://api.github.com)",
                ),
                source=self.source,
                method="GET",
                endpoint=safe_endpoint(url),
                status=response.status_code,
            )
        return items

    def _server_said(self, response: ApiResponse) -> str:
        message = one_line(self.redact(response.server_message), 200)
        return f", server says: {message!r}" if message else ""

    def _error(
        self, kind: type[SourceError], method: str, url: str, what: str, hint: str, status: int | None = None
    ) -> SourceError:
        return kind(
            self._describe(method, url, what, hint),
            source=self.source,
            method=method,
            endpoint=safe_endpoint(url),
            status=status,
        )

    def _describe(self, method: str, url: str, what: str, hint: str) -> str:
        return self.redact(one_line(f"{self.source} {method} {safe_endpoint(url)}: {what}. Fix: {hint}", 1000))

    def _token_ref(self) -> str:
        return f"the token in env var {self.token_env}" if self.token_env else "the configured token"

    def _auth_hint(self) -> str:
        if not self._token:
            where = f"env var {self.token_env}" if self.token_env else "the source's token setting"
            return f"no token was sent; set {where}"
        return f"{self._token_ref()} was rejected; replace it with a valid, unexpired token"

    def _permission_hint(self) -> str:
        return f"check that {self._token_ref()} {self._policy.permission_hint}"

    def _not_found_hint(self) -> str:
        return (
            f"check the name in the configuration and the base URL ({self.base_url}); some APIs "
            f"(GitHub) also answer 404 when {self._token_ref()} cannot see a private resource"
        )


_TLS_HINT = "check the base URL's scheme and host, and the CA bundle (REQUESTS_CA_BUNDLE)"
_URL_HINT = "check the configured base URL"
_REJECTED_HINT = "the request does not fit this API version; check the configuration and the connector version"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _describe_exception(exc: Exception) -> str:
    """Name of a transport error; its text is left out because it repeats the full URL."""
    return f"{type(exc).__name__} ({_transport_reason(exc)})"


def _transport_reason(exc: Exception) -> str:
    if isinstance(exc, requests.exceptions.Timeout):
        return "no answer within the timeout"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the body ended early"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "the body could not be decompressed"
    return "connection failed or was reset"


def _replay(cached: CachedResponse, not_modified: ApiResponse) -> ApiResponse:
    """The cached 200, with the 304's fresh headers (Date, rate-limit counters) laid over it."""
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(cached.headers)
    for name, value in not_modified.headers.items():
        if name.lower() not in _ENTITY_HEADERS:
            headers[name] = value
    return ApiResponse(200, headers, cached.url, cached.content, from_cache=True)
