"""Renders the internal model as GitHub REST payloads (field names and shapes as on api.github.com).

Shapes follow the real objects in shared/reference/payloads/github-webhooks. Static sub-objects
(users, repositories) are built once and shared; callers that hand dicts to the outside world
must serialise them, not mutate them.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote

from simulation.determinism import derive_seed, legacy_node_id, rng_for
from simulation.model import Repo
from simulation.org import BOTS, ORG, Org
from simulation.pr_state import PullRequestState
from simulation.timefmt import iso_z
from simulation.vocabulary import LABELS

API = "https://api.github.com"
WEB = "https://github.com"
ORG_ID = 90_210_001
LANGUAGE = {"checkout-web": "TypeScript", "platform-infra": "HCL"}
_BOT_APPS = {login: app for login, app, _id in BOTS}


class GitHubRenderer:
    def __init__(self, seed: int, org: Org, repos_updated_at: datetime) -> None:
        self._seed = seed
        self._org = org
        self._user_ids = org.user_ids
        self._users: dict[str, dict[str, Any]] = {}
        self._repos: dict[str, dict[str, Any]] = {}
        self._repo_ids = {r.full_name: 410_000_000 + i * 1_337 for i, r in enumerate(org.repos)}
        self._repos_updated_at = repos_updated_at
        self._labels: dict[tuple[str, str], dict[str, Any]] = {}
        self._encoded: dict[str, str] = {}

    # -- shared sub-objects -------------------------------------------------------------------
    def user(self, login: str) -> dict[str, Any]:
        cached = self._users.get(login)
        if cached is None:
            cached = self._users[login] = self._build_user(login)
        return cached

    def _build_user(self, login: str) -> dict[str, Any]:
        is_org = login == ORG
        is_bot = login in _BOT_APPS
        user_id = ORG_ID if is_org else self._user_ids[login]
        path = quote(login)
        html = f"{WEB}/apps/{_BOT_APPS[login]}" if is_bot else f"{WEB}/{login}"
        node_type = "Organization" if is_org else ("Bot" if is_bot else "User")
        return {
            "login": login,
            "id": user_id,
            "node_id": legacy_node_id(node_type, user_id),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
            "gravatar_id": "",
            "url": f"{API}/users/{path}",
            "html_url": html,
            "followers_url": f"{API}/users/{path}/followers",
            "following_url": f"{API}/users/{path}/following{{/other_user}}",
            "gists_url": f"{API}/users/{path}/gists{{/gist_id}}",
            "starred_url": f"{API}/users/{path}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{API}/users/{path}/subscriptions",
            "organizations_url": f"{API}/users/{path}/orgs",
            "repos_url": f"{API}/users/{path}/repos",
            "events_url": f"{API}/users/{path}/events{{/privacy}}",
            "received_events_url": f"{API}/users/{path}/received_events",
            "type": node_type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def repo_id(self, full_name: str) -> int:
        return self._repo_ids[full_name]

    def repository(self, repo: Repo) -> dict[str, Any]:
        cached = self._repos.get(repo.full_name)
        if cached is None:
            cached = self._repos[repo.full_name] = self._build_repo(repo)
        return cached

    def _build_repo(self, repo: Repo) -> dict[str, Any]:
        full = repo.full_name
        api = f"{API}/repos/{full}"
        repo_id = self._repo_ids[full]
        created = self._repos_updated_at - timedelta(days=rng_for(self._seed, "repo-age", full).randint(400, 2200))
        return {
            "id": repo_id,
            "node_id": legacy_node_id("Repository", repo_id),
            "name": repo.name,
            "full_name": full,
            "private": True,
            "owner": self.user(repo.owner),
            "html_url": f"{WEB}/{full}",
            "description": f"{repo.service} ({repo.team_key} team)",
            "fork": False,
            "url": api,
            "forks_url": f"{api}/forks",
            "keys_url": f"{api}/keys{{/key_id}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}",
            "teams_url": f"{api}/teams",
            "hooks_url": f"{api}/hooks",
            "issue_events_url": f"{api}/issues/events{{/number}}",
            "events_url": f"{api}/events",
            "assignees_url": f"{api}/assignees{{/user}}",
            "branches_url": f"{api}/branches{{/branch}}",
            "tags_url": f"{api}/tags",
            "blobs_url": f"{api}/git/blobs{{/sha}}",
            "git_tags_url": f"{api}/git/tags{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "trees_url": f"{api}/git/trees{{/sha}}",
            "statuses_url": f"{api}/statuses/{{sha}}",
            "languages_url": f"{api}/languages",
            "stargazers_url": f"{api}/stargazers",
            "contributors_url": f"{api}/contributors",
            "subscribers_url": f"{api}/subscribers",
            "subscription_url": f"{api}/subscription",
            "commits_url": f"{api}/commits{{/sha}}",
            "git_commits_url": f"{api}/git/commits{{/sha}}",
            "comments_url": f"{api}/comments{{/number}}",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "merges_url": f"{api}/merges",
            "archive_url": f"{api}/{{archive_format}}{{/ref}}",
            "downloads_url": f"{api}/downloads",
            "issues_url": f"{api}/issues{{/number}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}",
            "labels_url": f"{api}/labels{{/name}}",
            "releases_url": f"{api}/releases{{/id}}",
            "deployments_url": f"{api}/deployments",
            # Static on purpose: a moving pushed_at would change every PR payload of the repo.
            "created_at": iso_z(created),
            "updated_at": iso_z(self._repos_updated_at),
            "pushed_at": iso_z(self._repos_updated_at),
            "git_url": f"git://github.com/{full}.git",
            "ssh_url": f"git@github.com:{full}.git",
            "clone_url": f"{WEB}/{full}.git",
            "svn_url": f"{WEB}/{full}",
            "homepage": None,
            "size": 1000 + derive_seed(full, "size") % 90_000,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": LANGUAGE.get(repo.name, "Python"),
            "has_issues": True,
            "has_projects": False,
            "has_downloads": True,
            "has_wiki": False,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": 0,
            "license": None,
            "allow_forking": False,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [repo.team_key],
            "visibility": "private",
            "forks": 0,
            "open_issues": 0,
            "watchers": 0,
            "default_branch": repo.default_branch,
        }

    def label(self, repo_full_name: str, name: str) -> dict[str, Any]:
        key = (repo_full_name, name)
        cached = self._labels.get(key)
        if cached is None:
            color, description, default = LABELS[name]
            label_id = 1_000_000_000 + derive_seed(self._seed, "label", repo_full_name, name) % 8_000_000_000
            cached = self._labels[key] = {
                "id": label_id,
                "node_id": legacy_node_id("Label", label_id),
                "url": f"{API}/repos/{repo_full_name}/labels/{quote(name)}",
                "name": name,
                "color": color,
                "default": default,
                "description": description,
            }
        return cached

    # -- pull requests --------------------------------------------------------------------------
    def pull_request(self, snap: PullRequestState, repo: Repo, *, full: bool = False) -> dict[str, Any]:
        """``pull-request-simple`` (list shape) or, with ``full``, the ``GET /pulls/{n}`` shape.

        Every nested object is a fresh copy, so callers may mutate the result.
        """
        return self._pull_request(snap, repo, full, _Fresh(self))

    def pull_request_json(self, snap: PullRequestState, repo: Repo, *, full: bool = False) -> bytes:
        """The same payload as compact JSON; users and repositories (most of the ~16 KB) are spliced
        in pre-encoded, which makes serving pages several times cheaper than ``json.dumps``."""
        spliced = _Spliced(self)
        text = json.dumps(self._pull_request(snap, repo, full, spliced), separators=(",", ":"), ensure_ascii=False)
        return spliced.splice(text).encode("utf-8")

    def encoded(self, key: str, build: Any) -> str:
        cached = self._encoded.get(key)
        if cached is None:
            cached = self._encoded[key] = json.dumps(build(), separators=(",", ":"), ensure_ascii=False)
        return cached

    def _pull_request(self, snap: PullRequestState, repo: Repo, full: bool, embed: _Embed) -> dict[str, Any]:
        pr = snap.pr
        full_name = repo.full_name
        api = f"{API}/repos/{full_name}"
        html = f"{WEB}/{full_name}/pull/{pr.number}"
        statuses = f"{api}/statuses/{snap.head_sha}"
        repo_obj = embed.repository(repo)
        org_user = embed.user(repo.owner)
        assignees = [embed.user(login) for login in pr.assignees]
        body: dict[str, Any] = {
            "url": f"{api}/pulls/{pr.number}",
            "id": pr.id,
            "node_id": legacy_node_id("PullRequest", pr.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": f"{api}/issues/{pr.number}",
            "commits_url": f"{api}/pulls/{pr.number}/commits",
            "review_comments_url": f"{api}/pulls/{pr.number}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{api}/issues/{pr.number}/comments",
            "statuses_url": statuses,
            "number": pr.number,
            "state": snap.state,
            "locked": False,
            "title": pr.title,
            "user": embed.user(pr.author_login),
            "body": pr.body,
            "labels": [embed.label(full_name, name) for name in snap.labels],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": iso_z(pr.created_at),
            "updated_at": iso_z(snap.updated_at),
            "closed_at": iso_z(snap.closed_at),
            "merged_at": iso_z(snap.merged_at),
            "merge_commit_sha": snap.merge_commit_sha,
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "requested_reviewers": [embed.user(login) for login in snap.requested_reviewers],
            "requested_teams": [],
            "head": {
                "label": f"{repo.owner}:{pr.head_ref}",
                "ref": pr.head_ref,
                "sha": snap.head_sha,
                "user": org_user,
                "repo": repo_obj,
            },
            "base": {
                "label": f"{repo.owner}:{pr.base_ref}",
                "ref": pr.base_ref,
                "sha": pr.base_sha,
                "user": org_user,
                "repo": repo_obj,
            },
            "_links": {
                "self": {"href": f"{api}/pulls/{pr.number}"},
                "html": {"href": html},
                "issue": {"href": f"{api}/issues/{pr.number}"},
                "comments": {"href": f"{api}/issues/{pr.number}/comments"},
                "review_comments": {"href": f"{api}/pulls/{pr.number}/comments"},
                "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
                "commits": {"href": f"{api}/pulls/{pr.number}/commits"},
                "statuses": {"href": statuses},
            },
            "author_association": "CONTRIBUTOR" if pr.author_login in _BOT_APPS else "MEMBER",
            "auto_merge": None,
            "draft": snap.draft,
        }
        if full:
            body.update(self._full_fields(snap, embed))
        return body

    def _full_fields(self, snap: PullRequestState, embed: _Embed) -> dict[str, Any]:
        pr = snap.pr
        if snap.state == "closed":
            mergeable, rebaseable, mergeable_state = None, None, "unknown"
        elif pr.conflicting:
            mergeable, rebaseable, mergeable_state = False, False, "dirty"
        elif snap.draft:
            mergeable, rebaseable, mergeable_state = True, True, "draft"
        else:
            mergeable, rebaseable = True, True
            mergeable_state = "clean" if snap.approved else "blocked"
        return {
            "merged": snap.merged_at is not None,
            "mergeable": mergeable,
            "rebaseable": rebaseable,
            "mergeable_state": mergeable_state,
            "merged_by": embed.user(snap.merged_by) if snap.merged_by else None,
            "comments": snap.comments,
            "review_comments": snap.review_comments,
            "maintainer_can_modify": False,
            "commits": snap.commits,
            "additions": pr.additions,
            "deletions": pr.deletions,
            "changed_files": pr.changed_files,
        }


class _Embed(Protocol):
    """How nested shared objects go into a payload: fresh copies, or placeholders to splice."""

    def user(self, login: str) -> Any: ...
    def repository(self, repo: Repo) -> Any: ...
    def label(self, repo_full_name: str, name: str) -> Any: ...


class _Fresh:
    def __init__(self, renderer: GitHubRenderer) -> None:
        self._r = renderer

    def user(self, login: str) -> dict[str, Any]:
        return dict(self._r.user(login))

    def repository(self, repo: Repo) -> dict[str, Any]:
        obj = self._r.repository(repo)
        return {**obj, "owner": dict(obj["owner"]), "topics": list(obj["topics"])}

    def label(self, repo_full_name: str, name: str) -> dict[str, Any]:
        return dict(self._r.label(repo_full_name, name))


_PLACEHOLDER = re.compile(r'"\$\$(\d+)\$\$"')


class _Spliced:
    """Puts ``"$$n$$"`` placeholders in the dict, then swaps in cached JSON text after dumping."""

    def __init__(self, renderer: GitHubRenderer) -> None:
        self._r = renderer
        self._fragments: list[str] = []

    def _hold(self, fragment: str) -> str:
        self._fragments.append(fragment)
        return f"$${len(self._fragments) - 1}$$"

    def user(self, login: str) -> str:
        return self._hold(self._r.encoded(f"user:{login}", lambda: self._r.user(login)))

    def repository(self, repo: Repo) -> str:
        return self._hold(self._r.encoded(f"repo:{repo.full_name}", lambda: self._r.repository(repo)))

    def label(self, repo_full_name: str, name: str) -> str:
        key = f"label:{repo_full_name}:{name}"
        return self._hold(self._r.encoded(key, lambda: self._r.label(repo_full_name, name)))

    def splice(self, text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: self._fragments[int(m.group(1))], text)
