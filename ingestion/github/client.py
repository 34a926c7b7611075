"""An `HttpClient` set up the way GitHub's REST API expects (source-apis.md §1.1).

The API version header pins response shapes (2022-11-28 is supported until at least 2028), and GitHub
answers 403 to requests without a User-Agent.
"""

from __future__ import annotations

from typing import Any

from ingestion.github.rate_limits import GitHubRateLimitPolicy
from ingestion.http import HttpClient

GITHUB_HEADERS = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
    "User-Agent": "techledger",
}


def github_client(base_url: str, token: str | None, *, token_env: str | None = None, **kwargs: Any) -> HttpClient:
    """HttpClient for GitHub at `base_url` (https://api.github.com, or a GHES/fake `.../api/v3` root).

    Extra keyword arguments go to `HttpClient` (timeouts, retry budget, injected sleep...).
    """
    headers = {**GITHUB_HEADERS, **(kwargs.pop("default_headers", None) or {})}
    kwargs.setdefault("rate_limit_policy", GitHubRateLimitPolicy())
    return HttpClient("github", base_url, token=token, token_env=token_env, default_headers=headers, **kwargs)
