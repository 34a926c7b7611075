"""The fake sources a server mounts by default. Adding a source = one class + one line here."""

from __future__ import annotations

from collections.abc import Callable

from simulation.github_api import GitHubApi
from simulation.gitlab_api import GitLabApi
from simulation.httpkit import SourceApi
from simulation.jenkins_api import JenkinsApi
from simulation.jira_api import JiraApi
from simulation.pagerduty_api import PagerDutyApi

DEFAULT_SOURCES: tuple[Callable[[], SourceApi], ...] = (GitHubApi, JiraApi, JenkinsApi, PagerDutyApi, GitLabApi)


def default_sources() -> list[SourceApi]:
    return [factory() for factory in DEFAULT_SOURCES]
