"""Generates pull requests in two steps: openings (eager, cheap) and lives (lazy, on first look).

*Openings* are drawn one calendar day at a time: who opens a PR, in which repo, when. Each author
(and each bot/repo pair) owns a random stream consumed strictly in day order, so generating more
days never changes days already generated. Numbers and ids are handed out in creation order, which
keeps numbers monotonic in ``created_at`` per repo and ids unique across repos, as on GitHub.

A *life* (commits, reviews, comments, merge or close) is played out from a seed fixed at opening
time, so it is the same whenever, and in whatever order, it is first looked at. Laziness keeps
company generation fast at large scales: only PRs someone reads are ever planned in full.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from simulation.determinism import derive_seed, fake_sha, poisson, random_sha, rng_for
from simulation.model import Commit, Person, PullRequest, Repo, Review
from simulation.org import Org
from simulation.stories import BASELINE_PICKUP_HOURS, StoryBook
from simulation.vocabulary import (
    EXTRA_LABELS,
    FIX_COMMIT_MESSAGES,
    KIND_LABEL,
    PACKAGES,
    human_title,
    pick_kind,
    slug,
    version_bump,
)

PRS_PER_WORKING_DAY = 1.5  # per person, scale 1
WEEKEND_FACTOR = 0.1
BOT_DAILY_PROBABILITY = {"dependabot[bot]": 0.25, "renovate[bot]": 0.1}  # per repo, weekdays
MAIN_REPO_SHARE = 0.75
DRAFT_SHARE = 0.15
CLOSED_UNMERGED_SHARE = 0.10
ABANDONED_SHARE = 0.03
JS_REPOS = frozenset({"checkout-web"})
MAX_REVIEWS = 8  # review ids are allotted in blocks per PR id, so lives can be planned in any order


_LOG_90 = math.log(90)
_LOG_4 = math.log(4)


def _hours(value: float) -> timedelta:
    return timedelta(seconds=round(value * 3600))


def _lognormal_seconds(rng: random.Random, median_hours: float, sigma: float, low: float, high: float) -> int:
    """A lognormal duration in whole seconds, its median and bounds given in hours."""
    return round(min(high, max(low, rng.lognormvariate(math.log(median_hours), sigma))) * 3600)


@dataclass(frozen=True, slots=True)
class Opening:
    """A PR's identity and creation, fixed before its life is played out."""

    repo_full_name: str
    number: int
    id: int
    author_login: str
    created_at: datetime
    seed: int


@dataclass(slots=True)
class _Author:
    person: Person
    team_key: str
    repos: list[Repo]
    tz_offset_hours: float
    productivity: float
    stream: random.Random


class PullRequestGenerator:
    def __init__(self, seed: int, org: Org, stories: StoryBook, start: datetime) -> None:
        self._seed = seed
        self._org = org
        self._stories = stories
        self._start = start
        self._next_day: date = start.date()
        self._teammates = {team.key: [p.login for p in org.members(team.key)] for team in org.teams}
        self._authors = [self._author(p) for p in org.people if not p.is_bot]
        self._bot_streams = {
            (bot.login, repo.full_name): rng_for(seed, "bot", bot.login, repo.full_name)
            for bot in org.people
            if bot.is_bot
            for repo in org.repos
        }
        self._repo_streams = {r.full_name: rng_for(seed, "numbers", r.full_name) for r in org.repos}
        self._next_number = {name: rs.randrange(40, 900) for name, rs in self._repo_streams.items()}
        self._pr_id_base = 1_400_000_000 + derive_seed(seed, "pr-ids") % 100_000_000
        self._next_pr_id = self._pr_id_base
        self._review_id_base = 1_900_000_000 + derive_seed(seed, "review-ids") % 100_000_000
        self._repos = {r.full_name: r for r in org.repos}
        self._authors_by_login = {a.person.login: a for a in self._authors}
        self._base_shas: dict[tuple[str, date], str] = {}

    @property
    def horizon(self) -> datetime:
        """Every PR created before this instant has been generated."""
        return datetime(self._next_day.year, self._next_day.month, self._next_day.day, tzinfo=UTC)

    def extend_to(self, until: datetime) -> list[Opening]:
        """Draw openings for whole days until ``until`` is covered; returns the new ones."""
        new: list[Opening] = []
        while self.horizon < until:
            new.extend(self._generate_day(self._next_day))
            self._next_day += timedelta(days=1)
        return new

    # -- per day --------------------------------------------------------------------------------
    def _author(self, person: Person) -> _Author:
        assert person.team_key is not None
        stream = rng_for(self._seed, "author", person.login)
        return _Author(
            person=person,
            team_key=person.team_key,
            repos=self._org.team_repos(person.team_key),
            tz_offset_hours=stream.choice((-5.0, -4.0, 0.0, 1.0, 1.0, 2.0, 3.0)),
            productivity=stream.uniform(0.6, 1.4),
            stream=stream,
        )

    def _generate_day(self, day: date) -> list[Opening]:
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        weekend = day.weekday() >= 5
        drawn: list[tuple[datetime, str, str, int]] = []
        for author in self._authors:
            rng = author.stream
            rate = PRS_PER_WORKING_DAY * author.productivity * (WEEKEND_FACTOR if weekend else 1.0)
            rate *= self._stories.pr_rate_multiplier(author.team_key, midnight + timedelta(hours=12))
            for _ in range(poisson(rng, rate)):
                repo = author.repos[0]
                if len(author.repos) > 1 and rng.random() > MAIN_REPO_SHARE:
                    repo = rng.choice(author.repos[1:])
                created = midnight + _hours(rng.uniform(9.0, 18.0) - author.tz_offset_hours)
                drawn.append((created, repo.full_name, author.person.login, rng.getrandbits(64)))
        if not weekend:
            for (bot, repo_name), rng in self._bot_streams.items():
                if rng.random() < BOT_DAILY_PROBABILITY[bot]:
                    created = midnight + _hours(rng.uniform(3.5, 6.5))
                    drawn.append((created, repo_name, bot, rng.getrandbits(64)))
        drawn.sort()
        openings: list[Opening] = []
        for created, repo_name, login, seed in drawn:
            if created < self._start:
                continue
            number, pr_id = self._next_identity(repo_name)
            openings.append(Opening(repo_name, number, pr_id, login, created, seed))
        return openings

    def _next_identity(self, repo: str) -> tuple[int, int]:
        """(number, id); issues share the number sequence on GitHub, so PR numbers have gaps."""
        gap = 1 if self._repo_streams[repo].random() < 0.15 else 0
        number = self._next_number[repo] + gap
        self._next_number[repo] = number + 1
        pr_id = self._next_pr_id
        self._next_pr_id += 1 + gap
        return number, pr_id

    def life(self, opening: Opening) -> PullRequest:
        """The whole life of one PR; deterministic in the opening alone."""
        rng = random.Random(opening.seed)
        repo = self._repos[opening.repo_full_name]
        author = self._authors_by_login.get(opening.author_login)
        if author is None:
            return self._plan_bot(rng, opening.author_login, repo, opening)
        return self._plan_human(rng, author, repo, opening)

    # -- one PR -----------------------------------------------------------------------------------
    # Times inside a plan are whole seconds relative to the opening (ints are ~5x cheaper than
    # datetime arithmetic); they become datetimes once, when the record is built.
    def _plan_human(self, rng: random.Random, author: _Author, repo: Repo, opening: Opening) -> PullRequest:
        team = author.team_key
        login = author.person.login
        size_factor = self._stories.pr_size_multiplier(team, opening.created_at)
        kind = pick_kind(rng)
        title = human_title(rng, team, kind)
        labels = [KIND_LABEL[kind]]
        if rng.random() < 0.1:
            labels.append(rng.choice(EXTRA_LABELS))
        additions = max(1, round(rng.lognormvariate(_LOG_90, 1.0) * size_factor))
        deletions = round(additions * rng.uniform(0.05, 0.7))
        changed = max(1, min(additions, round(rng.lognormvariate(_LOG_4, 0.7) * size_factor)))
        coding = _lognormal_seconds(rng, 10.0 * math.sqrt(size_factor), 1.0, 0.2, 240.0)
        ready = _lognormal_seconds(rng, 8.0, 1.0, 0.5, 120.0) if rng.random() < DRAFT_SHARE else 0
        others = [t for t in self._teammates[team] if t != login]
        reviewers = [rng.choice(others)]
        if rng.random() < 0.3 and len(others) > 1:
            reviewers.append(rng.choice([t for t in others if t != reviewers[0]]))
        outcome = rng.random()
        return self._timeline(
            rng,
            opening=opening,
            repo=repo,
            team=team,
            kind=kind,
            title=title,
            head_ref=f"{login}/{slug(title)}",
            labels=tuple(labels),
            assignees=(login,) if rng.random() < 0.4 else (),
            ready=ready,
            first_commit=-coding,
            pre_commits=1 + min(7, int(rng.expovariate(1 / 1.5))),
            reviewers=tuple(reviewers),
            first_review_approval_share=0.55,
            abandoned=outcome < ABANDONED_SHARE,
            closed_unmerged=ABANDONED_SHARE <= outcome < ABANDONED_SHARE + CLOSED_UNMERGED_SHARE,
            size=(additions, deletions, changed),
            merged_by_author=rng.random() < 0.85,
        )

    def _plan_bot(self, rng: random.Random, bot: str, repo: Repo, opening: Opening) -> PullRequest:
        language = "javascript" if repo.name in JS_REPOS else "python"
        package = rng.choice(PACKAGES[language])
        old, new = version_bump(rng)
        if bot.startswith("dependabot"):
            title = f"Bump {package} from {old} to {new}"
            head_ref = f"dependabot/{'npm_and_yarn' if language == 'javascript' else 'pip'}/{package}-{new}"
        else:
            title = f"Update dependency {package} to v{new}"
            head_ref = f"renovate/{package}-{new.split('.')[0]}.x"
        additions = rng.randint(1, 40)
        return self._timeline(
            rng,
            opening=opening,
            repo=repo,
            team=repo.team_key,
            kind="dependencies",
            title=title,
            head_ref=head_ref,
            labels=("dependencies", language),
            assignees=(),
            ready=0,
            first_commit=-rng.randint(20, 120),
            pre_commits=1,
            reviewers=(rng.choice(self._teammates[repo.team_key]),),
            first_review_approval_share=0.8,
            abandoned=False,
            closed_unmerged=rng.random() < 0.25,  # superseded by a newer bump
            size=(additions, rng.randint(1, additions), rng.randint(1, 2)),
            merged_by_author=False,
        )

    def _timeline(
        self,
        rng: random.Random,
        *,
        opening: Opening,
        repo: Repo,
        team: str,
        kind: str,
        title: str,
        head_ref: str,
        labels: tuple[str, ...],
        assignees: tuple[str, ...],
        ready: int,
        first_commit: int,
        pre_commits: int,
        reviewers: tuple[str, ...],
        first_review_approval_share: float,
        abandoned: bool,
        closed_unmerged: bool,
        size: tuple[int, int, int],
        merged_by_author: bool,
    ) -> PullRequest:
        """Commits, reviews, comments and the ending of one PR, all decided at creation time."""
        created = opening.created_at
        author = opening.author_login
        # Commits before opening: the first one starts the coding time.
        span = max(60, -first_commit - 60)
        commit_times = [first_commit, *sorted(first_commit + rng.randrange(span) for _ in range(pre_commits - 1))]
        messages = [title] + [rng.choice(FIX_COMMIT_MESSAGES) for _ in range(pre_commits - 1)]

        # Reviews: pickup depends on the team's baseline and on the story bending it.
        ready_at = created + timedelta(seconds=ready) if ready else created
        base_pickup = BASELINE_PICKUP_HOURS[team] * self._stories.review_pickup_multiplier(team, ready_at)
        pickup = max(300, round(base_pickup * 3600 * rng.lognormvariate(0.0, 0.6)))
        first_at = ready + pickup
        roll = rng.random()
        if roll < first_review_approval_share:
            first_state = "APPROVED"
        elif roll < first_review_approval_share + (1 - first_review_approval_share) * 0.55:
            first_state = "CHANGES_REQUESTED"
        else:
            first_state = "COMMENTED"
        reviews: list[tuple[int, str, str]] = [(first_at, reviewers[0], first_state)]
        approvals: list[int] = []
        if first_state == "APPROVED":
            approvals.append(first_at)
        else:
            moment = first_at
            for _ in range(1 + (rng.random() < 0.4) + (rng.random() < 0.15)):
                moment += _lognormal_seconds(rng, 2.5, 0.8, 0.1, 72.0)
                commit_times.append(moment)
                messages.append(rng.choice(FIX_COMMIT_MESSAGES))
            moment += _lognormal_seconds(rng, max(0.3, base_pickup * 0.6), 0.7, 0.05, 96.0)
            reviews.append((moment, reviewers[0], "APPROVED"))
            approvals.append(moment)
        if len(reviewers) > 1:
            second_at = ready + round(pickup * rng.uniform(1.2, 3.0))
            second_state = "APPROVED" if rng.random() < 0.85 else "COMMENTED"
            reviews.append((second_at, reviewers[1], second_state))
            if second_state == "APPROVED":
                approvals.append(second_at)

        # Ending.
        merged: int | None = None
        closed: int | None = None
        merged_by: str | None = None
        if closed_unmerged:
            closed = ready + _lognormal_seconds(rng, 30.0, 1.0, 0.2, 24 * 20.0)
        elif not abandoned:
            merged = closed = max(approvals) + _lognormal_seconds(rng, 2.0, 1.2, 0.03, 96.0)
            merged_by = author if merged_by_author else reviewers[0]
        end = closed if closed is not None else ready + 3 * 86400

        comment_times = [ready + rng.randrange(max(1, end - ready)) for _ in range(poisson(rng, 0.8))]
        if merged is not None and rng.random() < 0.1:
            comment_times.append(merged + round(rng.uniform(1.0, 48.0) * 3600))  # post-merge chatter
        review_comment_times: list[int] = []
        for at, _login, state in reviews:
            count = rng.randint(1, 4) if state != "APPROVED" else int(rng.random() < 0.3)
            review_comment_times.extend([at] * count)

        if closed is not None and merged is None:
            # Nothing happens on a PR closed unmerged except the odd comment before closing.
            reviews = [r for r in reviews if r[0] <= closed]
            keep = [i for i, t in enumerate(commit_times) if t <= closed]
            commit_times = [commit_times[i] for i in keep]
            messages = [messages[i] for i in keep]
            comment_times = [t for t in comment_times if t <= closed]
            review_comment_times = [t for t in review_comment_times if t <= closed]
        reviews.sort()
        comment_times.sort()
        review_comment_times.sort()

        events = {t for t in commit_times if t > 0}  # pushes after opening
        if ready:
            events.add(ready)
        events.update(r[0] for r in reviews)
        events.update(comment_times)
        if closed is not None:
            events.add(closed)

        stamps: dict[int, datetime] = {0: created}

        def at(offset: int) -> datetime:
            stamp = stamps.get(offset)
            if stamp is None:
                stamp = stamps[offset] = created + timedelta(seconds=offset)
            return stamp

        # Already in time order: pre-opening commits, then fixes after the first review.
        commits = tuple(
            Commit(random_sha(rng), author, at(t), at(t), message)
            for t, message in zip(commit_times, messages, strict=True)
        )
        review_id_base = self._review_id_base + (opening.id - self._pr_id_base) * MAX_REVIEWS
        heads = [c.sha for c in commits]
        review_objs = tuple(
            Review(
                review_id_base + k,
                login,
                state,
                at(t),
                heads[max(0, bisect_right(commit_times, t) - 1)],
                _REVIEW_BODY[state],
            )
            for k, (t, login, state) in enumerate(reviews)
        )
        additions, deletions, changed = size
        return PullRequest(
            repo_full_name=repo.full_name,
            number=opening.number,
            id=opening.id,
            title=title,
            body=_pr_body(title, kind),
            kind=kind,
            author_login=author,
            head_ref=head_ref,
            base_ref=repo.default_branch,
            base_sha=self._base_sha(repo, created),
            labels=labels,
            assignees=assignees,
            created_at=created,
            ready_at=at(ready),
            requested_reviewers=reviewers,
            commits=commits,
            reviews=review_objs,
            comment_times=tuple(at(t) for t in comment_times),
            review_comment_times=tuple(at(t) for t in review_comment_times),
            merged_at=None if merged is None else at(merged),
            closed_at=None if closed is None else at(closed),
            merged_by=merged_by,
            merge_commit_sha=random_sha(rng),
            additions=additions,
            deletions=deletions,
            changed_files=changed,
            conflicting=abandoned,
            event_times=tuple(at(t) for t in sorted(events)),
        )

    def _base_sha(self, repo: Repo, created: datetime) -> str:
        """The base branch moves once a day in this model; PRs opened the same day share it."""
        key = (repo.full_name, created.date())
        sha = self._base_shas.get(key)
        if sha is None:
            sha = self._base_shas[key] = fake_sha(self._seed, repo.full_name, repo.default_branch, key[1])
        return sha


_REVIEW_BODY = {
    "APPROVED": "LGTM",
    "CHANGES_REQUESTED": "A few things to fix before this can go in.",
    "COMMENTED": "Left some questions inline.",
}


def _pr_body(title: str, kind: str) -> str:
    if kind == "dependencies":
        return f"{title}.\n\nRelease notes and changelog are linked in the commit message."
    return f"## Summary\n{title}.\n\n## Testing\n- unit tests\n- ran locally against staging"
