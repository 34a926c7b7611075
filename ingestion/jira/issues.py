"""Jira issues and their full change history -> `raw_jira.issues`, `raw_jira.changelogs`; deletion census.

The incremental walk (source-apis.md §2.2, §2.5, §6 "jira.issues"):
- JQL `project = K AND updated >= <start ms> AND updated <= <end ms> ORDER BY created ASC`. Epoch-millisecond
  literals are instants, so the searching user's profile timezone (which Jira applies to "yyyy-MM-dd HH:mm"
  literals) cannot shift the window; `ORDER BY created` keeps issues updated while we page from jumping pages.
- end = the server's clock (Date header) - a consistency buffer (search is eventually consistent);
  start = previous end - overlap. The end is committed as the cursor only after the last page *and* the
  changelogs of the window's issues are stored; a crash re-reads the window and the upsert absorbs repeats.
- Cloud pages with `nextPageToken` (POST /rest/api/3/search/jql, explicit `fields`); the walk stops on a missing
  token or an empty page and raises on a token it was already given instead of looping.
- Full histories come from `POST /rest/api/3/changelog/bulkfetch` (≤1,000 issues per call, token paging) for the
  issues that changed in the window — never from the embedded `expand=changelog`, which is truncated.
- Data Center has neither: `/rest/api/2/search` with startAt/total and `expand=changelog` (complete there).

Deletions are invisible to incremental sync, so `census_deletions` lists every id of a project (`fields=id`,
large pages) and records issues the warehouse has but Jira no longer returns in `raw_jira.issue_deletions`
(`is_deleted` true; set back to false if the issue shows up again). `raw_jira.issues` keeps the last payload as
served — a tombstone table keeps raw rows "as the API served them" and lets staging expose deletions as data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ingestion.errors import NotFoundError, PayloadError, RequestRejectedError, SourceError
from ingestion.http import ApiResponse, HttpClient, server_time
from ingestion.jira.client import JiraConfigurationError, JiraEndpoints
from ingestion.jira.metadata import JiraFields
from ingestion.jira.tables import CHANGELOGS, ISSUE_DELETIONS, ISSUES, SOURCE, parse_timestamp
from ingestion.loader import RawLoader, batched
from ingestion.meta import SyncRun
from ingestion.runs import SyncSummary, run_scopes

logger = logging.getLogger("techledger.ingestion.jira")

PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,254}$")
BULKFETCH_MAX_IDS = 1000
ID_PAGE_SIZE = 5000
_SPRINT_ID = re.compile(r"\bid=(\d+)")

Progress = Callable[[str, int], None]


def check_projects(projects: Sequence[str]) -> list[str]:
    bad = [p for p in projects if not PROJECT_KEY.match(p)]
    if bad or not projects:
        raise ValueError(f"jira projects must be upper-case project keys like PAY; got {list(projects)!r}")
    return list(projects)


def to_epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("refusing to format a naive datetime as a JQL instant")
    return int(moment.timestamp() * 1000)


def window_jql(project: str, start: datetime | None, end: datetime) -> str:
    """The bounded, timezone-proof JQL of one incremental window."""
    clauses = [f"project = {project}"]
    if start is not None:
        clauses.append(f"updated >= {to_epoch_ms(start)}")
    clauses.append(f"updated <= {to_epoch_ms(end)}")
    return " AND ".join(clauses) + " ORDER BY created ASC"


# ---------------------------------------------------------------------- search


def search(
    client: HttpClient, ends: JiraEndpoints, jql: str, fields: Sequence[str], page_size: int, expand: str | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of issues for `jql`, following the server's paging (token on Cloud, startAt on DC)."""
    if ends.token_paging:
        yield from _token_pages(client, ends, jql, fields, page_size, expand)
    else:
        yield from _offset_search(client, ends, jql, fields, page_size, expand)


def _post(client: HttpClient, ends: JiraEndpoints, path: str, body: Mapping[str, Any]) -> Any:
    try:
        response = client.request("POST", path, json_body=dict(body))
    except RequestRejectedError as exc:
        if exc.status == 410:
            raise JiraConfigurationError(
                f"jira POST {path}: HTTP 410 Gone — Jira Cloud has removed this search API (CHANGE-2046). Fix: set "
                "the Jira search_api to 'enhanced' (/rest/api/3/search/jql), or deployment to 'data_center' if this "
                "is a Jira Data Center/Server site",
                source=SOURCE,
                method="POST",
                endpoint=path,
                status=410,
            ) from None
        raise
    except NotFoundError as exc:
        hint = (
            "this site has no Cloud REST v3 API; if it is Jira Data Center/Server set deployment to 'data_center'"
            if ends.deployment == "cloud"
            else "check the base URL points at the Jira root"
        )
        raise JiraConfigurationError(
            f"jira POST {path}: HTTP 404. Fix: {hint}", source=SOURCE, method="POST", endpoint=path, status=404
        ) from exc
    return _json_object(response, path)


def _json_object(response: ApiResponse, path: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise PayloadError(
            f"jira {path}: expected a JSON object, got {type(data).__name__}. Fix: check the base URL",
            source=SOURCE,
            endpoint=path,
            status=response.status_code,
        )
    return data


def _issues_of(data: Mapping[str, Any], path: str, page: int) -> list[dict[str, Any]]:
    issues = data.get("issues")
    if not isinstance(issues, list) or not all(isinstance(i, dict) and i.get("id") for i in issues):
        raise PayloadError(
            f"jira {path}: page {page} has no 'issues' list of objects with ids. "
            "Fix: check the base URL and deployment",
            source=SOURCE,
            endpoint=path,
        )
    return issues


def _token_pages(
    client: HttpClient, ends: JiraEndpoints, jql: str, fields: Sequence[str], page_size: int, expand: str | None
) -> Iterator[list[dict[str, Any]]]:
    token: str | None = None
    seen: set[str] = set()
    page = 0
    while True:
        page += 1
        body: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": page_size}
        if expand:
            body["expand"] = expand
        if token:
            body["nextPageToken"] = token
        data = _post(client, ends, ends.search, body)
        issues = _issues_of(data, ends.search, page)
        if issues:
            yield issues
        next_token = data.get("nextPageToken")
        if not issues or not next_token:
            return  # `isLast` is not trusted on its own: the token decides (JRACLOUD-95477)
        if next_token in seen or next_token == token:
            raise PayloadError(
                f"jira POST {ends.search}: page {page} returned a nextPageToken already used on an earlier page; "
                "stopping instead of looping. Fix: this is a server-side paging bug; rerun later (the cursor was not "
                "advanced, nothing is lost)",
                source=SOURCE,
                method="POST",
                endpoint=ends.search,
            )
        seen.add(str(next_token))
        token = str(next_token)


def _offset_search(
    client: HttpClient, ends: JiraEndpoints, jql: str, fields: Sequence[str], page_size: int, expand: str | None
) -> Iterator[list[dict[str, Any]]]:
    start = 0
    page = 0
    while True:
        page += 1
        body: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": page_size, "startAt": start}
        if expand:
            body["expand"] = [e.strip() for e in expand.split(",")]
        data = _post(client, ends, ends.search, body)
        issues = _issues_of(data, ends.search, page)
        if issues:
            yield issues
        start += len(issues)
        total = data.get("total")
        if not issues or not isinstance(total, int) or start >= total:
            return


# ---------------------------------------------------------------------- records


def issue_record(item: Mapping[str, Any], fields: JiraFields) -> dict[str, Any]:
    values = item.get("fields") or {}
    key = str(item.get("key") or "")
    updated = parse_timestamp(values.get("updated"))
    if updated is None:
        raise PayloadError(
            f"jira issue {key or item.get('id')}: no 'updated' field in the search response. Fix: the connector asks "
            "for it explicitly; check the site returns requested fields",
            source=SOURCE,
        )
    points = values.get(fields.story_points) if fields.story_points else None
    sprints = values.get(fields.sprint) if fields.sprint else None
    project = (values.get("project") or {}).get("key") or key.rsplit("-", 1)[0]
    return {
        "id": int(item["id"]),
        "key": key,
        "project_key": project,
        "created_at": parse_timestamp(values.get("created")),
        "updated_at": updated,
        "story_points": float(points) if isinstance(points, int | float) and not isinstance(points, bool) else None,
        "sprint_ids": _sprint_ids(sprints) if fields.sprint else None,
        "story_points_field": fields.story_points,
        "sprint_field": fields.sprint,
        "payload": dict(item),
    }


def _sprint_ids(value: Any) -> list[int]:
    """Sprint field values: Cloud objects `{id, name...}`; DC strings `...Sprint@1a2b[id=12,...]`."""
    ids: list[int] = []
    for entry in value or []:
        if isinstance(entry, dict) and entry.get("id") is not None:
            ids.append(int(entry["id"]))
        elif isinstance(entry, str) and (match := _SPRINT_ID.search(entry)):
            ids.append(int(match.group(1)))
    return ids


def history_record(issue_id: int, history: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "issue_id": issue_id,
        "history_id": int(history["id"]),
        "created_at": parse_timestamp(history.get("created")),
        "payload": dict(history),
    }


# ---------------------------------------------------------------------- changelogs


def fetch_changelogs(
    client: HttpClient, ends: JiraEndpoints, issue_ids: Sequence[int], field_ids: Sequence[str]
) -> Iterator[list[dict[str, Any]]]:
    """Full histories of `issue_ids` (filtered to `field_ids`), ≤1,000 ids per bulkfetch call, token paged."""
    path = "/rest/api/3/changelog/bulkfetch"
    for chunk in batched(sorted(issue_ids), BULKFETCH_MAX_IDS):
        token: str | None = None
        seen: set[str] = set()
        while True:
            body: dict[str, Any] = {
                "issueIdsOrKeys": [str(i) for i in chunk],
                "fieldIds": list(field_ids),
                "maxResults": 1000,
            }
            if token:
                body["nextPageToken"] = token
            data = _post(client, ends, path, body)
            logs = data.get("issueChangeLogs")
            if not isinstance(logs, list):
                raise PayloadError(
                    f"jira POST {path}: no 'issueChangeLogs' list. Fix: check the base URL and deployment",
                    source=SOURCE,
                    method="POST",
                    endpoint=path,
                )
            records = [
                history_record(int(log["issueId"]), history)
                for log in logs
                for history in log.get("changeHistories") or []
            ]
            if records:
                yield records
            next_token = data.get("nextPageToken")
            if not logs or not next_token:
                break
            if next_token in seen:
                raise PayloadError(
                    f"jira POST {path}: nextPageToken repeated; stopping instead of looping. Fix: rerun later",
                    source=SOURCE,
                    method="POST",
                    endpoint=path,
                )
            seen.add(str(next_token))
            token = str(next_token)


def _embedded_changelog(client: HttpClient, ends: JiraEndpoints, item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Data Center: the embedded changelog, completed through the per-issue endpoint if it was cut short."""
    issue_id = int(item["id"])
    changelog = item.get("changelog") or {}
    histories = [h for h in changelog.get("histories") or [] if isinstance(h, dict)]
    total = changelog.get("total")
    if isinstance(total, int) and total > len(histories):
        histories = []
        start = 0
        while True:
            data = client.get_json(f"{ends.api}/issue/{issue_id}/changelog", {"startAt": start, "maxResults": 100})
            values = data.get("values") or []
            histories += values
            start += len(values)
            if not values or start >= int(data.get("total") or 0):
                break
    return [history_record(issue_id, h) for h in histories]


# ---------------------------------------------------------------------- sync


def sync_issues(
    client: HttpClient,
    loader: RawLoader,
    ends: JiraEndpoints,
    projects: Sequence[str],
    fields: JiraFields,
    *,
    overlap: timedelta = timedelta(minutes=15),
    buffer: timedelta = timedelta(minutes=5),
    page_size: int = 100,
    progress: Progress | None = None,
) -> SyncSummary:
    """Incrementally sync issues (+ their full changelogs) of each project; one sync run per project."""
    check_projects(projects)
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    loader.ensure_table(ISSUES)
    loader.ensure_table(CHANGELOGS)

    def sync_project(project: str, run: SyncRun) -> dict[str, Any]:
        state = loader.get_state(SOURCE, ISSUES.stream, project)
        cursor = _read_cursor(state, project)
        now = server_time(client.get(f"{ends.api}/myself"))
        end = now - buffer
        start = cursor - overlap if cursor is not None else None
        jql = window_jql(project, start, end)
        changed: set[int] = set()
        histories = 0
        expand = None if ends.bulk_changelogs else "changelog"
        for items in search(client, ends, jql, fields.issue_fields, page_size, expand):
            loader.upsert(ISSUES, [issue_record(item, fields) for item in items], run)
            changed.update(int(item["id"]) for item in items)
            if not ends.bulk_changelogs:
                for item in items:
                    records = _embedded_changelog(client, ends, item)
                    histories += len(records)
                    loader.upsert(CHANGELOGS, records, run)
            if progress is not None:
                progress(project, run.records)
        # Reconcile: an issue edited while we paged can leave the window, and with offset-like page tokens the
        # issues behind it shift onto pages already read (skipped without a trace). One id-only pass over the
        # same window (5,000 ids per page, so normally one request) finds them; they are fetched by id.
        window_ids: set[int] = set()
        for items in search(client, ends, jql, ["id"], ID_PAGE_SIZE):
            window_ids.update(int(item["id"]) for item in items)
        skipped = sorted(window_ids - changed)
        for chunk in batched(skipped, 100):
            id_jql = f"id in ({', '.join(str(i) for i in chunk)}) ORDER BY created ASC"
            for items in search(client, ends, id_jql, fields.issue_fields, page_size, expand):
                loader.upsert(ISSUES, [issue_record(item, fields) for item in items], run)
                changed.update(int(item["id"]) for item in items)
                if not ends.bulk_changelogs:
                    for item in items:
                        loader.upsert(CHANGELOGS, _embedded_changelog(client, ends, item), run)
        if skipped:
            logger.warning(
                "jira %s: %d issues shifted between pages while paging; fetched by id", project, len(skipped)
            )
        if ends.bulk_changelogs and changed:
            for records in fetch_changelogs(client, ends, sorted(changed), fields.changelog_field_ids):
                histories += len(records)
                loader.upsert(CHANGELOGS, records, run)
        new_state = {
            "cursor": end.isoformat(),
            "window_start": start.isoformat() if start else None,
            "issues": len(changed),
            "histories": histories,
            "reconciled": len(skipped),
        }
        loader.save_state(run, new_state)  # only now: every page and every changelog is stored
        return new_state

    return run_scopes(client, loader, SOURCE, ISSUES.stream, list(projects), sync_project)


def census_deletions(
    client: HttpClient,
    loader: RawLoader,
    ends: JiraEndpoints,
    projects: Sequence[str],
    *,
    page_size: int = 5000,
) -> SyncSummary:
    """Mark issues the warehouse holds but Jira no longer returns as deleted (ids-only census per project)."""
    check_projects(projects)
    loader.ensure_table(ISSUES)
    loader.ensure_table(ISSUE_DELETIONS)
    con = loader.con

    def census(project: str, run: SyncRun) -> dict[str, Any]:
        checked_at = server_time(client.get(f"{ends.api}/myself"))
        live: set[int] = set()
        for items in search(client, ends, f"project = {project} ORDER BY created ASC", ["id"], page_size):
            live.update(int(i["id"]) for i in items)
        known = dict(
            con.execute(
                f"SELECT id, key FROM {ISSUES.sql_name} WHERE project_key = ? AND created_at < ?",
                [project, checked_at],
            ).fetchall()
        )
        if not live and known:
            raise SourceError(
                f"jira census of {project}: the search returned no issues while the warehouse holds {len(known)}; "
                "refusing to mark them all deleted. Fix: check the account can still browse the project",
                source=SOURCE,
            )
        tombstoned = {
            row[0]
            for row in con.execute(
                f"SELECT issue_id FROM {ISSUE_DELETIONS.sql_name} WHERE project_key = ? AND is_deleted", [project]
            ).fetchall()
        }
        missing = sorted(set(known) - live)
        restored = sorted(tombstoned & live)
        records = [_tombstone(i, known.get(i), project, True, checked_at) for i in missing]
        records += [_tombstone(i, known.get(i), project, False, checked_at) for i in restored]
        state = {"checked_at": checked_at.isoformat(), "live": len(live), "deleted": len(missing)}
        loader.upsert(ISSUE_DELETIONS, records, run, state=state)
        if missing:
            logger.info("jira census %s: %d issues no longer in Jira, marked deleted", project, len(missing))
        return state

    return run_scopes(client, loader, SOURCE, ISSUE_DELETIONS.stream, list(projects), census)


def _tombstone(issue_id: int, key: str | None, project: str, deleted: bool, at: datetime) -> dict[str, Any]:
    return {
        "issue_id": issue_id,
        "issue_key": key,
        "project_key": project,
        "is_deleted": deleted,
        "checked_at": at,
        "payload": {"id": str(issue_id), "key": key, "deleted": deleted, "checked_at": at.isoformat()},
    }


def _read_cursor(state: Mapping[str, Any] | None, project: str) -> datetime | None:
    if not state or state.get("cursor") is None:
        return None
    try:
        cursor = datetime.fromisoformat(state["cursor"])
    except (TypeError, ValueError):
        cursor = None
    if cursor is None or cursor.tzinfo is None:
        raise ValueError(
            f"meta.sync_state cursor for jira/issues/{project} is not a zoned ISO timestamp ({state['cursor']!r}); "
            "delete that row to force a full resync of the project"
        )
    return cursor
