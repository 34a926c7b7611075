"""Jira flow marts against the simulated company's ground truth, and the work stories they must make visible.

The generator (simulation/jira_model.py) plans every issue's status transitions, sprint and priority
changes; here they are replayed in plain Python — independently of the SQL — and compared with
`marts.fct_work_items`, `marts.fct_sprints`, `marts.metrics_flow_weekly` and `intermediate.int_work__effort_monthly`
built by `techledger demo` for the same company. Then the two work stories (#8) are checked on the marts.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from simulation.jira_model import BLOCKED, DONE, IN_PROGRESS, IN_REVIEW, PROJECTS, STATUSES, TODO, JiraIssue
from tests.conftest import DemoRun

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
ACTIVE = {IN_PROGRESS, IN_REVIEW}  # the workflow_statuses seed: In Progress and In Review are work...
WAITING = {TODO, BLOCKED}  # ... To Do and Blocked are waiting
PROJECT_TEAM = {key: team for key, _name, team, _board in PROJECTS}
HOUR = 3600.0


@dataclass(frozen=True)
class Truth:
    """One issue's flow, replayed from the generator's transitions."""

    key: str
    project: str
    team: str
    issue_type: str
    created: datetime
    periods: list[tuple[str, datetime, datetime | None]]  # (status id, entered, left)
    started: datetime | None
    done: datetime | None
    reopens: int
    moves_back: int

    def status_at(self, moment: datetime) -> str | None:
        for status, entered, left in self.periods:
            if entered <= moment and (left is None or left > moment):
                return status
        return None

    def hours_in(self, statuses: set[str], start: datetime, end: datetime) -> float:
        total = 0.0
        for status, entered, left in self.periods:
            if status in statuses:
                lo, hi = max(entered, start), min(left or end, end)
                total += max(0.0, (hi - lo).total_seconds() / HOUR)
        return total


def _truth(issue: JiraIssue, now: datetime) -> Truth:
    transitions = issue.transitions(now)
    periods: list[tuple[str, datetime, datetime | None]] = []
    status, entered = (transitions[0][1] if transitions else TODO), issue.created_at
    for at, _from, to in transitions:
        periods.append((status, entered, at))
        status, entered = to, at
    periods.append((status, entered, None))
    started = next((at for at, _f, to in transitions if STATUSES[to][1] == "indeterminate"), None)
    done = transitions[-1][0] if transitions and transitions[-1][2] == DONE else None
    return Truth(
        key=issue.key,
        project=issue.project_key,
        team=PROJECT_TEAM[issue.project_key],
        issue_type=issue.issue_type,
        created=issue.created_at,
        periods=periods,
        started=started,
        done=done,
        reopens=sum(1 for _at, f, to in transitions if f == DONE and to != DONE),
        moves_back=sum(1 for _at, f, to in transitions if f == IN_REVIEW and to == IN_PROGRESS),
    )


@pytest.fixture(scope="module")
def company(demo_run: DemoRun) -> Any:
    return demo_run.company()


@pytest.fixture(scope="module")
def truths(company: Any) -> dict[str, Truth]:
    """Every work item (no epics) the demo's Jira held at the anchor."""
    return {i.key: _truth(i, company.now) for i in company.jira.issues(company.now) if i.issue_type != "Epic"}


@pytest.fixture(scope="module")
def as_of(company: Any) -> datetime:
    """The data's as-of time by the generator: the latest update of any issue (open periods are measured to it)."""
    site = company.jira
    return max(site.state(i, company.now).updated for i in site.issues(company.now))


def _rows(demo_run: DemoRun, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        relation = con.sql(sql)
        return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def _quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks, as DuckDB's quantile_cont."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _week(moment: datetime) -> date:
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def _month(moment: datetime) -> date:
    return moment.astimezone(UTC).date().replace(day=1)


def _approx(value: float | None) -> Any:
    return None if value is None else pytest.approx(value, rel=1e-9, abs=1e-9)


# -- per item ------------------------------------------------------------------------------------------------
def test_work_items_agree_with_generator_transitions(demo_run: DemoRun, truths: dict[str, Truth]) -> None:
    """started/done (the *final* done of reopened items), cycle and lead time, reopens and moves back: exact."""
    rows = {
        r["issue_key"]: r
        for r in _rows(
            demo_run,
            "select issue_key, started_at, done_at, cycle_time_hours, lead_time_hours, reopen_count, move_back_count, "
            "active_hours, waiting_hours, flow_efficiency from marts.fct_work_items where not is_epic",
        )
    }
    assert rows.keys() == truths.keys()
    done = [t for t in truths.values() if t.done]
    assert len(done) > 1000 and any(t.reopens for t in done) and any(t.moves_back for t in done)
    for key, truth in truths.items():
        row = rows[key]
        assert (row["started_at"], row["done_at"]) == (truth.started, truth.done), key
        assert (row["reopen_count"], row["move_back_count"]) == (truth.reopens, truth.moves_back), key
        if truth.done is None:
            assert row["cycle_time_hours"] is None and row["flow_efficiency"] is None, key
            continue
        assert row["lead_time_hours"] == _approx((truth.done - truth.created).total_seconds() / HOUR), key
        if truth.started is not None:
            active = truth.hours_in(ACTIVE, truth.started, truth.done)
            waiting = truth.hours_in(WAITING, truth.started, truth.done)
            assert row["cycle_time_hours"] == _approx((truth.done - truth.started).total_seconds() / HOUR), key
            assert (row["active_hours"], row["waiting_hours"]) == (_approx(active), _approx(waiting)), key
            assert row["flow_efficiency"] == _approx(active / (active + waiting)), key


def test_planned_and_unplanned_items_agree_with_generator(demo_run: DemoRun, company: Any) -> None:
    """Unplanned = incidents and bugs (work_bugs_are_unplanned) or pulled into the running sprint, as generated."""
    site = company.jira
    rows = {
        r["issue_key"]: r
        for r in _rows(
            demo_run,
            "select issue_key, is_planned, was_added_to_running_sprint, first_sprint_id from marts.fct_work_items "
            "where is_work_item",
        )
    }
    checked = 0
    for issue in site.issues(company.now):
        if issue.issue_type == "Epic":
            continue
        joined = next((h.at for h in issue.histories_at(company.now) for i in h.items if i.field_id == "sprint"), None)
        sprint = site.sprint(issue.initial_sprint) if issue.initial_sprint else None
        added_running = bool(sprint and joined and sprint.start <= company.now and joined > sprint.start)
        interrupt = issue.issue_type in ("Bug", "Incident") or "unplanned" in issue.labels
        row = rows[issue.key]
        assert row["was_added_to_running_sprint"] == added_running, issue.key
        assert row["is_planned"] == (not interrupt and not added_running), issue.key
        if joined is not None and sprint is not None and sprint.start <= company.now:
            assert row["first_sprint_id"] == issue.initial_sprint, issue.key
            checked += 1
    assert checked > 1000


# -- per sprint ----------------------------------------------------------------------------------------------
def test_closed_sprints_commitment_velocity_and_say_do_agree_with_generator(demo_run: DemoRun, company: Any) -> None:
    """Committed = in the sprint when it started (generator state then), velocity = points done at completion.

    An item counts as completed in the first sprint whose completion found it done (its points never count
    twice), as fct_sprints defines it.
    """
    site = company.jira
    marts = {
        r["sprint_id"]: r
        for r in _rows(
            demo_run,
            "select sprint_id, project_key, start_at, complete_at, committed_points, velocity_points, say_do_ratio "
            "from marts.fct_sprints where sprint_state = 'closed' order by start_at",
        )
    }
    assert len(marts) >= 50
    completed_before: set[int] = set()
    for sprint_id, row in sorted(marts.items(), key=lambda kv: kv[1]["start_at"]):
        start, complete = row["start_at"], row["complete_at"]
        committed = done_committed = velocity = 0.0
        completed_here = set()
        for issue in site.issues(company.now, projects=[row["project_key"]]):
            if issue.issue_type == "Epic" or issue.id in completed_before:
                continue
            at_start = site.state(issue, start) if issue.created_at <= start else None
            at_end = site.state(issue, complete)
            is_done = at_end.status == DONE and sprint_id in at_end.sprint_ids
            if at_start is not None and sprint_id in at_start.sprint_ids:
                committed += at_start.story_points or 0.0
                if is_done:
                    done_committed += at_start.story_points or 0.0
            if is_done:
                velocity += at_end.story_points or 0.0
                completed_here.add(issue.id)
        completed_before |= completed_here
        assert row["committed_points"] == _approx(committed), sprint_id
        assert row["velocity_points"] == _approx(velocity), sprint_id
        assert row["say_do_ratio"] == _approx(done_committed / committed if committed else None), sprint_id


# -- per team and week ---------------------------------------------------------------------------------------
def test_weekly_flow_agrees_with_generator(demo_run: DemoRun, truths: dict[str, Truth], as_of: datetime) -> None:
    """Throughput, WIP at week end, cycle/lead p50/p85 and flow efficiency per team and week, and the org rows."""
    rows = _rows(
        demo_run,
        "select scope, team_key, week_start, throughput_items, wip_items, cycle_time_p50_hours, cycle_time_p85_hours, "
        "lead_time_p50_hours, lead_time_p85_hours, flow_efficiency from marts.metrics_flow_weekly",
    )
    assert len(rows) > 100
    for row in rows:
        items = [t for t in truths.values() if row["scope"] == "org" or t.team == row["team_key"]]
        week_start = datetime.combine(row["week_start"], datetime.min.time(), UTC)
        week_end = min(week_start + timedelta(days=7), as_of)
        done = [t for t in items if t.done and _week(t.done) == row["week_start"]]
        cycles = [(t.done - t.started).total_seconds() / HOUR for t in done if t.started]
        leads = [(t.done - t.created).total_seconds() / HOUR for t in done]
        active = sum(t.hours_in(ACTIVE, t.started, t.done) for t in done if t.started)
        waiting = sum(t.hours_in(WAITING, t.started, t.done) for t in done if t.started)
        wip = sum(1 for t in items if t.status_at(week_end) in (IN_PROGRESS, IN_REVIEW, BLOCKED))
        where = (row["scope"], row["team_key"], row["week_start"])
        assert (row["throughput_items"], row["wip_items"]) == (len(done), wip), where
        assert row["cycle_time_p50_hours"] == _approx(_quantile(cycles, 0.5)), where
        assert row["cycle_time_p85_hours"] == _approx(_quantile(cycles, 0.85)), where
        assert row["lead_time_p50_hours"] == _approx(_quantile(leads, 0.5)), where
        assert row["lead_time_p85_hours"] == _approx(_quantile(leads, 0.85)), where
        assert row["flow_efficiency"] == _approx(active / (active + waiting) if done else None), where


# -- effort ----------------------------------------------------------------------------------------------------
def _epic_categories() -> dict[str, dict[str, str]]:
    with (SEEDS / "epic_categories.csv").open() as handle:
        return {row["initiative"]: row for row in csv.DictReader(handle) if row["initiative"]}


def _month_parts(start: datetime, end: datetime) -> Iterable[tuple[date, float]]:
    while start < end:
        month = _month(start)
        boundary = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
        part_end = min(end, boundary)
        yield month, (part_end - start).total_seconds() / HOUR
        start = part_end


def test_effort_by_person_category_and_month_agrees_with_generator(
    demo_run: DemoRun, company: Any, as_of: datetime
) -> None:
    """Active hours split by month, attributed to the assignee's team and the epic's (else the team's) category."""
    site = company.jira
    categories = _epic_categories()
    team_category = {t.key: t.business_category for t in company.teams}
    person_team = {p.login: p.team_key for p in company.people}
    expected: dict[tuple[str, str, str, date], float] = defaultdict(float)
    for issue in site.issues(company.now):
        if issue.issue_type == "Epic":
            continue
        truth = _truth(issue, company.now)
        category = team_category[truth.team]
        if issue.parent_id is not None:
            initiative = site.issue(issue.parent_id).labels[0].removeprefix("initiative:")
            category = categories[initiative]["business_category"] or category
        for status, entered, left in truth.periods:
            if status in ACTIVE:
                for month, hours in _month_parts(entered, left or max(as_of, entered)):
                    expected[(person_team[issue.assignee], issue.assignee, category, month)] += hours
    rows = _rows(
        demo_run,
        "select team_key, person_key, business_category, month_start, active_hours "
        "from intermediate.int_work__effort_monthly",
    )
    actual = {
        (r["team_key"], r["person_key"], r["business_category"], r["month_start"]): r["active_hours"] for r in rows
    }
    assert actual.keys() == {k for k, v in expected.items() if v > 0}
    for key, hours in actual.items():
        assert hours == pytest.approx(expected[key], rel=1e-9), key


def test_work_seeds_cover_the_simulated_workflow_and_initiatives() -> None:
    """The shipped seeds name every status and initiative the simulated Jira uses (else the defaults would apply)."""
    from simulation.jira_model import INITIATIVES

    with (SEEDS / "workflow_statuses.csv").open() as handle:
        states = {row["status_name"]: row["flow_state"] for row in csv.DictReader(handle)}
    assert {name for name, _category in STATUSES.values()} <= states.keys()
    assert states["Blocked"] == "waiting" and states["In Progress"] == "active"
    assert set(INITIATIVES) == _epic_categories().keys()


# -- the stories (#8 builds work_mix_monthly on these columns) ----------------------------------------------
def _share_by(rows: list[dict[str, Any]], flag: str, since: datetime, until: datetime) -> tuple[float, int]:
    window = [r for r in rows if since <= r["created_at"] < until]
    return sum(1 for r in window if r[flag]) / len(window), len(window)


def _z(before: tuple[float, int], after: tuple[float, int]) -> float:
    """Two-proportion z statistic of after - before: how many standard errors the change is (2 = clearly real)."""
    (p1, n1), (p2, n2) = before, after
    return (p2 - p1) / math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)


def test_story_ops_p1_share_climbs(demo_run: DemoRun, company: Any) -> None:
    """OPS items created at the top priority: before the story vs the second half of its ramp."""
    story = company.stories.get("ops_p1_share_climbs")
    ramp = story.params["p1_share"]
    rows = _rows(
        demo_run,
        "select issue_key, created_at, is_top_priority_at_creation, is_top_priority from marts.fct_work_items "
        "where project_key = 'OPS' and is_work_item",
    )
    created_highest = {i.key: i.priority == "1" for i in company.jira.issues(company.now, projects=["OPS"])}
    for row in rows:  # the generator's own draw, item by item
        assert row["is_top_priority_at_creation"] == created_highest[row["issue_key"]], row["issue_key"]
    by_month: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_month[_month(row["created_at"])].append(row)
    for month in sorted(by_month):
        items = by_month[month]
        print(
            f"OPS {month:%Y-%m}: {len(items):3d} created, top priority at creation "
            f"{sum(r['is_top_priority_at_creation'] for r in items) / len(items):.3f}, "
            f"now {sum(r['is_top_priority'] for r in items) / len(items):.3f}"
        )
    midpoint = ramp.start + (ramp.end - ramp.start) / 2
    before, n_before = _share_by(rows, "is_top_priority_at_creation", company.history_start, ramp.start)
    after, n_after = _share_by(rows, "is_top_priority_at_creation", midpoint, ramp.end)
    z = _z((before, n_before), (after, n_after))
    print(
        f"OPS top-priority share: before the story {before:.3f} (n={n_before}), last half of its ramp {after:.3f} "
        f"(n={n_after}), z = {z:.1f}; the story ramps {ramp.before} -> {ramp.after}"
    )
    assert after > before and z >= 2


def test_story_payments_unplanned_work_rises(demo_run: DemoRun, company: Any) -> None:
    """PAY items that are unplanned (interrupts or pulled into the running sprint): before vs late in the story."""
    story = company.stories.get("payments_unplanned_work_rises")
    ramp = story.params["unplanned_share"]
    rows = _rows(
        demo_run,
        "select created_at, not is_planned as is_unplanned, was_added_to_running_sprint from marts.fct_work_items "
        "where project_key = 'PAY' and is_work_item",
    )
    by_month: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_month[_month(row["created_at"])].append(row)
    for month in sorted(by_month):
        items = by_month[month]
        unplanned = sum(r["is_unplanned"] for r in items) / len(items)
        pulled = sum(r["was_added_to_running_sprint"] for r in items) / len(items)
        print(f"PAY {month:%Y-%m}: {len(items):3d} created, unplanned {unplanned:.3f}, pulled mid-sprint {pulled:.3f}")
    midpoint = ramp.start + (ramp.end - ramp.start) / 2
    before, n_before = _share_by(rows, "is_unplanned", company.history_start, ramp.start)
    after, n_after = _share_by(rows, "is_unplanned", midpoint, ramp.end)
    pulled_before, _ = _share_by(rows, "was_added_to_running_sprint", company.history_start, ramp.start)
    pulled_after, _ = _share_by(rows, "was_added_to_running_sprint", midpoint, ramp.end)
    z = _z((before, n_before), (after, n_after))
    z_pulled = _z((pulled_before, n_before), (pulled_after, n_after))
    print(
        f"PAY unplanned share: before the story {before:.3f} (n={n_before}), last half of its ramp {after:.3f} "
        f"(n={n_after}), z = {z:.1f}; pulled into a running sprint {pulled_before:.3f} -> {pulled_after:.3f}, "
        f"z = {z_pulled:.1f}; the story ramps {ramp.before} -> {ramp.after}"
    )
    assert after > before and z >= 2
    assert pulled_after > pulled_before and z_pulled >= 2
