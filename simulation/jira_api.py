"""Fake Jira (Cloud REST v3 + Agile 1.0, or Data Center REST v2) mounted at ``/jira``.

Behaviour follows shared/reference/source-apis.md §2 and the §7 checklist:
- ``/rest/api/3/search/jql`` (GET or POST): ``nextPageToken`` paging (token absent on the last page), default
  ``fields`` = id only, fewer results when ``*all`` is asked, unbounded JQL -> 400, JQL date literals read in the
  searching user's timezone at minute granularity, epoch-ms literals exact, and eventual consistency: search
  sees the site as of ``now - index_lag_seconds``. ``expand=changelog`` embeds only the first
  ``embedded_changelog_limit`` histories.
- ``/rest/api/{2,3}/search`` answer 410 with Atlassian's body on Cloud; on Data Center ``/rest/api/2/search``
  serves ``startAt/maxResults/total`` (and ``/rest/api/3`` does not exist: 404).
- ``/rest/api/3/changelog/bulkfetch``: token paging, 400 for more than 1,000 ids.
- Faults: ``rate_limit_429`` (Retry-After + X-RateLimit-Reset), ``unavailable_503`` (Retry-After),
  ``repeat_token`` (the search hands back the token it was given, forever: a client must not loop).
- Auth: Cloud wants Basic ``email:api_token``; Data Center also accepts a Bearer personal access token.
- Timestamps ``yyyy-MM-dd'T'HH:mm:ss.SSS+hhmm`` in the user's profile timezone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from simulation.faults import Fault
from simulation.httpkit import ApiContext, Response, SourceApi
from simulation.jira_jql import JqlError, Query, parse
from simulation.jira_model import (
    ISSUE_TYPES,
    PRIORITIES,
    STATUS_CATEGORIES,
    STATUSES,
    History,
    IssueState,
    JiraIssue,
    JiraSite,
)

SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration "
    "guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
BULKFETCH_LIMIT = 1000
ID_FIELDS = frozenset({"id", "key"})


def jira_site(ctx: ApiContext) -> JiraSite:
    return ctx.company.jira  # type: ignore[attr-defined, no-any-return]


class JiraApi(SourceApi):
    name: ClassVar[str] = "jira"
    fault_kinds: ClassVar[frozenset[str]] = SourceApi.fault_kinds | {"unavailable_503", "repeat_token"}

    def __init__(self) -> None:
        super().__init__()
        self._sticky_tokens: set[str] = set()
        api = r"/rest/api/(?P<version>[23])"
        self.route("GET", f"{api}/field", self.fields)
        self.route("GET", f"{api}/status", self.statuses)
        self.route("GET", f"{api}/myself", self.myself)
        self.route("GET", f"{api}/project/search", self.project_search)
        self.route("GET", f"{api}/project", self.project_list)
        self.route("GET", "/rest/api/3/search/jql", self.search_jql)
        self.route("POST", "/rest/api/3/search/jql", self.search_jql)
        self.route("GET", f"{api}/search", self.legacy_search)
        self.route("POST", f"{api}/search", self.legacy_search)
        self.route("POST", "/rest/api/3/changelog/bulkfetch", self.bulkfetch)
        self.route("GET", rf"{api}/issue/(?P<key>[^/]+)/changelog", self.issue_changelog)
        self.route("GET", "/rest/agile/1.0/board", self.boards)
        self.route("GET", r"/rest/agile/1.0/board/(?P<board_id>\d+)/sprint", self.board_sprints)

    # -- auth and errors ------------------------------------------------------------------------------
    def token(self, request: Any) -> str | None:
        header = (request.header("Authorization") or "").strip()
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            email, _, secret = decoded.partition(":")
            return secret or None if email else None
        if scheme.lower() == "bearer" and value.strip():
            # Personal access tokens exist on Data Center only; Cloud rejects them. The deployment is
            # checked per request in `_dc_only_bearer`.
            return "bearer:" + value.strip()
        return None

    def error(self, ctx: ApiContext, status: int, message: str, **extra: Any) -> Response:
        return Response.json(status, {"errorMessages": [message], "errors": extra.get("errors", {})})

    def unauthorized(self, ctx: ApiContext) -> Response:
        return self.error(ctx, 401, "Client must be authenticated to access this resource.")

    def not_found(self, ctx: ApiContext) -> Response:
        return self.error(ctx, 404, "The requested resource could not be found.")

    def fault_response(self, ctx: ApiContext, fault: Fault) -> Response | None:
        if fault.kind == "rate_limit_429":
            response = self.error(ctx, 429, "Rate limit exceeded.")
            retry_after = float(fault.options.get("retry_after", 1))
            reset = ctx.company.now + timedelta(seconds=retry_after)
            response.headers["Retry-After"] = f"{retry_after:g}"
            response.headers["X-RateLimit-Reset"] = reset.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
            response.headers["RateLimit-Reason"] = "jira-burst-based"
            return response
        if fault.kind == "unavailable_503":
            response = self.error(ctx, 503, "Service Unavailable")
            response.headers["Retry-After"] = str(fault.options.get("retry_after", 1))
            return response
        if fault.kind == "repeat_token":
            response = self.search_jql(ctx)
            if response.status == 200:
                body = json.loads(response.body)
                token = body.get("nextPageToken")
                if token:
                    self._sticky_tokens.add(token)
            return response
        return super().fault_response(ctx, fault)

    def decorate(self, ctx: ApiContext, response: Response) -> None:
        super().decorate(ctx, response)
        response.set_default("X-AREQUESTID", ctx.request_id)
        response.set_default("Cache-Control", "no-cache, no-store, no-transform")

    # -- request helpers ------------------------------------------------------------------------------
    def _guard(self, ctx: ApiContext, version: str | None) -> Response | None:
        """None when the request may proceed; else the error this deployment answers."""
        site = jira_site(ctx)
        dc = site.settings.deployment == "data_center"
        if ctx.token and ctx.token.startswith("bearer:") and not dc:
            return self.unauthorized(ctx)
        if dc and version == "3":
            return self.not_found(ctx)
        return None

    def _params(self, ctx: ApiContext) -> dict[str, Any]:
        """Query parameters, or the JSON body of a POST (Jira accepts both shapes)."""
        if ctx.request.method == "POST":
            try:
                body = json.loads(ctx.request.body or b"{}")
            except ValueError:
                return {"__invalid__": True}
            return body if isinstance(body, dict) else {"__invalid__": True}
        params: dict[str, Any] = {}
        for key, value in ctx.request.query:
            params[key] = value
        return params

    def _zone(self, ctx: ApiContext) -> ZoneInfo:
        return ZoneInfo(jira_site(ctx).settings.user_timezone)

    def _ts(self, ctx: ApiContext, value: datetime | None) -> str | None:
        if value is None:
            return None
        local = value.astimezone(self._zone(ctx))
        return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")

    # -- metadata -------------------------------------------------------------------------------------
    def fields(self, ctx: ApiContext, version: str) -> Response:
        if (denied := self._guard(ctx, version)) is not None:
            return denied
        settings = jira_site(ctx).settings
        system = [
            ("summary", "Summary", "string"),
            ("status", "Status", "status"),
            ("issuetype", "Issue Type", "issuetype"),
            ("priority", "Priority", "priority"),
            ("created", "Created", "datetime"),
            ("updated", "Updated", "datetime"),
            ("resolutiondate", "Resolved", "datetime"),
            ("resolution", "Resolution", "resolution"),
            ("labels", "Labels", "array"),
            ("components", "Components", "array"),
            ("project", "Project", "project"),
            ("assignee", "Assignee", "user"),
            ("reporter", "Reporter", "user"),
            ("parent", "Parent", "issuelink"),
        ]
        out: list[dict[str, Any]] = [
            {
                "id": fid,
                "key": fid,
                "name": name,
                "custom": False,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [fid],
                "schema": {"type": kind, "system": fid},
            }
            for fid, name, kind in system
        ]

        def custom(fid: str, name: str, schema: dict[str, Any]) -> dict[str, Any]:
            number = int(fid.rsplit("_", 1)[1])
            return {
                "id": fid,
                "key": fid,
                "name": name,
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{number}]", name],
                "schema": {**schema, "customId": number},
            }

        out.append(
            custom(
                "customfield_10014", "Epic Link", {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-epic-link"}
            )
        )
        out.append(
            custom("customfield_10019", "Rank", {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-lexo-rank"})
        )
        out.append(
            custom(
                settings.sprint_field,
                "Sprint",
                {"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint"},
            )
        )
        out.append(
            custom(
                settings.story_points_field,
                settings.story_points_name,
                {"type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float"},
            )
        )
        return Response.json(200, out)

    def statuses(self, ctx: ApiContext, version: str) -> Response:
        if (denied := self._guard(ctx, version)) is not None:
            return denied
        return Response.json(200, [self._status(ctx, sid) for sid in STATUSES])

    def myself(self, ctx: ApiContext, version: str) -> Response:
        if (denied := self._guard(ctx, version)) is not None:
            return denied
        return Response.json(
            200,
            {
                "accountId": "5b10a2844c20165700ede21g",
                "displayName": "techledger sync",
                "timeZone": jira_site(ctx).settings.user_timezone,
                "active": True,
            },
        )

    def _projects(self, ctx: ApiContext) -> list[dict[str, Any]]:
        return [
            {
                "self": ctx.url(f"/rest/api/3/project/{p['id']}"),
                "id": str(p["id"]),
                "key": p["key"],
                "name": p["name"],
                "projectTypeKey": "software",
                "style": "next-gen" if p["board_type"] == "kanban" else "classic",
                "simplified": False,
            }
            for p in jira_site(ctx).projects
        ]

    def project_search(self, ctx: ApiContext, version: str) -> Response:
        if (denied := self._guard(ctx, version)) is not None:
            return denied
        return self._offset_page(ctx, self._projects(ctx), default=50, cap=100)

    def project_list(self, ctx: ApiContext, version: str) -> Response:
        if (denied := self._guard(ctx, version)) is not None:
            return denied
        return Response.json(200, self._projects(ctx))

    def _status(self, ctx: ApiContext, sid: str) -> dict[str, Any]:
        name, category = STATUSES[sid]
        cid, cname, colour = STATUS_CATEGORIES[category]
        return {
            "self": ctx.url(f"/rest/api/3/status/{sid}"),
            "id": sid,
            "name": name,
            "description": "",
            "statusCategory": {
                "self": ctx.url(f"/rest/api/3/statuscategory/{cid}"),
                "id": cid,
                "key": category,
                "colorName": colour,
                "name": cname,
            },
        }

    # -- agile ----------------------------------------------------------------------------------------
    def boards(self, ctx: ApiContext) -> Response:
        if (denied := self._guard(ctx, None)) is not None:
            return denied
        wanted = ctx.request.arg("projectKeyOrId")
        kind = ctx.request.arg("type")
        values = [
            {
                "id": p["board_id"],
                "self": ctx.url(f"/rest/agile/1.0/board/{p['board_id']}"),
                "name": f"{p['key']} board",
                "type": p["board_type"],
                "location": {
                    "projectId": p["id"],
                    "projectKey": p["key"],
                    "projectName": p["name"],
                    "displayName": f"{p['name']} ({p['key']})",
                    "projectTypeKey": "software",
                },
            }
            for p in jira_site(ctx).projects
            if (not wanted or wanted in (p["key"], str(p["id"]))) and (not kind or kind == p["board_type"])
        ]
        return self._offset_page(ctx, values, default=50, cap=50)

    def board_sprints(self, ctx: ApiContext, board_id: str) -> Response:
        if (denied := self._guard(ctx, None)) is not None:
            return denied
        site = jira_site(ctx)
        project = next((p for p in site.projects if p["board_id"] == int(board_id)), None)
        if project is None:
            return self.error(ctx, 404, f"Board {board_id} does not exist or you do not have permission to see it.")
        if project["board_type"] != "scrum":
            return self.error(ctx, 400, "The board does not support sprints")
        now = ctx.company.now
        states = {s.strip() for s in (ctx.request.arg("state") or "").split(",") if s.strip()}
        values = []
        for sprint in site.sprints(project["key"], now):
            state = sprint.state(now)
            if states and state not in states:
                continue
            item: dict[str, Any] = {
                "id": sprint.id,
                "self": ctx.url(f"/rest/agile/1.0/sprint/{sprint.id}"),
                "state": state,
                "name": sprint.name,
                "originBoardId": sprint.board_id,
                "goal": sprint.goal,
            }
            if state != "future":
                item["startDate"] = _iso(sprint.start)
                item["endDate"] = _iso(sprint.end)
                item["activatedDate"] = _iso(sprint.start)
            if state == "closed":
                item["completeDate"] = _iso(sprint.end + timedelta(hours=1))
            item["createdDate"] = _iso(sprint.start - timedelta(days=3))
            values.append(item)
        return self._offset_page(ctx, values, default=50, cap=50)

    def _offset_page(self, ctx: ApiContext, values: list[Any], *, default: int, cap: int) -> Response:
        start = _int(ctx.request.arg("startAt"), 0)
        size = min(max(1, _int(ctx.request.arg("maxResults"), default)), cap)
        chunk = values[start : start + size]
        return Response.json(
            200,
            {
                "maxResults": size,
                "startAt": start,
                "total": len(values),
                "isLast": start + size >= len(values),
                "values": chunk,
            },
        )

    # -- search -----------------------------------------------------------------------------------------
    def _query(self, ctx: ApiContext, params: dict[str, Any]) -> Query | Response:
        if params.get("__invalid__"):
            return self.error(ctx, 400, "Invalid request payload. Refer to the REST API documentation and try again.")
        jql = str(params.get("jql") or "").strip()
        try:
            return parse(jql, jira_site(ctx).settings.user_timezone)
        except JqlError as exc:
            return self.error(ctx, 400, str(exc))

    def _matching(self, ctx: ApiContext, query: Query) -> list[IssueState]:
        site = jira_site(ctx)
        index_time = ctx.company.now - timedelta(seconds=site.settings.index_lag_seconds)
        projects = sorted(query.projects) if query.projects is not None else None
        states = []
        for issue in site.issues(index_time, projects):
            state = site.state(issue, index_time)
            values = {"updated": state.updated, "created": issue.created_at}
            if query.matches(issue.project_key, values, str(issue.id), issue.key):
                states.append(state)
        for name, descending in reversed(query.order):
            states.sort(key=lambda s, n=name: _sort_key(s, n), reverse=descending)  # type: ignore[misc]
        return states

    def search_jql(self, ctx: ApiContext) -> Response:
        if (denied := self._guard(ctx, "3")) is not None:
            return denied
        params = self._params(ctx)
        query = self._query(ctx, params)
        if isinstance(query, Response):
            return query
        fields = _field_list(params.get("fields"))
        size = _int(params.get("maxResults"), 50)
        cap = 5000 if fields <= ID_FIELDS else (20 if "*all" in fields else 100)
        size = min(max(1, size), cap)
        given = params.get("nextPageToken")
        jql_hash = hashlib.sha256(str(params.get("jql")).encode()).hexdigest()[:12]
        offset = 0
        if given:
            decoded = _decode_token(str(given))
            if decoded is None or decoded.get("q") != jql_hash:
                return self.error(ctx, 400, "The provided next page token is invalid or expired.")
            offset = int(decoded["o"])
        page_number = offset // size + 1
        for mutation in ctx.faults.take_paging_mutations(self.name, "search", page_number):
            # Edited a moment ago and already indexed: the issue's `updated` moves while the client pages.
            lag = timedelta(seconds=jira_site(ctx).settings.index_lag_seconds)
            jira_site(ctx).touch_issue(mutation.item, at=ctx.company.now - lag)
        states = self._matching(ctx, query)
        chunk = states[offset : offset + size]
        expand = _field_list(params.get("expand"))
        body: dict[str, Any] = {
            "issues": [self._issue(ctx, s, fields, "changelog" in expand, truncate=True) for s in chunk]
        }
        if given and given in self._sticky_tokens:
            body["nextPageToken"] = given
        elif offset + size < len(states):
            body["nextPageToken"] = _encode_token({"o": offset + size, "q": jql_hash})
        body["isLast"] = "nextPageToken" not in body
        return Response.json(200, body)

    def legacy_search(self, ctx: ApiContext, version: str) -> Response:
        site = jira_site(ctx)
        if site.settings.deployment != "data_center":
            if ctx.token and ctx.token.startswith("bearer:"):
                return self.unauthorized(ctx)
            return Response.json(410, {"errorMessages": [SEARCH_REMOVED], "errors": {}})
        if (denied := self._guard(ctx, version)) is not None:
            return denied
        params = self._params(ctx)
        query = self._query(ctx, params)
        if isinstance(query, Response):
            return query
        fields = _field_list(params.get("fields")) or {"*navigable"}
        start = max(0, _int(params.get("startAt"), 0))
        size = min(max(1, _int(params.get("maxResults"), 50)), 1000)
        states = self._matching(ctx, query)
        expand = _field_list(params.get("expand"))
        issues = [
            self._issue(ctx, s, fields, "changelog" in expand, truncate=False) for s in states[start : start + size]
        ]
        return Response.json(
            200,
            {"expand": "schema,names", "startAt": start, "maxResults": size, "total": len(states), "issues": issues},
        )

    # -- changelogs -------------------------------------------------------------------------------------
    def bulkfetch(self, ctx: ApiContext) -> Response:
        if (denied := self._guard(ctx, "3")) is not None:
            return denied
        params = self._params(ctx)
        ids = params.get("issueIdsOrKeys")
        if params.get("__invalid__") or not isinstance(ids, list) or not ids:
            return self.error(ctx, 400, "issueIdsOrKeys must be a non-empty list.")
        if len(ids) > BULKFETCH_LIMIT:
            return self.error(
                ctx,
                400,
                f"You may only load changelogs for a maximum of 1,000 issues. You requested {len(ids)} issues.",
            )
        field_ids = params.get("fieldIds") or []
        if not isinstance(field_ids, list) or len(field_ids) > 10:
            return self.error(ctx, 400, "fieldIds must be a list of at most 10 field ids.")
        size = min(max(1, _int(params.get("maxResults"), 1000)), 10000)
        site = jira_site(ctx)
        now = ctx.company.now
        key = hashlib.sha256(json.dumps([ids, field_ids]).encode()).hexdigest()[:12]
        offset = 0
        if params.get("nextPageToken"):
            decoded = _decode_token(str(params["nextPageToken"]))
            if decoded is None or decoded.get("q") != key:
                return self.error(ctx, 400, "The provided next page token is invalid or expired.")
            offset = int(decoded["o"])
        entries: list[tuple[datetime, int, History]] = []
        for raw in dict.fromkeys(str(i) for i in ids):
            issue = site.find(raw, now)
            if issue is None:
                continue
            for history in issue.histories_at(now):
                entries.append((history.at, issue.id, history))
        entries.sort(key=lambda e: (e[0], e[1], e[2].id))
        wanted = set(field_ids)
        rendered: list[tuple[int, dict[str, Any]]] = []
        for _, issue_id, history in entries:
            item = self._history(ctx, history, wanted or None)
            if item is not None:
                rendered.append((issue_id, item))
        chunk = rendered[offset : offset + size]
        groups: list[dict[str, Any]] = []
        for issue_id, item in chunk:
            if groups and groups[-1]["issueId"] == str(issue_id):
                groups[-1]["changeHistories"].append(item)
            else:
                groups.append({"issueId": str(issue_id), "changeHistories": [item]})
        body: dict[str, Any] = {"issueChangeLogs": groups}
        if offset + size < len(rendered):
            body["nextPageToken"] = _encode_token({"o": offset + size, "q": key})
        return Response.json(200, body)

    def issue_changelog(self, ctx: ApiContext, version: str, key: str) -> Response:
        if (denied := self._guard(ctx, version)) is not None:
            return denied
        issue = jira_site(ctx).find(key, ctx.company.now)
        if issue is None:
            return self.error(ctx, 404, "Issue does not exist or you do not have permission to see it.")
        values = [self._history(ctx, h, None) for h in issue.histories_at(ctx.company.now)]
        start = _int(ctx.request.arg("startAt"), 0)
        size = min(max(1, _int(ctx.request.arg("maxResults"), 100)), 100)
        return Response.json(
            200,
            {
                "self": ctx.url(ctx.request.path),
                "maxResults": size,
                "startAt": start,
                "total": len(values),
                "isLast": start + size >= len(values),
                "values": values[start : start + size],
            },
        )

    # -- rendering --------------------------------------------------------------------------------------
    def _user(self, ctx: ApiContext, login: str) -> dict[str, Any]:
        user = jira_site(ctx).users[login]
        return {
            "accountId": user["accountId"],
            "displayName": user["displayName"],
            "timeZone": user["timeZone"],
            "active": True,
            "accountType": "atlassian",
        }

    def _field_id(self, ctx: ApiContext, internal: str) -> str:
        settings = jira_site(ctx).settings
        return {"sprint": settings.sprint_field, "story_points": settings.story_points_field}.get(internal, internal)

    def _history(self, ctx: ApiContext, history: History, wanted: set[str] | None) -> dict[str, Any] | None:
        items = []
        for item in history.items:
            field_id = self._field_id(ctx, item.field_id)
            if wanted is not None and field_id not in wanted:
                continue
            items.append(
                {
                    "field": item.field,
                    "fieldtype": "custom" if field_id.startswith("customfield_") else "jira",
                    "fieldId": field_id,
                    "from": item.from_value,
                    "fromString": item.from_string,
                    "to": item.to_value,
                    "toString": item.to_string,
                }
            )
        if not items:
            return None
        return {
            "id": str(history.id),
            "author": self._user(ctx, history.author),
            "created": self._ts(ctx, history.at),
            "items": items,
        }

    def _issue(
        self, ctx: ApiContext, state: IssueState, fields: set[str], changelog: bool, *, truncate: bool
    ) -> dict[str, Any]:
        issue = state.issue
        out: dict[str, Any] = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": str(issue.id),
            "self": ctx.url(f"/rest/api/3/issue/{issue.id}"),
            "key": issue.key,
        }
        wanted = fields - ID_FIELDS
        if wanted:
            everything = self._fields(ctx, state)
            if "*all" in wanted or "*navigable" in wanted:
                out["fields"] = everything
            else:
                out["fields"] = {k: v for k, v in everything.items() if k in wanted}
        if changelog:
            histories = [h for h in (self._history(ctx, x, None) for x in state.histories) if h is not None]
            limit = jira_site(ctx).settings.embedded_changelog_limit if truncate else len(histories)
            shown = histories[:limit]
            out["changelog"] = {"startAt": 0, "maxResults": len(shown), "total": len(histories), "histories": shown}
        return out

    def _fields(self, ctx: ApiContext, state: IssueState) -> dict[str, Any]:
        site = jira_site(ctx)
        issue = state.issue
        type_id, level = ISSUE_TYPES[issue.issue_type]
        project = next(p for p in site.projects if p["key"] == issue.project_key)
        parent: dict[str, Any] | None = None
        if issue.parent_id is not None:
            epic = site.issue(issue.parent_id)
            parent = {
                "id": str(epic.id),
                "key": epic.key,
                "fields": {"summary": epic.summary, "issuetype": {"id": ISSUE_TYPES["Epic"][0], "name": "Epic"}},
            }
        sprints = []
        for sprint_id in state.sprint_ids:
            sprint = site.sprint(sprint_id)
            if sprint is None:
                continue
            sprints.append(
                {
                    "id": sprint.id,
                    "name": sprint.name,
                    "state": sprint.state(state.at),
                    "boardId": sprint.board_id,
                    "goal": sprint.goal,
                    "startDate": _iso(sprint.start),
                    "endDate": _iso(sprint.end),
                }
            )
        done = state.status == "10003"
        fields: dict[str, Any] = {
            "summary": issue.summary,
            "status": self._status(ctx, state.status),
            "issuetype": {"id": type_id, "name": issue.issue_type, "subtask": False, "hierarchyLevel": level},
            "priority": {"id": state.priority, "name": PRIORITIES[state.priority]},
            "created": self._ts(ctx, issue.created_at),
            "updated": self._ts(ctx, state.updated),
            "resolutiondate": self._ts(ctx, state.resolution_date),
            "resolution": {"id": "10000", "name": "Done"} if done else None,
            "labels": list(state.labels),
            "components": [],
            "project": {"id": str(project["id"]), "key": project["key"], "name": project["name"]},
            "assignee": self._user(ctx, issue.assignee),
            "reporter": self._user(ctx, issue.reporter),
            site.settings.story_points_field: state.story_points,
            site.settings.sprint_field: sprints or None,
        }
        if parent is not None:
            fields["parent"] = parent
        return fields


def _sort_key(state: IssueState, name: str) -> Any:
    if name == "updated":
        return (state.updated, state.issue.id)
    if name == "key":
        project, _, number = state.issue.key.partition("-")
        return (project, int(number))
    if name == "id":
        return state.issue.id
    return (state.issue.created_at, state.issue.id)


def _field_list(raw: Any) -> set[str]:
    if raw is None or raw == "":
        return set()
    if isinstance(raw, list):
        return {str(x).strip() for x in raw if str(x).strip()}
    return {x.strip() for x in str(raw).split(",") if x.strip()}


def _int(raw: Any, default: int) -> int:
    try:
        return int(raw) if raw is not None and raw != "" else default
    except (TypeError, ValueError):
        return default


def _encode_token(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_token(token: str) -> dict[str, Any] | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        return None
    return data if isinstance(data, dict) and "o" in data else None


def _iso(value: datetime) -> str:
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


__all__ = ["JiraApi", "JiraIssue", "jira_site"]
