"""The fake sources a server mounts by default. Adding a source = one class + one line here."""

from __future__ import annotations

from collections.abc import Callable

from simulation.github_api import GitHubApi
from simulation.httpkit import SourceApi

DEFAULT_SOURCES: tuple[Callable[[], SourceApi], ...] = (GitHubApi,)


def default_sources() -> list[SourceApi]:
    return [factory() for factory in DEFAULT_SOURCES]
