"""An `HttpClient` set up for Jira Cloud (Basic email:api_token) or Jira Data Center (Bearer PAT).

source-apis.md §2.1/§2.8. Throttling (429, sometimes 503, with `Retry-After` and an ISO `X-RateLimit-Reset`)
is what `DefaultRateLimitPolicy` already handles, so Jira needs no policy of its own.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Literal

from ingestion.errors import SourceError
from ingestion.http import HttpClient
from ingestion.rate_limits import DefaultRateLimitPolicy

Deployment = Literal["cloud", "data_center"]
SearchApi = Literal["enhanced", "legacy"]
DEPLOYMENTS: tuple[str, ...] = ("cloud", "data_center")

JIRA_HEADERS = {"Accept": "application/json", "User-Agent": "techledger"}


class JiraConfigurationError(SourceError):
    """The configuration does not fit the site (removed endpoint, wrong deployment, missing credentials)."""


@dataclass(frozen=True)
class JiraEndpoints:
    """Paths that differ between Cloud and Data Center."""

    deployment: Deployment
    search_api: SearchApi

    @property
    def api(self) -> str:
        return "/rest/api/3" if self.deployment == "cloud" else "/rest/api/2"

    @property
    def search(self) -> str:
        if self.deployment == "cloud" and self.search_api == "enhanced":
            return "/rest/api/3/search/jql"
        return f"{self.api}/search"

    @property
    def token_paging(self) -> bool:
        return self.search == "/rest/api/3/search/jql"

    @property
    def bulk_changelogs(self) -> bool:
        return self.deployment == "cloud"


def endpoints(deployment: str, search_api: str = "enhanced") -> JiraEndpoints:
    if deployment not in DEPLOYMENTS:
        raise ValueError(f"jira deployment must be one of {DEPLOYMENTS}, got {deployment!r}")
    if search_api not in ("enhanced", "legacy"):
        raise ValueError(f"jira search_api must be 'enhanced' or 'legacy', got {search_api!r}")
    return JiraEndpoints(deployment, search_api)  # type: ignore[arg-type]


def jira_client(
    base_url: str,
    *,
    deployment: str = "cloud",
    email: str | None = None,
    token: str | None = None,
    token_env: str | None = None,
    **kwargs: Any,
) -> HttpClient:
    """HttpClient for a Jira site at `base_url` (https://<site>.atlassian.net, a DC root, or the fake).

    Cloud authenticates with Basic `email:api_token`; Data Center with a Bearer personal access token.
    Extra keyword arguments go to `HttpClient` (timeouts, retry budget, injected sleep...).
    """
    endpoints(deployment)
    headers = {**JIRA_HEADERS, **(kwargs.pop("default_headers", None) or {})}
    kwargs.setdefault("rate_limit_policy", DefaultRateLimitPolicy())
    if deployment == "cloud":
        if token and not email:
            raise ValueError("jira cloud: an API token needs the account's email (Basic email:api_token)")
        secret = base64.b64encode(f"{email}:{token}".encode()).decode("ascii") if token else None
        return HttpClient(
            "jira", base_url, token=secret, token_env=token_env, auth_scheme="Basic", default_headers=headers, **kwargs
        )
    return HttpClient("jira", base_url, token=token, token_env=token_env, default_headers=headers, **kwargs)
