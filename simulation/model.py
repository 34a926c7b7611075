"""The simulated company's internal model: plain frozen records, no behaviour, no payload shapes.

Payload shapes (what an API returns) are rendered from these records elsewhere, so the same
pull request can be served by a GitHub-shaped and, later, a GitLab-shaped endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Team:
    key: str
    name: str
    business_category: str


@dataclass(frozen=True, slots=True)
class Person:
    login: str
    name: str
    email: str
    team_key: str | None  # None for bot accounts
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class Repo:
    owner: str
    name: str
    team_key: str
    service: str
    default_branch: str = "main"

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    team_key: str
    repo_full_name: str
    tier: int  # 1 = customer-facing, revenue-critical; 3 = internal


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    author_login: str
    authored_at: datetime
    committed_at: datetime  # also when it became visible on the PR (pushed)
    message: str


@dataclass(frozen=True, slots=True)
class Review:
    id: int
    user_login: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED (REST spelling)
    submitted_at: datetime
    commit_id: str
    body: str


@dataclass(frozen=True, slots=True)
class PullRequest:
    """The whole life of one PR, past and future; what is visible depends on the clock."""

    repo_full_name: str
    number: int
    id: int
    title: str
    body: str
    kind: str  # feature | fix | chore | refactor | dependencies
    author_login: str
    head_ref: str
    base_ref: str
    base_sha: str
    labels: tuple[str, ...]
    assignees: tuple[str, ...]
    created_at: datetime
    ready_at: datetime  # == created_at unless the PR was opened as a draft
    requested_reviewers: tuple[str, ...]  # requested when the PR became ready for review
    commits: tuple[Commit, ...]  # ordered by committed_at
    reviews: tuple[Review, ...]  # ordered by submitted_at
    comment_times: tuple[datetime, ...]
    review_comment_times: tuple[datetime, ...]
    merged_at: datetime | None
    closed_at: datetime | None  # == merged_at for merged PRs
    merged_by: str | None
    merge_commit_sha: str  # the final merge commit (merged) or last test-merge (closed)
    additions: int
    deletions: int
    changed_files: int
    conflicting: bool  # stale branch with conflicts: no test-merge commit, not mergeable
    event_times: tuple[datetime, ...]  # sorted; every moment the payload changes after creation

    @property
    def opened_as_draft(self) -> bool:
        return self.ready_at > self.created_at

    @property
    def first_review_at(self) -> datetime | None:
        return self.reviews[0].submitted_at if self.reviews else None

    @property
    def pickup_time(self) -> timedelta | None:
        """Ready-for-review to first review: the quantity the search-team story slows down."""
        first = self.first_review_at
        return None if first is None else first - self.ready_at

    @property
    def first_commit_at(self) -> datetime:
        return min(commit.authored_at for commit in self.commits)

    @property
    def last_event_at(self) -> datetime:
        return self.event_times[-1] if self.event_times else self.created_at
