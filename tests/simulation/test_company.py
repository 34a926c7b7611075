"""The generator: org shape, determinism, payload fidelity, and how the clock reveals history."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from simulation.company import Company, generate_company
from tests.simulation.conftest import ANCHOR, small_company

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
SHA = re.compile(r"^[0-9a-f]{40}$")
FULL_ONLY = {
    "merged",
    "merged_by",
    "comments",
    "review_comments",
    "commits",
    "additions",
    "deletions",
    "changed_files",
    "mergeable",
    "mergeable_state",
    "rebaseable",
    "maintainer_can_modify",
}


def all_payloads(company: Company) -> dict[str, list[dict]]:
    return {repo.full_name: company.list_pull_requests(repo.full_name) for repo in company.repos}


def parse(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


# -- org ------------------------------------------------------------------------------------------
def test_org_has_the_teams_repos_and_services_other_components_rely_on() -> None:
    company = generate_company(seed=42, scale=1.0, anchor=ANCHOR, history_days=30)
    assert company.org == "acme"
    teams = {t.key: t.business_category for t in company.teams}
    assert {"payments", "search", "platform", "checkout", "data-platform"} <= set(teams)
    assert teams["payments"] == "Payments" and teams["search"] == "Discovery"
    for team in company.teams:
        members = [p for p in company.people if p.team_key == team.key]
        assert len(members) == 6
        assert all(not p.is_bot and p.email.endswith("@acme.example") for p in members)
    bots = {p.login for p in company.people if p.is_bot}
    assert bots == {"dependabot[bot]", "renovate[bot]"}
    logins = [p.login for p in company.people]
    assert len(logins) == len(set(logins))
    assert len({p.email for p in company.people}) == len(company.people)
    names = {r.full_name for r in company.repos}
    assert {"acme/payments-api", "acme/search-service", "acme/platform-infra"} <= names
    assert {"acme/checkout-service", "acme/data-pipelines"} <= names
    for repo in company.repos:
        assert company.repo(repo.full_name) is repo
        service = next(s for s in company.services if s.repo_full_name == repo.full_name)
        assert service.name == repo.service and service.team_key == repo.team_key
        assert service.tier in {1, 2, 3}
    assert company.repo("acme/nope") is None


def test_people_scale_with_a_floor_of_two_per_team() -> None:
    tiny = generate_company(scale=0.1, anchor=ANCHOR, history_days=10)
    big = generate_company(scale=10, anchor=ANCHOR, history_days=10)
    for team in tiny.teams:
        assert len([p for p in tiny.people if p.team_key == team.key]) == 2
        assert len([p for p in big.people if p.team_key == team.key]) == 60


def test_anchor_must_be_timezone_aware_and_defaults_to_today_midnight_utc() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_company(anchor=datetime(2026, 3, 2), history_days=10)
    default = generate_company(scale=0.2, history_days=5)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert default.anchor in {today, today - timedelta(days=1)}  # tolerate a run across midnight
    assert default.now == default.anchor and default.now.tzinfo is not None


# -- determinism ------------------------------------------------------------------------------------
def test_same_arguments_give_byte_identical_payloads() -> None:
    first, second = small_company(history_days=30), small_company(history_days=30)
    assert json.dumps(all_payloads(first)) == json.dumps(all_payloads(second))
    assert first.ground_truth() == second.ground_truth()
    assert first.get_pull_request("acme/payments-api", 100) == second.get_pull_request("acme/payments-api", 100)


def test_a_different_seed_gives_a_different_company() -> None:
    one, two = small_company(seed=1, history_days=20), small_company(seed=2, history_days=20)
    assert one.list_pull_requests("acme/search-service") != two.list_pull_requests("acme/search-service")
    assert [p.login for p in one.people] != [p.login for p in two.people]


def test_advancing_in_steps_or_at_once_reaches_the_same_state() -> None:
    stepwise, at_once = small_company(history_days=20), small_company(history_days=20)
    for _ in range(8):
        stepwise.advance(1.25)
    at_once.advance(10)
    assert stepwise.now == at_once.now == ANCHOR + timedelta(days=10)
    assert all_payloads(stepwise) == all_payloads(at_once)


def test_advance_never_rewrites_history_only_real_changes_move_updated_at(fresh_company: Company) -> None:
    before = {(r, p["number"]): p for r, prs in all_payloads(fresh_company).items() for p in prs}
    t0 = fresh_company.now
    fresh_company.advance(2)
    after = {(r, p["number"]): p for r, prs in all_payloads(fresh_company).items() for p in prs}
    assert set(before) < set(after), "new PRs appear, none disappear"
    changed = 0
    for key, old in before.items():
        new = after[key]
        if new != old:
            changed += 1
            assert parse(new["updated_at"]) > t0, f"{key} changed without a newer updated_at"
        else:
            assert parse(new["updated_at"]) <= t0
        assert new["created_at"] == old["created_at"] and new["id"] == old["id"]
    assert changed > 0
    for key in set(after) - set(before):
        assert t0 < parse(after[key]["created_at"]) <= fresh_company.now


def test_advance_makes_open_prs_progress(fresh_company: Company) -> None:
    repo = "acme/payments-api"
    fresh_company.advance(2.6)  # mid-week afternoon: PRs in flight
    open_before = {p["number"] for p in fresh_company.list_pull_requests(repo) if p["state"] == "open"}
    assert len(open_before) > 3
    fresh_company.advance(7)
    now_states = {p["number"]: p for p in fresh_company.list_pull_requests(repo)}
    progressed = [n for n in open_before if now_states[n]["state"] == "closed"]
    assert progressed, "a week later some open PRs are merged or closed"
    merged = [now_states[n] for n in progressed if now_states[n]["merged_at"]]
    assert merged and all(parse(p["merged_at"]) <= fresh_company.now for p in merged)


def test_advance_rejects_going_back(company: Company) -> None:
    with pytest.raises(ValueError):
        company.advance(-1)


def test_future_prs_are_hidden_until_the_clock_reaches_them(fresh_company: Company) -> None:
    repo = "acme/payments-api"
    future = [pr for pr in fresh_company.pull_requests(repo, include_future=True) if pr.created_at > fresh_company.now]
    assert future, "history is generated ahead of the clock"
    visible = fresh_company.list_pull_requests(repo)
    assert all(parse(p["created_at"]) <= fresh_company.now for p in visible)
    first_future = future[0]
    assert fresh_company.get_pull_request(repo, first_future.number) is None
    fresh_company.advance((first_future.created_at - fresh_company.now).total_seconds() / 86400)
    assert fresh_company.get_pull_request(repo, first_future.number) is not None


def test_clock_can_run_past_the_initially_generated_window() -> None:
    company = small_company(history_days=10)
    company.advance(90)  # beyond anchor + 60 days
    latest = max(parse(p["created_at"]) for p in company.list_pull_requests("acme/payments-api"))
    assert latest > ANCHOR + timedelta(days=80)


# -- payload fidelity -----------------------------------------------------------------------------
def test_list_shape_is_pull_request_simple(company: Company) -> None:
    prs = company.list_pull_requests("acme/checkout-service")
    assert prs
    for pr in prs:
        assert not FULL_ONLY & set(pr), "list objects lack the full-object fields, like GitHub's"
        for key in ("created_at", "updated_at"):
            assert ISO_Z.match(pr[key])
        for key in ("closed_at", "merged_at"):
            assert pr[key] is None or ISO_Z.match(pr[key])
        assert pr["state"] in {"open", "closed"}
        assert (pr["state"] == "closed") == (pr["closed_at"] is not None)
        assert pr["merged_at"] is None or pr["merged_at"] == pr["closed_at"]
        assert pr["url"] == f"https://api.github.com/repos/acme/checkout-service/pulls/{pr['number']}"
        assert pr["html_url"] == f"https://github.com/acme/checkout-service/pull/{pr['number']}"
        assert isinstance(pr["id"], int) and pr["node_id"]
        assert pr["user"]["type"] in {"User", "Bot"} and isinstance(pr["user"]["id"], int)
        assert pr["head"]["repo"]["full_name"] == "acme/checkout-service"
        assert pr["base"]["ref"] == "main" and SHA.match(pr["base"]["sha"])
        assert SHA.match(pr["head"]["sha"])
        assert pr["merge_commit_sha"] is None or SHA.match(pr["merge_commit_sha"])
        assert pr["milestone"] is None and pr["requested_teams"] == []
        assert pr["author_association"] in {"MEMBER", "CONTRIBUTOR"}
        for label in pr["labels"]:
            assert set(label) >= {"id", "node_id", "name", "color", "default", "description"}
        assert set(pr["_links"]) >= {"self", "html", "issue", "comments", "commits", "statuses"}
    assert any(p["user"]["type"] == "Bot" and p["user"]["login"].endswith("[bot]") for p in prs)
    open_prs = [p for p in prs if p["state"] == "open" and p["merge_commit_sha"]]
    assert open_prs, "GitHub sets a test-merge sha on open PRs too"


def test_full_object_adds_the_detail_fields(company: Company) -> None:
    repo = "acme/payments-api"
    listed = company.list_pull_requests(repo)
    merged = next(p for p in listed if p["merged_at"])
    full = company.get_pull_request(repo, merged["number"])
    assert full is not None
    assert set(full) >= FULL_ONLY
    assert full["merged"] is True and full["merged_by"]["login"]
    assert {k: v for k, v in full.items() if k not in FULL_ONLY} == merged
    unmerged = next(p for p in listed if p["state"] == "closed" and not p["merged_at"])
    detail = company.get_pull_request(repo, unmerged["number"])
    assert detail is not None and detail["merged"] is False and detail["merged_by"] is None
    assert company.get_pull_request(repo, 999_999) is None
    assert company.get_pull_request("acme/nope", 1) is None


def test_ids_are_unique_across_repos_and_numbers_follow_creation(company: Company) -> None:
    ids: set[int] = set()
    for repo, prs in all_payloads(company).items():
        ids.update(p["id"] for p in prs)
        ordered = sorted(prs, key=lambda p: p["number"])
        assert [p["created_at"] for p in ordered] == sorted(p["created_at"] for p in prs), repo
    assert len(ids) == sum(len(prs) for prs in all_payloads(company).values())


def test_list_returns_fresh_dicts(company: Company) -> None:
    first = company.list_pull_requests("acme/payments-api")
    first[0]["title"] = "mutated"
    first[0]["user"]["login"] = "mutated"
    again = company.list_pull_requests("acme/payments-api")
    assert again[0]["title"] != "mutated" and again[0]["user"]["login"] != "mutated"


def test_touch_moves_updated_at_to_now_and_adds_a_label(fresh_company: Company) -> None:
    repo = "acme/search-service"
    oldest = fresh_company.list_pull_requests(repo)[0]
    fresh_company.advance(0.5)
    fresh_company.touch_pull_request(repo, oldest["number"])
    touched = next(p for p in fresh_company.list_pull_requests(repo) if p["number"] == oldest["number"])
    assert parse(touched["updated_at"]) == fresh_company.now.replace(microsecond=0)
    assert "needs-attention" in {label["name"] for label in touched["labels"]}
    fresh_company.advance(1)  # the edit is history now: it stays
    still = fresh_company.get_pull_request(repo, oldest["number"])
    assert still is not None and still["updated_at"] == touched["updated_at"]
    with pytest.raises(KeyError):
        fresh_company.touch_pull_request(repo, 999_999)


# -- internal model ---------------------------------------------------------------------------------
def test_internal_timeline_is_coherent(company: Company) -> None:
    members = {p.login: p.team_key for p in company.people}
    prs = [pr for repo in company.repos for pr in company.pull_requests(repo.full_name, include_future=True)]
    assert prs
    for pr in prs:
        assert pr.first_commit_at <= pr.created_at <= pr.ready_at
        assert [c.committed_at for c in pr.commits] == sorted(c.committed_at for c in pr.commits)
        assert list(pr.event_times) == sorted(pr.event_times)
        team = company.repo(pr.repo_full_name).team_key  # type: ignore[union-attr]
        for review in pr.reviews:
            assert review.submitted_at > pr.ready_at
            assert members[review.user_login] == team, "reviews come from the owning team"
            assert review.user_login != pr.author_login
            assert review.state in {"APPROVED", "CHANGES_REQUESTED", "COMMENTED"}
        if pr.merged_at is not None:
            assert pr.closed_at == pr.merged_at
            assert any(r.state == "APPROVED" and r.submitted_at <= pr.merged_at for r in pr.reviews)
            assert pr.commits[-1].committed_at <= pr.merged_at
    review_ids = [r.id for pr in prs for r in pr.reviews]
    assert len(review_ids) == len(set(review_ids))
    ended = [pr for pr in prs if pr.closed_at is not None]
    unmerged_share = sum(pr.merged_at is None for pr in ended) / len(ended)
    assert 0.05 < unmerged_share < 0.2
