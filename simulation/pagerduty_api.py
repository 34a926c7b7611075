"""Fake PagerDuty REST API v2 mounted at ``/pagerduty`` (source-apis.md §4.1, §7).

Renders the delivery model's incidents (``company.delivery.incidents()``): one PagerDuty service per
delivery service (id derived from its name), one team per company team. Behaviour:

- ``GET /incidents``: ``since``/``until`` filter on *created* time (range at most 6 months, else 400);
  with neither, only the last month is listed unless ``date_range=all``; ``statuses[]``,
  ``service_ids[]``, ``sort_by`` (created_at / incident_number, asc|desc), ``limit`` (<= 100),
  ``offset``, ``total=true``. Classic pagination body ``{incidents, limit, offset, more, total}``;
  **offset + limit > 10,000 -> 400 code 2002**.
- ``GET /incidents/{id}``, ``GET /incidents/{id}/log_entries`` (trigger / acknowledge / resolve entries,
  as they happened up to the clock), ``GET /services``, ``GET /teams`` (offset paging).
- Auth ``Authorization: Token token=<key>`` (or Bearer); 401 otherwise. Faults: ``rate_limit_429``
  (with Retry-After and ratelimit-reset), ``ratelimit_reset_429`` (ratelimit-reset only), 5xx...
- Knob ``add_bulk_incidents(service, count, start, end)``: cheap synthetic resolved incidents (for the
  10,000-offset cap).
"""

from __future__ import annotations

import bisect
import functools
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from simulation.delivery_model import Incident
from simulation.determinism import derive_seed
from simulation.faults import Fault
from simulation.httpkit import ApiContext, Request, Response, SourceApi
from simulation.timefmt import iso_z

MAX_RANGE = timedelta(days=183)  # "6 months"
DEFAULT_WINDOW = timedelta(days=30)  # "≈ last month" when neither since nor until is given
OFFSET_CAP = 10_000
MAX_LIMIT = 100
DEFAULT_LIMIT = 25
STATUSES = frozenset({"triggered", "acknowledged", "resolved"})
SORTS = frozenset({"created_at", "incident_number"})
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@functools.lru_cache(maxsize=65536)
def pd_id(*parts: object, prefix: str = "P") -> str:
    """A PagerDuty-looking id (``P`` + 6 upper-case alphanumerics), stable for ``parts``."""
    seed = derive_seed("pagerduty", *parts)
    chars = []
    for _ in range(6):
        seed, digit = divmod(seed, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return prefix + "".join(chars)


@dataclass(frozen=True, slots=True)
class _Bulk:
    """A synthetic incident: triggered, acknowledged after 5 minutes, resolved after 30."""

    id: int
    number: int
    service: str
    team_key: str
    started_at: datetime

    @property
    def acknowledged_at(self) -> datetime:
        return self.started_at + timedelta(minutes=5)

    @property
    def resolved_at(self) -> datetime:
        return self.started_at + timedelta(minutes=30)

    def status_at(self, now: datetime) -> str | None:
        if now < self.started_at:
            return None
        if now < self.acknowledged_at:
            return "triggered"
        return "acknowledged" if now < self.resolved_at else "resolved"


Item = Incident | _Bulk


class PagerDutyApi(SourceApi):
    name: ClassVar[str] = "pagerduty"
    fault_kinds: ClassVar[frozenset[str]] = SourceApi.fault_kinds | {"ratelimit_reset_429"}

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._bulk: list[_Bulk] = []
        self._index_key: tuple[object, ...] | None = None
        self._index: list[tuple[datetime, int, Item]] = []
        self._by_id: dict[str, Item] = {}
        self.route("GET", "/incidents", self.list_incidents)
        self.route("GET", r"/incidents/(?P<incident_id>[A-Z0-9]+)", self.get_incident)
        self.route("GET", r"/incidents/(?P<incident_id>[A-Z0-9]+)/log_entries", self.log_entries)
        self.route("GET", "/services", self.list_services)
        self.route("GET", "/teams", self.list_teams)

    # -- knob ---------------------------------------------------------------------------------------
    def add_bulk_incidents(self, service: str, team_key: str, count: int, start: datetime, end: datetime) -> None:
        """``count`` synthetic incidents of ``service`` created evenly over [start, end)."""
        with self._lock:
            base = 900_000_000 + len(self._bulk)
            step = (end - start) / count
            self._bulk.extend(
                _Bulk(base + k, 500_000 + len(self._bulk) + k, service, team_key, start + step * k)
                for k in range(count)
            )
            self._index_key = None

    # -- auth, errors, faults ---------------------------------------------------------------------
    def token(self, request: Request) -> str | None:
        header = (request.header("Authorization") or "").strip()
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() == "token" and value.startswith("token=") and len(value) > len("token="):
            return value[len("token=") :]
        if scheme.lower() == "bearer" and value:
            return value
        return None

    def error(self, ctx: ApiContext, status: int, message: str, **extra: Any) -> Response:
        code = extra.pop("code", {401: 2006, 404: 2100, 429: 2020}.get(status, 2001))
        return Response.json(status, {"error": {"message": message, "code": code, **extra}})

    def unauthorized(self, ctx: ApiContext) -> Response:
        return self.error(ctx, 401, "Unauthorized", code=2006)

    def fault_response(self, ctx: ApiContext, fault: Fault) -> Response | None:
        if fault.kind in {"rate_limit_429", "ratelimit_reset_429"}:
            response = self.error(ctx, 429, "Rate Limit Exceeded", code=2020)
            wait = str(fault.options.get("retry_after", 1))
            response.headers["ratelimit-limit"] = "960"
            response.headers["ratelimit-remaining"] = "0"
            response.headers["ratelimit-reset"] = wait
            if fault.kind == "rate_limit_429":
                response.headers["Retry-After"] = wait
            return response
        return super().fault_response(ctx, fault)

    def _bad(self, ctx: ApiContext, *errors: str) -> Response:
        return self.error(ctx, 400, "Invalid Input Provided", code=2001, errors=list(errors))

    # -- model views ------------------------------------------------------------------------------
    def _items(self, ctx: ApiContext) -> list[tuple[datetime, int, Item]]:
        """Every incident visible at the clock, ascending by (created, number); cached per clock."""
        company = ctx.company
        key = (company.now, len(self._bulk))
        with self._lock:
            if self._index_key == key:
                return self._index
            now = company.now
            items: list[tuple[datetime, int, Item]] = [
                (i.started_at, i.number, i) for i in company.delivery.incidents() if i.started_at <= now
            ]
            items += [(b.started_at, b.number, b) for b in self._bulk if b.started_at <= now]
            items.sort(key=lambda t: (t[0], t[1]))
            self._index_key, self._index = key, items
            self._by_id = {self._incident_id(t[2]): t[2] for t in items}
            return items

    def _services(self, ctx: ApiContext) -> list[dict[str, Any]]:
        out = []
        for s in ctx.company.delivery.services():
            out.append(
                {
                    "id": pd_id("service", s.name),
                    "type": "service",
                    "name": s.name,
                    "summary": s.name,
                    "description": f"{s.name} ({s.repo})",
                    "status": "active",
                    "created_at": iso_z(ctx.company.history_start - timedelta(days=400)),
                    "self": ctx.url(f"/services/{pd_id('service', s.name)}"),
                    "html_url": f"https://acme.pagerduty.com/service-directory/{pd_id('service', s.name)}",
                    "teams": [self._team_ref(ctx, s.team_key)],
                    "escalation_policy": {"id": pd_id("ep", s.team_key), "type": "escalation_policy_reference"},
                }
            )
        return out

    def _team_ref(self, ctx: ApiContext, team_key: str) -> dict[str, Any]:
        team = ctx.company.team(team_key)
        return {
            "id": pd_id("team", team_key),
            "type": "team_reference",
            "summary": team.name if team else team_key,
            "self": ctx.url(f"/teams/{pd_id('team', team_key)}"),
        }

    def _incident_id(self, item: Item) -> str:
        return pd_id("incident", item.id, prefix="Q")

    def _render(self, ctx: ApiContext, item: Item) -> dict[str, Any]:
        now = ctx.company.now
        status = item.status_at(now)
        assert status is not None
        changed = {"triggered": item.started_at, "acknowledged": item.acknowledged_at}.get(status, item.resolved_at)
        incident_id = self._incident_id(item)
        service_id = pd_id("service", item.service)
        if isinstance(item, Incident):
            title, urgency, severity, key = item.title, item.urgency, item.severity, item.fingerprint
            details = f"root cause: {item.root_cause_sha}" if item.root_cause_sha else None
        else:
            title, urgency, severity, key, details = f"Synthetic alert #{item.number}", "low", "SEV3", None, None
        payload: dict[str, Any] = {
            "id": incident_id,
            "type": "incident",
            "summary": f"[#{item.number}] {title}",
            "self": ctx.url(f"/incidents/{incident_id}"),
            "html_url": f"https://acme.pagerduty.com/incidents/{incident_id}",
            "incident_number": item.number,
            "title": title,
            "description": title,
            "status": status,
            "urgency": urgency,
            "created_at": iso_z(item.started_at),
            "updated_at": iso_z(changed),
            "last_status_change_at": iso_z(changed),
            "resolved_at": iso_z(item.resolved_at) if status == "resolved" else None,
            "incident_key": f"{key or 'alert'}-{item.number}",
            "service": {
                "id": service_id,
                "type": "service_reference",
                "summary": item.service,
                "self": ctx.url(f"/services/{service_id}"),
            },
            "teams": [self._team_ref(ctx, item.team_key)],
            "priority": {"id": pd_id("priority", severity), "type": "priority", "summary": severity, "name": severity},
            "acknowledgements": (
                [{"at": iso_z(item.acknowledged_at), "acknowledger": {"type": "user_reference", "summary": "on-call"}}]
                if status == "acknowledged"
                else []
            ),
            "assignments": (
                [{"at": iso_z(item.started_at), "assignee": {"type": "user_reference", "summary": "on-call"}}]
                if status != "resolved"
                else []
            ),
        }
        if details:
            payload["body"] = {"type": "incident_body", "details": details}
        return payload

    def _find(self, ctx: ApiContext, incident_id: str) -> Item | None:
        self._items(ctx)
        with self._lock:
            return self._by_id.get(incident_id)

    # -- paging -------------------------------------------------------------------------------------
    def _paging(self, ctx: ApiContext) -> tuple[int, int] | Response:
        request = ctx.request
        try:
            limit = int(request.arg("limit") or DEFAULT_LIMIT)
            offset = int(request.arg("offset") or 0)
        except ValueError:
            return self._bad(ctx, "limit and offset must be integers.")
        if limit < 1 or offset < 0:
            return self._bad(ctx, "limit must be positive and offset non-negative.")
        limit = min(limit, MAX_LIMIT)
        if offset + limit > OFFSET_CAP:
            return self.error(
                ctx,
                400,
                "Arguments Caused Error",
                code=2002,
                errors=[f"Offset+limit exceeds maximum allowed value of {OFFSET_CAP}."],
            )
        return offset, limit

    def _page(self, ctx: ApiContext, key: str, items: list[Any], offset: int, limit: int) -> Response:
        chunk = items[offset : offset + limit]
        total = len(items) if ctx.request.arg("total") == "true" else None
        body = {key: chunk, "limit": limit, "offset": offset, "more": offset + limit < len(items), "total": total}
        return Response.json(200, body)

    # -- routes -------------------------------------------------------------------------------------
    def list_incidents(self, ctx: ApiContext) -> Response:
        request = ctx.request
        paging = self._paging(ctx)
        if isinstance(paging, Response):
            return paging
        offset, limit = paging
        now = ctx.company.now
        try:
            since = _parse(request.arg("since"))
            until = _parse(request.arg("until"))
        except ValueError as exc:
            return self._bad(ctx, f"since/until must be ISO 8601 date-times: {exc}")
        if request.arg("date_range") == "all":
            since = until = None
            lo, hi = None, None
        else:
            if since is None and until is None:
                since = now - DEFAULT_WINDOW
            lo, hi = since, until if until is not None else now
            if lo is not None and hi is not None:
                if hi < lo:
                    return self._bad(ctx, "until must be after since.")
                if hi - lo > MAX_RANGE:
                    return self._bad(ctx, "The time range between since and until must not exceed 6 months.")
        statuses = {v for k, v in request.query if k in ("statuses[]", "statuses")}
        if statuses - STATUSES:
            return self._bad(ctx, f"statuses must be one of {sorted(STATUSES)}.")
        services = {v for k, v in request.query if k in ("service_ids[]", "service_ids")}
        sort = request.arg("sort_by") or "created_at:asc"
        field, _, direction = sort.partition(":")
        if field not in SORTS or (direction or "asc") not in ("asc", "desc"):
            return self._bad(ctx, f"sort_by {sort!r} is not supported.")

        items = self._items(ctx)
        keys = [t[0] for t in items]
        start = 0 if lo is None else bisect.bisect_left(keys, lo)
        end = len(items) if hi is None else bisect.bisect_left(keys, hi)
        selected = [t[2] for t in items[start:end]]
        if services:
            selected = [i for i in selected if pd_id("service", i.service) in services]
        if statuses:
            selected = [i for i in selected if i.status_at(now) in statuses]
        if field == "incident_number":
            selected.sort(key=lambda i: i.number)
        if direction == "desc":
            selected.reverse()
        chunk = [self._render(ctx, i) for i in selected[offset : offset + limit]]
        total = len(selected) if request.arg("total") == "true" else None
        more = offset + limit < len(selected)
        return Response.json(200, {"incidents": chunk, "limit": limit, "offset": offset, "more": more, "total": total})

    def get_incident(self, ctx: ApiContext, incident_id: str) -> Response:
        item = self._find(ctx, incident_id)
        if item is None:
            return self.error(ctx, 404, "Incident Not Found", code=2100)
        return Response.json(200, {"incident": self._render(ctx, item)})

    def log_entries(self, ctx: ApiContext, incident_id: str) -> Response:
        item = self._find(ctx, incident_id)
        if item is None:
            return self.error(ctx, 404, "Incident Not Found", code=2100)
        paging = self._paging(ctx)
        if isinstance(paging, Response):
            return paging
        now = ctx.company.now
        ref = {"id": incident_id, "type": "incident_reference", "self": ctx.url(f"/incidents/{incident_id}")}
        steps = [
            ("trigger_log_entry", item.started_at, "Triggered through the API", {"type": "api"}),
            ("acknowledge_log_entry", item.acknowledged_at, "Acknowledged by on-call", {"type": "web_ui"}),
            ("resolve_log_entry", item.resolved_at, "Resolved by on-call", {"type": "web_ui"}),
        ]
        entries = [
            {
                "id": pd_id("log", item.id, kind, prefix="R"),
                "type": kind,
                "summary": summary,
                "created_at": iso_z(at),
                "incident": ref,
                "channel": channel,
                "agent": {"type": "user_reference", "summary": "on-call"} if kind != "trigger_log_entry" else None,
            }
            for kind, at, summary, channel in steps
            if at <= now
        ]
        entries.reverse()  # newest first, like PagerDuty's default
        offset, limit = paging
        return self._page(ctx, "log_entries", entries, offset, limit)

    def list_services(self, ctx: ApiContext) -> Response:
        paging = self._paging(ctx)
        if isinstance(paging, Response):
            return paging
        return self._page(ctx, "services", self._services(ctx), *paging)

    def list_teams(self, ctx: ApiContext) -> Response:
        paging = self._paging(ctx)
        if isinstance(paging, Response):
            return paging
        teams = [
            {
                "id": pd_id("team", t.key),
                "type": "team",
                "name": t.name,
                "summary": t.name,
                "description": f"{t.name} ({t.business_category})",
                "self": ctx.url(f"/teams/{pd_id('team', t.key)}"),
            }
            for t in ctx.company.teams
        ]
        return self._page(ctx, "teams", teams, *paging)


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
