"""The simulated company: org + generated activity + a clock, and the queries the fake APIs serve.

History is generated from ``anchor - history_days`` up to ``anchor + 60 days``; the clock (``now``)
starts at ``anchor`` and only moves forward, revealing future events as it passes them. The window
is extended when the clock gets close to its end, so ``advance`` can run indefinitely.

Each PR's life (commits, reviews, merge...) is planned from its own seed the first time anything
looks at it, and cached; a PR's state at ``now`` is cached for good once nothing more can happen
to it. That keeps scale 10 (~85k PRs) cheap to create and cheap to serve repeatedly.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from simulation.delivery import DeliveryModel
from simulation.github_payloads import GitHubRenderer
from simulation.jira_model import JiraSite
from simulation.model import Person, PullRequest, Repo, Service, Team
from simulation.org import ORG, build_org
from simulation.pr_generator import Opening, PullRequestGenerator
from simulation.pr_state import PullRequestState, state_at
from simulation.stories import StoryBook, build_stories
from simulation.timefmt import ensure_utc, today_midnight_utc

__all__ = ["Company", "Person", "Repo", "Service", "Team", "generate_company"]

FUTURE_DAYS = 60
_JSON_CACHE_SIZE = 8192


class Company:
    """Thread-safe: the fake servers read it from many threads while tests advance the clock."""

    org = ORG

    def __init__(self, seed: int, scale: float, anchor: datetime, history_days: int) -> None:
        if history_days < 1:
            raise ValueError(f"history_days must be >= 1, got {history_days}")
        self.seed = seed
        self.scale = scale
        self.anchor = ensure_utc(anchor)
        self.history_days = history_days
        self.history_start = self.anchor - timedelta(days=history_days)
        self._lock = threading.RLock()
        self._org = build_org(seed, scale)
        self.teams: list[Team] = list(self._org.teams)
        self.people: list[Person] = list(self._org.people)
        self.repos: list[Repo] = list(self._org.repos)
        self.services: list[Service] = list(self._org.services)
        self._repos = {r.full_name: r for r in self.repos}
        self._people = {p.login: p for p in self.people}
        self.stories: StoryBook = build_stories(self.anchor, history_days)
        self._generator = PullRequestGenerator(seed, self._org, self.stories, self.history_start)
        self._openings: dict[str, list[Opening]] = {name: [] for name in self._repos}
        self._by_number: dict[str, dict[int, Opening]] = {name: {} for name in self._repos}
        self._lives: dict[int, PullRequest] = {}
        self._now = self.anchor
        self._extend()
        self._renderer = GitHubRenderer(seed, self._org, self.history_start)
        self._touches: dict[tuple[str, int], tuple[datetime, ...]] = {}
        self._versions: dict[str, int] = dict.fromkeys(self._repos, 0)
        self._settled: dict[int, PullRequestState] = {}
        self._states: dict[str, tuple[tuple[datetime, int], list[PullRequestState]]] = {}
        self._json: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self.delivery = DeliveryModel(
            seed, self._org, self.stories, self.history_start, lambda repo: self.pull_requests(repo, True)
        )
        self.delivery.set_until(self._delivery_until())

    # -- clock ------------------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        return self._now

    def advance(self, days: float = 1) -> None:
        """Move the clock forward; PRs created in between appear, open ones progress."""
        if days < 0:
            raise ValueError(f"the clock only moves forward; got days={days}")
        with self._lock:
            self._now = self._now + timedelta(days=days)
            self._extend()
            self.delivery.set_until(self._delivery_until())

    def _delivery_until(self) -> datetime:
        """The delivery model is generated FUTURE_DAYS ahead in 30-day steps, so it is rebuilt rarely."""
        ahead = (self._now + timedelta(days=FUTURE_DAYS) - self.anchor).days
        return self.anchor + timedelta(days=30 * (-(-ahead // 30)))

    def _extend(self) -> None:
        for opening in self._generator.extend_to(self._now + timedelta(days=FUTURE_DAYS)):
            self._openings[opening.repo_full_name].append(opening)
            self._by_number[opening.repo_full_name][opening.number] = opening

    def _life(self, opening: Opening) -> PullRequest:
        life = self._lives.get(opening.id)
        if life is None:
            life = self._lives[opening.id] = self._generator.life(opening)
        return life

    # -- org lookups ------------------------------------------------------------------------------
    def repo(self, full_name: str) -> Repo | None:
        return self._repos.get(full_name)

    def person(self, login: str) -> Person | None:
        return self._people.get(login)

    def team(self, key: str) -> Team | None:
        return next((t for t in self.teams if t.key == key), None)

    def ground_truth(self) -> dict[str, dict[str, Any]]:
        return self.stories.ground_truth()

    @property
    def jira(self) -> JiraSite:
        """The company's Jira site (projects, sprints, issues), generated on first use."""
        with self._lock:
            if getattr(self, "_jira", None) is None:
                self._jira = JiraSite(self)
            return self._jira

    # -- internal model (for tests and for endpoints still to come: reviews, commits) --------------
    def pull_requests(self, repo_full_name: str, include_future: bool = False) -> list[PullRequest]:
        """Whole-life PR records (commits, reviews...) ordered by number; future ones on request.

        Records include events after ``now``; use ``state_at`` to see one as of the clock.
        """
        self._require_repo(repo_full_name)
        with self._lock:
            return [
                self._life(opening)
                for opening in self._openings[repo_full_name]
                if include_future or opening.created_at <= self._now
            ]

    # -- GitHub-shaped views ----------------------------------------------------------------------
    def list_pull_requests(self, repo_full_name: str) -> list[dict[str, Any]]:
        """All PRs visible at ``now`` as ``pull-request-simple`` dicts, ascending by number.

        The dicts are fresh: mutating them changes nothing the server serves.
        """
        states = self.pull_request_states(repo_full_name)
        repo = self._repos[repo_full_name]
        return [self._renderer.pull_request(s, repo) for s in states]

    def get_pull_request(self, repo_full_name: str, number: int) -> dict[str, Any] | None:
        """The full ``GET /pulls/{number}`` object, or None if absent (or not created yet)."""
        snap = self.pull_request_state(repo_full_name, number)
        if snap is None:
            return None
        return self._renderer.pull_request(snap, self._repos[repo_full_name], full=True)

    def touch_pull_request(self, repo_full_name: str, number: int) -> None:
        """Record an edit at ``now`` (a label is added), so ``updated_at`` becomes ``now``."""
        with self._lock:
            opening = self._by_number.get(repo_full_name, {}).get(number)
            if opening is None or opening.created_at > self._now:
                raise KeyError(f"no pull request {repo_full_name}#{number} at {self._now.isoformat()}")
            key = (repo_full_name, number)
            self._touches[key] = (*self._touches.get(key, ()), self._now)
            self._settled.pop(opening.id, None)
            self._versions[repo_full_name] += 1

    def pull_request_states(self, repo_full_name: str) -> list[PullRequestState]:
        """Visible PRs at ``now``, ascending by number (= creation order); cached per clock value."""
        self._require_repo(repo_full_name)
        with self._lock:
            key = (self._now, self._versions[repo_full_name])
            cached = self._states.get(repo_full_name)
            if cached is not None and cached[0] == key:
                return cached[1]
            states = []
            for opening in self._openings[repo_full_name]:
                if opening.created_at > self._now:
                    break
                snap = self._state(opening)
                if snap is not None:
                    states.append(snap)
            self._states[repo_full_name] = (key, states)
            return states

    def pull_request_state(self, repo_full_name: str, number: int) -> PullRequestState | None:
        with self._lock:
            opening = self._by_number.get(repo_full_name, {}).get(number)
            return None if opening is None else self._state(opening)

    def encode_pull_request(self, snap: PullRequestState, full: bool = False) -> bytes:
        """Compact JSON of one PR; an LRU keeps hot payloads so paging is cheap."""
        key = (*snap.cache_key, full)
        with self._lock:
            cached = self._json.get(key)
            if cached is not None:
                self._json.move_to_end(key)
                return cached
        encoded = self._renderer.pull_request_json(snap, self._repos[snap.pr.repo_full_name], full=full)
        with self._lock:
            self._json[key] = encoded
            if len(self._json) > _JSON_CACHE_SIZE:
                self._json.popitem(last=False)
        return encoded

    def repository_payload(self, repo_full_name: str) -> dict[str, Any] | None:
        repo = self._repos.get(repo_full_name)
        return None if repo is None else json.loads(json.dumps(self._renderer.repository(repo)))

    @property
    def github_renderer(self) -> GitHubRenderer:
        """Shared users/repositories/labels for GitHub payload modules beyond pull requests."""
        return self._renderer

    def user_payload(self, login: str) -> dict[str, Any]:
        return json.loads(json.dumps(self._renderer.user(login)))

    def _state(self, opening: Opening) -> PullRequestState | None:
        settled = self._settled.get(opening.id)
        if settled is not None:
            return settled
        if opening.created_at > self._now:
            return None
        pr = self._life(opening)
        snap = state_at(pr, self._now, self._touches.get((pr.repo_full_name, pr.number), ()))
        if snap is not None and snap.settled:
            self._settled[pr.id] = snap
        return snap

    def _require_repo(self, full_name: str) -> None:
        if full_name not in self._repos:
            raise KeyError(f"unknown repository {full_name!r}; known: {sorted(self._repos)}")


def generate_company(
    seed: int = 42,
    scale: float = 1.0,
    anchor: datetime | None = None,
    history_days: int = 180,
) -> Company:
    """Build the deterministic company; same arguments, same company, byte for byte."""
    return Company(seed, scale, anchor if anchor is not None else today_midnight_utc(), history_days)
