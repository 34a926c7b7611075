"""The small JQL subset the fake Jira understands, evaluated the way Jira Cloud does.

Grammar: ``clause (AND clause)* [ORDER BY field [ASC|DESC] (, field [ASC|DESC])*]`` where a clause is
``project = KEY``, ``project in (A, B)``, or ``updated|created <op> literal`` with op one of ``>= <= > < =``.
Literals: epoch milliseconds (``1732877091000``, exact) or quoted ``"yyyy-MM-dd HH:mm"`` /
``"yyyy/MM/dd HH:mm"`` / ``"yyyy-MM-dd"`` strings, read **in the searching user's profile timezone** at minute
granularity — the trap that makes clients that format a UTC cursor skip or re-read hours of data.
Anything else is a ``JqlError``, which the API answers with 400 ``{"errorMessages": [...]}`` like Jira.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

_TOKEN = re.compile(r'\s*(?:(?P<str>"[^"]*"|\'[^\']*\')|(?P<op>>=|<=|!=|=|>|<|\(|\)|,)|(?P<word>[A-Za-z0-9_\-./:]+))')
_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
ORDER_FIELDS = frozenset({"created", "updated", "key", "id"})


class JqlError(ValueError):
    """The query is not valid JQL for this fake (message worded like Jira's)."""


@dataclass(frozen=True)
class Query:
    projects: frozenset[str] | None
    conditions: tuple[tuple[str, str, datetime], ...]  # (field, op, instant UTC)
    order: tuple[tuple[str, bool], ...] = field(default=(("created", False),))  # (field, descending)
    ids: frozenset[str] | None = None  # `id in (...)` / `key in (...)`: ids and keys, upper-cased

    @property
    def bounded(self) -> bool:
        return self.projects is not None or bool(self.conditions) or self.ids is not None

    def matches(self, project_key: str, values: dict[str, datetime], issue_id: str = "", key: str = "") -> bool:
        if self.projects is not None and project_key not in self.projects:
            return False
        if self.ids is not None and issue_id not in self.ids and key.upper() not in self.ids:
            return False
        for name, op, instant in self.conditions:
            value = values[name]
            if not _OPS[op](value, instant):
                return False
        return True


_OPS: dict[str, Callable[[datetime, datetime], bool]] = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "=": lambda a, b: a == b,
}


def parse(jql: str, user_timezone: str) -> Query:
    tokens = _tokenize(jql)
    zone = ZoneInfo(user_timezone)
    projects: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    conditions: list[tuple[str, str, datetime]] = []
    order: list[tuple[str, bool]] = []
    pos = 0

    def peek(offset: int = 0) -> str | None:
        return tokens[pos + offset] if pos + offset < len(tokens) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise JqlError("Error in the JQL Query: Expecting more input at the end of the query.")
        pos += 1
        return tokens[pos - 1]

    while pos < len(tokens) and (peek() or "").upper() != "ORDER":
        name = take().lower()
        if name in ("project", "id", "key", "issue", "issuekey"):
            op = take().lower()
            if op == "=":
                wanted = {_unquote(take()).upper()}
            elif op == "in":
                if take() != "(":
                    raise JqlError("Error in the JQL Query: Expecting '(' after 'in'.")
                wanted = set()
                while True:
                    wanted.add(_unquote(take()).upper())
                    sep = take()
                    if sep == ")":
                        break
                    if sep != ",":
                        raise JqlError(f"Error in the JQL Query: Expecting ',' or ')' but got '{sep}'.")
            else:
                raise JqlError(f"Error in the JQL Query: The operator '{op}' is not supported by the '{name}' field.")
            if name == "project":
                projects = frozenset(wanted) if projects is None else projects & wanted
            else:
                ids = frozenset(wanted) if ids is None else ids & wanted
        elif name in ("updated", "created", "updateddate", "createddate"):
            op = take()
            if op not in _OPS:
                raise JqlError(f"Error in the JQL Query: The operator '{op}' is not supported by the '{name}' field.")
            conditions.append((name.removesuffix("date"), op, _instant(take(), zone, name)))
        else:
            raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")
        if pos < len(tokens) and (peek() or "").upper() == "AND":
            take()
            if peek() is None or (peek() or "").upper() == "ORDER":
                raise JqlError("Error in the JQL Query: Expecting a field name after 'AND'.")
        elif pos < len(tokens) and (peek() or "").upper() != "ORDER":
            raise JqlError(f"Error in the JQL Query: Expecting 'AND' or 'ORDER BY' but got '{peek()}'.")
    if pos < len(tokens):
        take()
        if take().upper() != "BY":
            raise JqlError("Error in the JQL Query: Expecting 'BY' after 'ORDER'.")
        while True:
            name = take().lower()
            if name not in ORDER_FIELDS:
                raise JqlError(f"Not able to sort using field '{name}'.")
            descending = False
            if (peek() or "").upper() in ("ASC", "DESC"):
                descending = take().upper() == "DESC"
            order.append((name, descending))
            if peek() is None:
                break
            if take() != ",":
                raise JqlError("Error in the JQL Query: Expecting ',' between ORDER BY fields.")
        if len(order) > 7:
            raise JqlError("The ORDER BY clause may contain at most 7 fields.")
    query = Query(projects, tuple(conditions), tuple(order) or (("created", False),), ids)
    if not query.bounded:
        raise JqlError("Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
    return query


def _tokenize(jql: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = jql.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise JqlError(f"Error in the JQL Query: The character '{text[pos]}' is a reserved JQL character.")
        tokens.append(match.group("str") or match.group("op") or match.group("word"))
        pos = match.end()
    return [t for t in tokens if t.strip()]


def _unquote(token: str) -> str:
    return token[1:-1] if token[:1] in "\"'" and token[-1:] == token[:1] else token


def _instant(token: str, zone: ZoneInfo, name: str) -> datetime:
    raw = _unquote(token)
    if raw.isdigit():
        return datetime.fromtimestamp(int(raw) / 1000, UTC)
    for fmt in _DATE_FORMATS:
        try:
            naive = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        return naive.replace(tzinfo=zone).astimezone(UTC)
    raise JqlError(
        f"Date value '{raw}' for field '{name}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', "
        "'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
    )
