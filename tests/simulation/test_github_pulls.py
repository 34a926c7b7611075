"""The fake GitHub pulls endpoints over real HTTP: pagination, filters, sorting, errors."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from simulation.company import Company
from simulation.server import FakeApiServer
from tests.simulation.conftest import GitHub

REPO = "acme/payments-api"


def links(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    header = response.headers.get("Link")
    if header is None:
        return {}
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', header)}


def page_of(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["page"][0])


def test_link_header_has_next_last_first_prev_as_applicable(gh: GitHub, company: Company) -> None:
    total = len(company.list_pull_requests(REPO))
    last = -(-total // 10)
    assert last >= 4

    first = gh.pulls(state="all", per_page=10, sort="updated")
    assert first.status_code == 200 and len(first.json()) == 10
    rels = links(first)
    assert set(rels) == {"next", "last"}
    assert page_of(rels["next"]) == 2 and page_of(rels["last"]) == last
    assert rels["next"].startswith(gh.base + f"/repos/{REPO}/pulls?")
    query = parse_qs(urlsplit(rels["next"]).query)
    assert query["state"] == ["all"] and query["per_page"] == ["10"] and query["sort"] == ["updated"]

    middle = gh.get(rels["next"])
    assert set(links(middle)) == {"prev", "next", "last", "first"}
    assert page_of(links(middle)["prev"]) == 1 and page_of(links(middle)["first"]) == 1

    final = gh.get(rels["last"])
    assert set(links(final)) == {"prev", "first"}
    assert len(final.json()) == total - 10 * (last - 1)


def test_following_next_links_yields_every_pr_once(gh: GitHub, company: Company) -> None:
    seen: list[int] = []
    url: str | None = gh.base + f"/repos/{REPO}/pulls?state=all&per_page=25"
    while url:
        response = gh.get(url)
        seen.extend(pr["number"] for pr in response.json())
        url = links(response).get("next")
    expected = [pr["number"] for pr in company.list_pull_requests(REPO)]
    assert sorted(seen) == expected and len(seen) == len(set(seen))


def test_per_page_defaults_to_30_and_is_clamped_to_100(gh: GitHub, company: Company) -> None:
    assert len(company.list_pull_requests(REPO)) > 100
    assert len(gh.pulls(state="all").json()) == 30
    clamped = gh.pulls(state="all", per_page=500)
    assert len(clamped.json()) == 100
    assert page_of(links(clamped)["next"]) == 2
    assert len(gh.pulls(state="all", per_page="junk").json()) == 30


def test_no_link_header_when_one_page_holds_everything(gh: GitHub) -> None:
    response = gh.pulls(state="open", per_page=100)
    assert response.status_code == 200 and 0 < len(response.json()) < 100
    assert "Link" not in response.headers


def test_page_past_the_end_is_empty(gh: GitHub) -> None:
    response = gh.pulls(state="all", per_page=100, page=999)
    assert response.status_code == 200 and response.json() == []


def test_state_filter(gh: GitHub, company: Company) -> None:
    everything = company.list_pull_requests(REPO)
    for state in ("open", "closed"):
        numbers = [pr["number"] for pr in gh.pulls(state=state, per_page=100, direction="asc").json()]
        expected = [pr["number"] for pr in everything if pr["state"] == state][:100]
        assert numbers == expected
    default = gh.pulls(per_page=100).json()
    assert default and all(pr["state"] == "open" for pr in default)


def test_invalid_state_is_a_422_validation_failure(gh: GitHub) -> None:
    response = gh.pulls(state="merged")
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "Validation Failed"
    assert body["errors"][0]["field"] == "state"
    assert body["documentation_url"].startswith("https://docs.github.com/")


def test_sort_and_direction_defaults(gh: GitHub) -> None:
    def created(**params) -> list[str]:  # type: ignore[no-untyped-def]
        return [pr["created_at"] for pr in gh.pulls(state="all", per_page=100, **params).json()]

    def updated(**params) -> list[str]:  # type: ignore[no-untyped-def]
        return [pr["updated_at"] for pr in gh.pulls(state="all", per_page=100, **params).json()]

    newest_first = created()
    assert newest_first == sorted(newest_first, reverse=True), "created, desc by default"
    assert created(sort="created", direction="asc") == sorted(created(sort="created", direction="asc"))
    assert updated(sort="updated") == sorted(updated(sort="updated")), "non-created sorts default to asc"
    desc = updated(sort="updated", direction="desc")
    assert desc == sorted(desc, reverse=True)
    assert created(sort="popularity") == sorted(created(sort="popularity")), "served like created, asc"
    assert gh.pulls(sort="sideways").status_code == 422
    assert gh.pulls(direction="up").status_code == 422


def test_head_and_base_filters(gh: GitHub, company: Company) -> None:
    target = company.list_pull_requests(REPO)[5]
    ref = target["head"]["ref"]
    by_head = gh.pulls(state="all", head=f"acme:{ref}").json()
    assert [pr["number"] for pr in by_head] == [target["number"]]
    assert gh.pulls(state="all", head="someone-else:" + ref).json() == []
    assert len(gh.pulls(state="all", base="main", per_page=100).json()) == 100
    assert gh.pulls(state="all", base="release").json() == []


def test_single_pull_request_is_the_full_object(gh: GitHub, company: Company) -> None:
    listed = company.list_pull_requests(REPO)[0]
    response = gh.get(f"/repos/{REPO}/pulls/{listed['number']}")
    assert response.status_code == 200
    body = response.json()
    assert body == company.get_pull_request(REPO, listed["number"])
    assert "merged" in body and "additions" in body and "mergeable" in body
    listed_page = gh.pulls(state="all", direction="asc", per_page=1).json()[0]
    assert "merged" not in listed_page and "additions" not in listed_page
    assert listed_page["number"] == listed["number"]


def test_unknown_things_are_404_with_github_bodies(gh: GitHub) -> None:
    missing_repo = gh.pulls(repo="acme/nope")
    assert missing_repo.status_code == 404
    assert missing_repo.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest/pulls/pulls#list-pull-requests",
        "status": "404",
    }
    assert gh.get(f"/repos/{REPO}/pulls/999999").status_code == 404
    assert gh.get(f"/repos/{REPO}/pulls/abc").status_code == 404
    assert gh.get("/no/such/route").status_code == 404


def test_future_prs_are_not_served(gh: GitHub, company: Company) -> None:
    future = next(pr for pr in company.pull_requests(REPO, include_future=True) if pr.created_at > company.now)
    assert gh.get(f"/repos/{REPO}/pulls/{future.number}").status_code == 404


def test_repository_endpoint(gh: GitHub) -> None:
    body = gh.get(f"/repos/{REPO}").json()
    assert body["full_name"] == REPO and body["default_branch"] == "main" and body["private"] is True


def test_auth_is_required_and_both_schemes_work(server: FakeApiServer) -> None:
    import requests

    url = server.base_url("github") + f"/repos/{REPO}/pulls"
    with requests.Session() as session:
        session.trust_env = False
        missing = session.get(url, timeout=5)
        assert missing.status_code == 401 and missing.json()["message"] == "Bad credentials"
        assert "x-ratelimit-limit" in missing.headers
        assert session.get(url, headers={"Authorization": "Bearer "}, timeout=5).status_code == 401
        assert session.get(url, headers={"Authorization": "token abc"}, timeout=5).status_code == 200
        assert session.get(url, headers={"Authorization": "Bearer abc"}, timeout=5).status_code == 200
