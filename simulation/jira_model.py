"""The simulated company's Jira site: projects, sprints, issues and their whole change history.

Every issue's life (status transitions, priority / story-point / sprint changes) is planned from its own
sha256-derived seed when its creation day is generated, so the same company always has the same Jira, and
moving the clock only *reveals* events: an issue's state "as of t" is computed from the events at or before t.
Tests read the ground truth here (``issues``, ``histories``, ``transitions``) and compare it with what a
connector loaded over HTTP.

Stories honoured (``simulation.stories``): ``ops_p1_share_climbs`` (share of Highest priority among new OPS
issues follows the story's ramp) and ``payments_unplanned_work_rises`` (share of PAY issues that are unplanned
bugs/incidents pulled into the running sprint follows its ramp).

Site settings (``JiraSettings``) are the knobs the fake API reads on every request: deployment mode, the
searching user's profile timezone, the search index lag, the embedded-changelog truncation and the custom
field ids (they differ per real site).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from simulation.determinism import fake_sha, poisson, rng_for

if TYPE_CHECKING:
    from simulation.company import Company

# status id -> (name, status category key)
STATUSES: dict[str, tuple[str, str]] = {
    "10000": ("To Do", "new"),
    "3": ("In Progress", "indeterminate"),
    "10001": ("In Review", "indeterminate"),
    "10002": ("Blocked", "indeterminate"),
    "10003": ("Done", "done"),
}
TODO, IN_PROGRESS, IN_REVIEW, BLOCKED, DONE = "10000", "3", "10001", "10002", "10003"
# status category key -> (id, name, colour)
STATUS_CATEGORIES: dict[str, tuple[int, str, str]] = {
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}
# issue type name -> (id, hierarchy level)
ISSUE_TYPES: dict[str, tuple[str, int]] = {
    "Epic": ("10000", 1),
    "Story": ("10001", 0),
    "Task": ("10002", 0),
    "Bug": ("10003", 0),
    "Incident": ("10004", 0),
}
PRIORITIES: dict[str, str] = {"1": "Highest", "2": "High", "3": "Medium", "4": "Low", "5": "Lowest"}

# (key, name, team, board type)
PROJECTS: tuple[tuple[str, str, str, str], ...] = (
    ("PAY", "Payments", "payments", "scrum"),
    ("SRCH", "Search", "search", "scrum"),
    ("PLAT", "Platform", "platform", "scrum"),
    ("CHK", "Checkout", "checkout", "scrum"),
    ("DATA", "Data Platform", "data-platform", "scrum"),
    ("OPS", "Operations", "platform", "kanban"),
)
INITIATIVES: tuple[str, ...] = ("grow-revenue", "reduce-cost", "reliability", "compliance", "new-markets")
USER_TIMEZONES: tuple[str, ...] = ("Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Kolkata", "UTC")
SPRINT_DAYS = 14
EMBEDDED_CHANGELOG_LIMIT = 20


@dataclass
class JiraSettings:
    """Knobs of the fake site; tests change them between requests."""

    deployment: str = "cloud"  # "cloud" | "data_center"
    user_timezone: str = "UTC"  # profile timezone of the searching user (JQL literals, rendered timestamps)
    index_lag_seconds: float = 60.0  # search is eventually consistent: it sees the site as of now - lag
    embedded_changelog_limit: int = EMBEDDED_CHANGELOG_LIMIT
    story_points_field: str = "customfield_10016"
    sprint_field: str = "customfield_10020"
    story_points_name: str = "Story point estimate"


@dataclass(frozen=True, slots=True)
class ChangeItem:
    field: str  # display name, e.g. "status", "Sprint", "Story point estimate"
    field_id: str  # "status", "priority", "resolution", "sprint", "story_points", "labels", "assignee"
    from_value: str | None
    from_string: str | None
    to_value: str | None
    to_string: str | None


@dataclass(frozen=True, slots=True)
class History:
    id: int
    issue_id: int
    at: datetime
    author: str  # login
    items: tuple[ChangeItem, ...]


@dataclass(frozen=True, slots=True)
class Sprint:
    id: int
    board_id: int
    project_key: str
    name: str
    start: datetime
    end: datetime
    goal: str

    def state(self, at: datetime) -> str:
        if at < self.start:
            return "future"
        return "active" if at < self.end else "closed"


@dataclass
class JiraIssue:
    """The whole planned life of one issue; what a client sees depends on the time asked about."""

    id: int
    key: str
    project_key: str
    issue_type: str
    summary: str
    created_at: datetime
    reporter: str
    assignee: str
    priority: str  # initial priority id
    story_points: float | None  # initial
    labels: tuple[str, ...]
    parent_id: int | None
    initial_sprint: int | None
    histories: list[History] = field(default_factory=list)
    deleted_at: datetime | None = None

    def histories_at(self, at: datetime) -> list[History]:
        return [h for h in self.histories if h.at <= at]

    def transitions(self, at: datetime | None = None) -> list[tuple[datetime, str, str]]:
        """Ground truth: (when, from status id, to status id) of every status change, oldest first."""
        out = []
        for history in self.histories:
            if at is not None and history.at > at:
                break
            for item in history.items:
                if item.field_id == "status":
                    out.append((history.at, item.from_value or "", item.to_value or ""))
        return out

    def visible(self, at: datetime) -> bool:
        return self.created_at <= at and (self.deleted_at is None or self.deleted_at > at)


@dataclass(frozen=True, slots=True)
class IssueState:
    """An issue as of one instant."""

    issue: JiraIssue
    at: datetime
    status: str
    priority: str
    story_points: float | None
    sprint_ids: tuple[int, ...]
    labels: tuple[str, ...]
    updated: datetime
    resolution_date: datetime | None
    histories: tuple[History, ...]


class JiraSite:
    """Thread-safe generator + store of the simulated Jira; created lazily by ``Company.jira``."""

    def __init__(self, company: Company) -> None:
        self.settings = JiraSettings()
        self._company = company
        self._seed = company.seed
        self._lock = threading.RLock()
        self.start = company.history_start.replace(hour=0, minute=0, second=0, microsecond=0)
        self.rate = 3.5 * max(1.0, company.scale)
        self.projects = [
            {"id": 10000 + i, "key": key, "name": name, "team": team, "board_type": board, "board_id": i + 1}
            for i, (key, name, team, board) in enumerate(PROJECTS)
        ]
        self._project = {p["key"]: p for p in self.projects}
        members = {
            t.key: [p.login for p in company.people if p.team_key == t.key and not p.is_bot] for t in company.teams
        }
        self._members = members
        self.users = {
            p.login: {
                "accountId": fake_sha("jira-user", p.login)[:24],
                "displayName": p.name,
                "emailAddress": p.email,
                "timeZone": rng_for(self._seed, "jira-tz", p.login).choice(USER_TIMEZONES),
            }
            for p in company.people
            if not p.is_bot
        }
        self._issues: list[JiraIssue] = []
        self._sprint_cache: dict[str, tuple[datetime, list[Sprint]]] = {}
        self._by_id: dict[int, JiraIssue] = {}
        self._by_key: dict[str, JiraIssue] = {}
        self._counters: dict[str, int] = {p["key"]: 0 for p in self.projects}
        self._epics: dict[str, list[int]] = {}
        self._generated_until = self.start
        self._touch_seq = 0
        self._make_epics()
        self.extend_to(company.now + timedelta(days=60))

    # -- sprints ------------------------------------------------------------------------------------
    def sprints(self, project_key: str, until: datetime) -> list[Sprint]:
        """Two-week sprints of a scrum project from the start of history; the one after ``until`` included."""
        horizon = until + timedelta(days=SPRINT_DAYS)
        cached = self._sprint_cache.get(project_key)
        if cached is None or cached[0] < horizon:
            cached = (horizon + timedelta(days=120), self._make_sprints(project_key, horizon + timedelta(days=120)))
            self._sprint_cache[project_key] = cached
        return [s for s in cached[1] if s.start <= horizon]

    def _make_sprints(self, project_key: str, until: datetime) -> list[Sprint]:
        project = self._project[project_key]
        if project["board_type"] != "scrum":
            return []
        out = []
        index = 0
        while True:
            start = self.start + timedelta(days=SPRINT_DAYS * index, hours=9)
            if start > until:
                return out
            sprint_id = project["board_id"] * 1000 + index + 1
            goal = rng_for(self._seed, "sprint-goal", sprint_id).choice(
                ("Ship the next milestone", "Pay down tech debt", "Stabilise releases", "Customer asks")
            )
            out.append(
                Sprint(
                    sprint_id,
                    project["board_id"],
                    project_key,
                    f"{project_key} Sprint {index + 1}",
                    start,
                    start + timedelta(days=SPRINT_DAYS),
                    goal,
                )
            )
            index += 1

    def sprint_at(self, project_key: str, moment: datetime, *, following: bool = False) -> Sprint | None:
        for sprint in self.sprints(project_key, moment + timedelta(days=SPRINT_DAYS)):
            if following and sprint.start > moment:
                return sprint
            if not following and sprint.start <= moment < sprint.end:
                return sprint
        return None

    def sprint(self, sprint_id: int) -> Sprint | None:
        board_id, index = divmod(sprint_id, 1000)
        project = next((p for p in self.projects if p["board_id"] == board_id), None)
        if project is None or project["board_type"] != "scrum" or index < 1:
            return None
        start = self.start + timedelta(days=SPRINT_DAYS * (index - 1), hours=9)
        return next((s for s in self.sprints(project["key"], start) if s.id == sprint_id), None)

    # -- generation ---------------------------------------------------------------------------------
    def extend_to(self, until: datetime) -> None:
        with self._lock:
            while self._generated_until < until:
                day = self._generated_until
                for project in self.projects:
                    self._generate_day(project, day)
                self._generated_until = day + timedelta(days=1)

    def _new_issue(self, project_key: str, **kwargs: Any) -> JiraIssue:
        self._counters[project_key] += 1
        issue_id = 10000 + len(self._issues) + 1
        issue = JiraIssue(
            id=issue_id, key=f"{project_key}-{self._counters[project_key]}", project_key=project_key, **kwargs
        )
        self._issues.append(issue)
        self._by_id[issue.id] = issue
        self._by_key[issue.key] = issue
        return issue

    def _make_epics(self) -> None:
        for project in self.projects:
            key = project["key"]
            rng = rng_for(self._seed, "jira-epics", key)
            members = self._members[project["team"]]
            self._epics[key] = []
            for n, initiative in enumerate(rng.sample(INITIATIVES, 3)):
                epic = self._new_issue(
                    key,
                    issue_type="Epic",
                    summary=f"{project['name']}: {initiative.replace('-', ' ')} initiative",
                    created_at=self.start + timedelta(minutes=n + 1),
                    reporter=members[0],
                    assignee=members[0],
                    priority="2",
                    story_points=None,
                    labels=(f"initiative:{initiative}",),
                    parent_id=None,
                    initial_sprint=None,
                )
                epic.histories = [
                    self._history(
                        epic, 0, epic.created_at + timedelta(days=1), members[0], [_status(TODO, IN_PROGRESS)]
                    )
                ]
                self._epics[key].append(epic.id)

    def _generate_day(self, project: dict[str, Any], day: datetime) -> None:
        key = project["key"]
        rng = rng_for(self._seed, "jira-day", key, day.date().isoformat())
        weekend = day.weekday() >= 5
        count = poisson(rng, self.rate * (0.3 if weekend else 1.0))
        members = self._members[project["team"]]
        stories = self._company.stories
        for _ in range(count):
            created = day + timedelta(milliseconds=rng.randrange(7 * 3600_000, 19 * 3600_000))
            issue_rng = rng_for(self._seed, "jira-issue", key, created.isoformat())
            unplanned = False
            labels: tuple[str, ...] = ()
            if key == "OPS":
                issue_type = issue_rng.choice(("Incident", "Task", "Task"))
                share = stories.get("ops_p1_share_climbs").params["p1_share"].at(created)
                priority = "1" if issue_rng.random() < share else issue_rng.choice(("2", "3", "3", "4"))
                points = None
            else:
                share = 0.15
                if key == "PAY":
                    share = stories.get("payments_unplanned_work_rises").params["unplanned_share"].at(created)
                unplanned = issue_rng.random() < share
                if unplanned:
                    issue_type = issue_rng.choice(("Bug", "Incident"))
                    priority = issue_rng.choice(("1", "2", "2"))
                    labels = ("unplanned",)
                else:
                    issue_type = issue_rng.choice(("Story", "Story", "Story", "Task", "Bug"))
                    priority = issue_rng.choice(("2", "3", "3", "3", "4"))
                points = float(issue_rng.choice((1, 2, 3, 5, 8))) if issue_type in ("Story", "Task") else None
            sprint: Sprint | None = None
            if project["board_type"] == "scrum":
                sprint = self.sprint_at(key, created) if unplanned else self.sprint_at(key, created, following=True)
            parent = issue_rng.choice(self._epics[key]) if issue_type == "Story" and issue_rng.random() < 0.7 else None
            issue = self._new_issue(
                key,
                issue_type=issue_type,
                summary=f"{issue_type} {issue_rng.choice(_SUMMARY_WORDS)} {issue_rng.choice(_SUMMARY_OBJECTS)}",
                created_at=created,
                reporter=issue_rng.choice(members),
                assignee=issue_rng.choice(members),
                priority=priority,
                story_points=points,
                labels=labels,
                parent_id=parent,
                initial_sprint=sprint.id if sprint else None,
            )
            self._plan_life(issue, issue_rng, sprint, members)

    def _plan_life(self, issue: JiraIssue, rng: Any, sprint: Sprint | None, members: list[str]) -> None:
        events: list[tuple[datetime, list[ChangeItem]]] = []
        t = issue.created_at
        if sprint is not None:
            assigned = max(issue.created_at + timedelta(minutes=1), sprint.start - timedelta(days=1))
            if assigned > issue.created_at + timedelta(days=30):
                assigned = issue.created_at + timedelta(minutes=1)
            events.append((assigned, [ChangeItem("Sprint", "sprint", None, None, str(sprint.id), sprint.name)]))
            t = max(t, sprint.start if sprint.start > t else t)
        urgent = issue.priority in ("1", "2") and issue.issue_type in ("Bug", "Incident")
        t += timedelta(hours=rng.expovariate(1 / (2.0 if urgent else 30.0)))
        status = TODO

        def move(to: str, hours: float) -> None:
            nonlocal t, status
            t += timedelta(hours=max(0.05, hours))
            items = [_status(status, to)]
            if to == DONE:
                items.append(ChangeItem("resolution", "resolution", None, None, "10000", "Done"))
            elif status == DONE:
                items.append(ChangeItem("resolution", "resolution", "10000", "Done", None, None))
            events.append((t, items))
            status = to

        move(IN_PROGRESS, 0.1)
        if rng.random() < 0.1:
            move(BLOCKED, rng.expovariate(1 / 12))
            move(IN_PROGRESS, rng.expovariate(1 / 20))
        rounds = 10 if rng.random() < 0.03 else (1 if rng.random() < 0.25 else 0)
        for _ in range(rounds):
            move(IN_REVIEW, rng.expovariate(1 / 16))
            move(IN_PROGRESS, rng.expovariate(1 / 6))
        move(IN_REVIEW, rng.expovariate(1 / 16))
        move(DONE, rng.expovariate(1 / 8))
        if rng.random() < 0.08:
            move(TODO, rng.expovariate(1 / 48))
            move(IN_PROGRESS, rng.expovariate(1 / 8))
            move(IN_REVIEW, rng.expovariate(1 / 8))
            move(DONE, rng.expovariate(1 / 4))
        if rng.random() < 0.1:
            at = issue.created_at + timedelta(hours=rng.uniform(1, 48))
            new = rng.choice(tuple(p for p in PRIORITIES if p != issue.priority))
            events.append(
                (
                    at,
                    [_change("priority", "priority", issue.priority, PRIORITIES[issue.priority], new, PRIORITIES[new])],
                )
            )
        if issue.story_points is not None and rng.random() < 0.1:
            at = issue.created_at + timedelta(hours=rng.uniform(1, 24))
            new_points = issue.story_points * 2
            events.append(
                (
                    at,
                    [
                        _change(
                            self.settings.story_points_name,
                            "story_points",
                            None,
                            _num(issue.story_points),
                            None,
                            _num(new_points),
                        )
                    ],
                )
            )
        events.sort(key=lambda e: e[0])
        issue.histories = [
            self._history(issue, seq, at, rng.choice(members), items) for seq, (at, items) in enumerate(events)
        ]

    @staticmethod
    def _history(issue: JiraIssue, seq: int, at: datetime, author: str, items: list[ChangeItem]) -> History:
        return History(issue.id * 1000 + seq + 1, issue.id, _ms(at), author, tuple(items))

    # -- mutations (tests, paging races) --------------------------------------------------------------
    def touch_issue(self, issue_id_or_key: int | str, at: datetime | None = None) -> History:
        """Edit an issue at ``at`` (default: the company's now): a label is added; ``updated`` moves."""
        with self._lock:
            issue = self.issue(issue_id_or_key)
            when = _ms(at or self._company.now)
            self._touch_seq += 1
            history = History(
                issue.id * 1000 + 500 + self._touch_seq,
                issue.id,
                when,
                self._members[self._project[issue.project_key]["team"]][0],
                (_change("labels", "labels", None, None, None, f"touched-{self._touch_seq}"),),
            )
            issue.histories = sorted([*issue.histories, history], key=lambda h: (h.at, h.id))
            return history

    def transition_issue(self, issue_id_or_key: int | str, to_status: str, at: datetime | None = None) -> History:
        """Move an issue to ``to_status`` (a status id) at ``at`` (default now); records the history."""
        with self._lock:
            issue = self.issue(issue_id_or_key)
            when = _ms(at or self._company.now)
            current = self.state(issue, when).status
            self._touch_seq += 1
            history = History(
                issue.id * 1000 + 500 + self._touch_seq,
                issue.id,
                when,
                self._members[self._project[issue.project_key]["team"]][0],
                (_status(current, to_status),),
            )
            future = [h for h in issue.histories if h.at > when and any(i.field_id == "status" for i in h.items)]
            issue.histories = sorted(
                [h for h in issue.histories if h not in future] + [history], key=lambda h: (h.at, h.id)
            )
            return history

    def delete_issue(self, issue_id_or_key: int | str, at: datetime | None = None) -> None:
        with self._lock:
            self.issue(issue_id_or_key).deleted_at = at or self._company.now

    # -- reads ----------------------------------------------------------------------------------------
    def issue(self, issue_id_or_key: int | str) -> JiraIssue:
        found = (
            self._by_id.get(int(issue_id_or_key))
            if isinstance(issue_id_or_key, int) or str(issue_id_or_key).isdigit()
            else self._by_key.get(str(issue_id_or_key))
        )
        if found is None:
            raise KeyError(f"no Jira issue {issue_id_or_key!r}")
        return found

    def find(self, issue_id_or_key: str, at: datetime) -> JiraIssue | None:
        try:
            issue = self.issue(issue_id_or_key)
        except (KeyError, ValueError):
            return None
        return issue if issue.visible(at) else None

    def issues(self, at: datetime | None = None, projects: list[str] | None = None) -> list[JiraIssue]:
        """Issues visible at ``at`` (default: now), in creation order. Ground truth for tests."""
        moment = at or self._company.now
        with self._lock:
            self.extend_to(moment + timedelta(days=1))
            return [i for i in self._issues if i.visible(moment) and (projects is None or i.project_key in projects)]

    def ground_truth(self, at: datetime | None = None) -> dict[str, dict[str, Any]]:
        """Per issue key, as of ``at`` (default now): id, type, priority, labels and every status transition."""
        moment = at or self._company.now
        out: dict[str, dict[str, Any]] = {}
        for issue in self.issues(moment):
            state = self.state(issue, moment)
            out[issue.key] = {
                "id": issue.id,
                "project": issue.project_key,
                "type": issue.issue_type,
                "priority": PRIORITIES[state.priority],
                "status": STATUSES[state.status][0],
                "labels": list(state.labels),
                "story_points": state.story_points,
                "sprint_ids": list(state.sprint_ids),
                "transitions": [
                    {"at": when.isoformat(), "from": STATUSES[a][0], "to": STATUSES[b][0]}
                    for when, a, b in issue.transitions(moment)
                ],
            }
        return out

    def state(self, issue: JiraIssue, at: datetime) -> IssueState:
        status, priority, points = TODO, issue.priority, issue.story_points
        labels = list(issue.labels)
        sprint_ids: list[int] = []
        updated = issue.created_at
        resolution_date: datetime | None = None
        seen: list[History] = []
        for history in issue.histories:
            if history.at > at:
                break
            seen.append(history)
            updated = max(updated, history.at)
            for item in history.items:
                if item.field_id == "status":
                    status = item.to_value or status
                    resolution_date = history.at if status == DONE else None
                elif item.field_id == "priority":
                    priority = item.to_value or priority
                elif item.field_id == "story_points":
                    points = float(item.to_string) if item.to_string else None
                elif item.field_id == "sprint" and item.to_value:
                    sprint_ids.append(int(item.to_value))
                elif item.field_id == "labels" and item.to_string:
                    labels.append(item.to_string)
        if sprint_ids:  # carried over: every sprint that started while the issue was open is listed too
            first = self.sprint(sprint_ids[0])
            if first is not None:
                until = resolution_date or at
                sprint_ids = [
                    s.id for s in self.sprints(issue.project_key, until) if s.id >= first.id and s.start <= until
                ]
        return IssueState(
            issue, at, status, priority, points, tuple(sprint_ids), tuple(labels), updated, resolution_date, tuple(seen)
        )


def _status(from_id: str, to_id: str) -> ChangeItem:
    return ChangeItem("status", "status", from_id, STATUSES[from_id][0], to_id, STATUSES[to_id][0])


def _change(name: str, field_id: str, fv: str | None, fs: str | None, tv: str | None, ts: str | None) -> ChangeItem:
    return ChangeItem(name, field_id, fv, fs, tv, ts)


def _num(value: float) -> str:
    return f"{value:g}"


def _ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


_SUMMARY_WORDS = ("Fix", "Add", "Improve", "Remove", "Refactor", "Investigate", "Migrate", "Document")
_SUMMARY_OBJECTS = (
    "retry logic",
    "payment webhook",
    "search ranking",
    "checkout flow",
    "nightly job",
    "alert thresholds",
    "API pagination",
    "cache eviction",
    "login timeout",
    "invoice export",
)
