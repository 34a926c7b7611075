"""What a pull request looks like at one instant of the simulated clock.

A ``PullRequest`` holds its whole life; ``state_at`` cuts it at ``now``. Every field that can
change is tied to an event in ``PullRequest.event_times`` (or a recorded touch), so whenever a
payload changes its ``updated_at`` moves too, exactly the invariant incremental syncs rely on.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime

from simulation.determinism import fake_sha
from simulation.model import PullRequest
from simulation.vocabulary import TOUCH_LABEL


@dataclass(frozen=True, slots=True)
class PullRequestState:
    pr: PullRequest
    state: str  # open | closed
    draft: bool
    updated_at: datetime
    closed_at: datetime | None
    merged_at: datetime | None
    merged_by: str | None
    head_sha: str
    merge_commit_sha: str | None
    requested_reviewers: tuple[str, ...]
    labels: tuple[str, ...]
    comments: int
    review_comments: int
    commits: int
    approved: bool
    settled: bool  # nothing changes after this instant unless the PR is touched

    @property
    def number(self) -> int:
        return self.pr.number

    @property
    def created_at(self) -> datetime:
        return self.pr.created_at

    @property
    def cache_key(self) -> tuple[object, ...]:
        """Identifies the rendered payload: equal keys render byte-identical JSON."""
        return (
            self.pr.id,
            self.state,
            self.draft,
            self.updated_at,
            self.head_sha,
            self.requested_reviewers,
            self.labels,
            self.comments,
            self.review_comments,
            self.commits,
            self.approved,
        )


def state_at(pr: PullRequest, now: datetime, touches: tuple[datetime, ...] = ()) -> PullRequestState | None:
    """The PR as GitHub would show it at ``now``; None if it does not exist yet."""
    if pr.created_at > now:
        return None
    seen_events = bisect_right(pr.event_times, now)
    updated = pr.event_times[seen_events - 1] if seen_events else pr.created_at
    seen_touches = [t for t in touches if t <= now]
    if seen_touches:
        updated = max(updated, seen_touches[-1])

    merged = pr.merged_at is not None and pr.merged_at <= now
    closed = pr.closed_at is not None and pr.closed_at <= now
    visible_commits = bisect_right(pr.commits, now, key=lambda c: c.committed_at)
    head = pr.commits[max(0, visible_commits - 1)].sha
    if merged:
        merge_sha: str | None = pr.merge_commit_sha
    elif pr.conflicting:
        merge_sha = None
    else:
        merge_sha = fake_sha("test-merge", pr.id, head)  # GitHub keeps a test-merge commit per head

    reviewed_by = {r.user_login for r in pr.reviews if r.submitted_at <= now}
    approved = any(r.state == "APPROVED" and r.submitted_at <= now for r in pr.reviews)
    requested: tuple[str, ...] = ()
    if now >= pr.ready_at:
        requested = tuple(login for login in pr.requested_reviewers if login not in reviewed_by)
    labels = pr.labels + ((TOUCH_LABEL,) if seen_touches and TOUCH_LABEL not in pr.labels else ())
    return PullRequestState(
        pr=pr,
        state="closed" if closed else "open",
        draft=now < pr.ready_at,
        updated_at=updated,
        closed_at=pr.closed_at if closed else None,
        merged_at=pr.merged_at if merged else None,
        merged_by=pr.merged_by if merged else None,
        head_sha=head,
        merge_commit_sha=merge_sha,
        requested_reviewers=requested,
        labels=labels,
        comments=bisect_right(pr.comment_times, now),
        review_comments=bisect_right(pr.review_comment_times, now),
        commits=max(1, visible_commits),
        approved=approved,
        settled=now >= pr.last_event_at,
    )
