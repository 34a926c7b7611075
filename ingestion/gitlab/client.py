"""An `HttpClient` set up the way GitLab's REST API v4 expects (source-apis.md §3.1).

GitLab takes a personal/project/group access token in `PRIVATE-TOKEN` (OAuth tokens go in
`Authorization: Bearer`); it throttles with 429 + `Retry-After` and `RateLimit-Reset` (epoch seconds),
which the default rate-limit policy already honours.
"""

from __future__ import annotations

from typing import Any

from ingestion.http import HttpClient
from ingestion.rate_limits import DefaultRateLimitPolicy


class GitLabRateLimitPolicy(DefaultRateLimitPolicy):
    permission_hint = "has the read_api scope and at least Reporter access to the project"


def gitlab_client(base_url: str, token: str | None, *, token_env: str | None = None, **kwargs: Any) -> HttpClient:
    """HttpClient for GitLab at `base_url`, the API root (https://gitlab.com/api/v4 or a self-managed one).

    Extra keyword arguments go to `HttpClient` (timeouts, retry budget, injected sleep...).
    """
    headers = {"Accept": "application/json", "User-Agent": "techledger", **(kwargs.pop("default_headers", None) or {})}
    kwargs.setdefault("rate_limit_policy", GitLabRateLimitPolicy())
    return HttpClient(
        "gitlab",
        base_url,
        token=token,
        token_env=token_env,
        auth_header="PRIVATE-TOKEN",
        auth_scheme="",
        default_headers=headers,
        **kwargs,
    )
