"""Jira metadata: field discovery, statuses, projects, boards and sprints (small, full refresh each run).

Story points and sprint are custom fields whose ids differ per site (source-apis.md §2.3): they are
*discovered* from `GET /rest/api/3/field` — sprint by its schema custom type `gh-sprint`, story points by
name ("Story point estimate" on team-managed/new sites, else "Story Points") — never hard-coded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ingestion.errors import NotFoundError, PayloadError
from ingestion.http import HttpClient
from ingestion.jira.client import JiraConfigurationError, JiraEndpoints
from ingestion.jira.tables import BOARDS, FIELDS, PROJECTS, SOURCE, SPRINTS, STATUSES, parse_timestamp
from ingestion.loader import RawLoader
from ingestion.meta import SyncRun
from ingestion.redaction import safe_endpoint
from ingestion.runs import SyncSummary, run_scopes

logger = logging.getLogger("techledger.ingestion.jira")

SPRINT_SCHEMA = "com.pyxis.greenhopper.jira:gh-sprint"
STORY_POINT_NAMES: tuple[str, ...] = ("story point estimate", "story points")
SITE_SCOPE = "site"


@dataclass(frozen=True)
class JiraFields:
    """The custom field ids this site uses (None when the site has no such field)."""

    story_points: str | None
    sprint: str | None

    @property
    def changelog_field_ids(self) -> list[str]:
        """fieldIds for changelog bulkfetch (≤10): the fields flow and planning metrics read."""
        ids = ["status", "resolution", "priority", "assignee"]
        ids += [f for f in (self.sprint, self.story_points) if f]
        return ids

    @property
    def issue_fields(self) -> list[str]:
        base = [
            "summary",
            "status",
            "issuetype",
            "priority",
            "created",
            "updated",
            "resolutiondate",
            "resolution",
            "labels",
            "components",
            "project",
            "assignee",
            "reporter",
            "parent",
        ]
        return base + [f for f in (self.story_points, self.sprint) if f]


def fetch_fields(client: HttpClient, ends: JiraEndpoints) -> list[dict[str, Any]]:
    """`GET /rest/api/{3|2}/field`; the first request of a sync, so a wrong deployment is reported here."""
    try:
        data = client.get_json(f"{ends.api}/field")
    except NotFoundError as exc:
        other = "data_center" if ends.deployment == "cloud" else "cloud"
        raise JiraConfigurationError(
            f"jira GET {ends.api}/field: HTTP 404, this site has no {ends.api} API. Fix: check the base URL is the "
            f"Jira site root, and the deployment (configured {ends.deployment!r}; a Jira Data Center/Server site "
            f"needs 'data_center', Jira Cloud needs 'cloud') — try deployment={other!r}",
            source=SOURCE,
            method="GET",
            endpoint=f"{ends.api}/field",
            status=404,
        ) from exc
    if not isinstance(data, list):
        raise PayloadError(
            f"jira GET {ends.api}/field: expected a JSON list of fields, got {type(data).__name__}. "
            "Fix: check the base URL points at the Jira site root",
            source=SOURCE,
            method="GET",
            endpoint=f"{ends.api}/field",
        )
    return [f for f in data if isinstance(f, dict) and f.get("id")]


def discover_fields(
    fields: Sequence[dict[str, Any]], *, story_points_field: str | None = None, sprint_field: str | None = None
) -> JiraFields:
    """Pick the sprint and story-points field ids; explicit overrides win (they must exist on the site)."""
    known = {str(f["id"]) for f in fields}
    for name, override in (("story_points_field", story_points_field), ("sprint_field", sprint_field)):
        if override and override not in known:
            raise ValueError(
                f"jira {name}={override!r} is not a field of this site; known custom fields: "
                f"{sorted(i for i in known if i.startswith('customfield_'))}"
            )
    sprint = sprint_field or next(
        (str(f["id"]) for f in fields if (f.get("schema") or {}).get("custom") == SPRINT_SCHEMA), None
    )
    points = story_points_field
    if points is None:
        by_name = {str(f.get("name", "")).strip().lower(): str(f["id"]) for f in fields if f.get("custom")}
        points = next((by_name[n] for n in STORY_POINT_NAMES if n in by_name), None)
    if points is None:
        logger.warning("jira: no story points field found (looked for %s); story_points stays null", STORY_POINT_NAMES)
    if sprint is None:
        logger.warning("jira: no sprint field (schema %s) found; sprint_ids stays null", SPRINT_SCHEMA)
    return JiraFields(points, sprint)


def sync_metadata(
    client: HttpClient,
    loader: RawLoader,
    ends: JiraEndpoints,
    projects: Sequence[str],
    fields: JiraFields,
    raw_fields: Sequence[dict[str, Any]],
) -> dict[str, SyncSummary]:
    """Full refresh of fields, statuses, projects, boards and sprints (upserts; one run per stream scope)."""
    roles = {fields.story_points: "story_points", fields.sprint: "sprint"}

    def sync_fields(scope: str, run: SyncRun) -> None:
        records = [
            {
                "id": str(f["id"]),
                "name": f.get("name"),
                "is_custom": bool(f.get("custom", False)),
                "role": roles.get(str(f["id"])),
                "payload": f,
            }
            for f in raw_fields
        ]
        loader.upsert(FIELDS, records, run)

    def sync_statuses(scope: str, run: SyncRun) -> None:
        data = _list(client, f"{ends.api}/status")
        records = [
            {
                "id": str(s["id"]),
                "name": s.get("name"),
                "category_key": (s.get("statusCategory") or {}).get("key"),
                "payload": s,
            }
            for s in data
        ]
        loader.upsert(STATUSES, records, run)

    def sync_projects(scope: str, run: SyncRun) -> None:
        if ends.deployment == "cloud":
            items = list(_offset_pages(client, f"{ends.api}/project/search", {"maxResults": 50}))
        else:
            items = _list(client, f"{ends.api}/project")
        records = [
            {"id": int(p["id"]), "key": p.get("key"), "name": p.get("name"), "payload": p}
            for p in items
            if p.get("key") in projects
        ]
        loader.upsert(PROJECTS, records, run)

    def sync_boards(project: str, run: SyncRun) -> None:
        loader.upsert(BOARDS, [_board_record(b, project) for b in _boards(client, project)], run)

    def sync_sprints(project: str, run: SyncRun) -> None:
        for board in _boards(client, project):
            if board.get("type") != "scrum":
                continue  # kanban boards have no sprints (the API answers 400)
            params = {"state": "future,active,closed", "maxResults": 50}
            records = [
                _sprint_record(s, int(board["id"]))
                for s in _offset_pages(client, f"/rest/agile/1.0/board/{board['id']}/sprint", params)
            ]
            loader.upsert(SPRINTS, records, run)

    summaries: dict[str, SyncSummary] = {}
    for table, scopes, function in (
        (FIELDS, [SITE_SCOPE], sync_fields),
        (STATUSES, [SITE_SCOPE], sync_statuses),
        (PROJECTS, [SITE_SCOPE], sync_projects),
        (BOARDS, list(projects), sync_boards),
        (SPRINTS, list(projects), sync_sprints),
    ):
        loader.ensure_table(table)
        summaries[table.stream] = run_scopes(client, loader, SOURCE, table.stream, scopes, function)  # type: ignore[arg-type]
    return summaries


def _boards(client: HttpClient, project: str) -> list[dict[str, Any]]:
    return list(_offset_pages(client, "/rest/agile/1.0/board", {"projectKeyOrId": project, "maxResults": 50}))


def _board_record(board: dict[str, Any], project: str) -> dict[str, Any]:
    location = board.get("location") or {}
    return {
        "id": int(board["id"]),
        "name": board.get("name"),
        "type": board.get("type"),
        "project_key": location.get("projectKey") or project,
        "payload": board,
    }


def _sprint_record(sprint: dict[str, Any], board_id: int) -> dict[str, Any]:
    return {
        "id": int(sprint["id"]),
        "board_id": int(sprint.get("originBoardId") or board_id),
        "state": sprint.get("state"),
        "start_at": parse_timestamp(sprint.get("startDate")),
        "end_at": parse_timestamp(sprint.get("endDate")),
        "complete_at": parse_timestamp(sprint.get("completeDate")),
        "payload": sprint,
    }


def _list(client: HttpClient, path: str) -> list[dict[str, Any]]:
    data = client.get_json(path)
    if not isinstance(data, list):
        raise PayloadError(
            f"jira GET {path}: expected a JSON list, got {type(data).__name__}. Fix: check the base URL and deployment",
            source=SOURCE,
            method="GET",
            endpoint=path,
        )
    return [item for item in data if isinstance(item, dict)]


def _offset_pages(client: HttpClient, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """`{values, startAt, maxResults, total, isLast}` offset paging (Agile API, project search)."""
    start = 0
    for _ in range(100_000):
        data = client.get_json(path, {**params, "startAt": start})
        values = data.get("values") if isinstance(data, dict) else None
        if not isinstance(values, list):
            raise PayloadError(
                f"jira GET {safe_endpoint(client.url_for(path))}: expected an object with a 'values' list. "
                "Fix: check the base URL and deployment",
                source=SOURCE,
                method="GET",
                endpoint=path,
            )
        yield from (v for v in values if isinstance(v, dict))
        start += len(values)
        total = data.get("total")
        if not values or data.get("isLast") is True or (isinstance(total, int) and start >= total):
            return
    raise PayloadError(f"jira GET {path}: paging did not end", source=SOURCE, method="GET", endpoint=path)
