"""An `HttpClient` set up for the Jenkins JSON API: Basic auth with `user:apiToken` (source-apis.md §3.2)."""

from __future__ import annotations

import base64
from typing import Any

from ingestion.http import HttpClient


def jenkins_client(
    base_url: str, user: str, token: str | None, *, token_env: str | None = None, **kwargs: Any
) -> HttpClient:
    """HttpClient for the Jenkins at `base_url` (e.g. https://ci.example.com or https://host/jenkins).

    The API token goes in a Basic credential with the user name; the encoded credential is what the
    client redacts from messages. Extra keyword arguments go to `HttpClient`.
    """
    credential = base64.b64encode(f"{user}:{token}".encode()).decode("ascii") if token else None
    headers = {"Accept": "application/json", **(kwargs.pop("default_headers", None) or {})}
    kwargs.setdefault("use_etags", False)
    return HttpClient(
        "jenkins",
        base_url,
        token=credential,
        token_env=token_env,
        auth_scheme="Basic",
        default_headers=headers,
        **kwargs,
    )
