"""Page-number pagination with RFC 8288 ``Link`` headers, as GitHub and GitLab serve it.

Sources with token pagination (Jira ``nextPageToken``, CircleCI) will add their own helpers here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from simulation.httpkit import ApiContext

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int
    per_page: int

    @classmethod
    def from_context(cls, ctx: ApiContext, default_per_page: int = 30, max_per_page: int = 100) -> PageRequest:
        """Lenient like GitHub: junk or < 1 falls back to defaults; per_page is silently clamped."""
        per_page = _positive_int(ctx.request.arg("per_page"), default_per_page)
        page = _positive_int(ctx.request.arg("page"), 1)
        return cls(page=page, per_page=min(per_page, max_per_page))

    def last_page(self, total: int) -> int:
        return max(1, -(-total // self.per_page))

    def slice(self, items: Sequence[T]) -> Sequence[T]:
        start = (self.page - 1) * self.per_page
        return items[start : start + self.per_page]


def link_header(ctx: ApiContext, page: PageRequest, total: int) -> str | None:
    """GitHub's Link header: prev, next, last, first as applicable; None when one page holds all."""
    last = page.last_page(total)
    if last == 1 and page.page == 1:
        return None
    rels: list[tuple[str, int]] = []
    if page.page > 1:
        rels.append(("prev", page.page - 1))
    if page.page < last:
        rels.append(("next", page.page + 1))
        rels.append(("last", last))
    if page.page > 1:
        rels.append(("first", 1))
    return ", ".join(
        f'<{ctx.url(ctx.request.path, with_param(ctx.request.query, "page", str(n)))}>; rel="{rel}"' for rel, n in rels
    )


def with_param(query: Sequence[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    """``query`` with ``name`` set to ``value``: replaced in place (first occurrence), else appended."""
    out: list[tuple[str, str]] = []
    replaced = False
    for key, item in query:
        if key != name:
            out.append((key, item))
        elif not replaced:
            out.append((key, value))
            replaced = True
    if not replaced:
        out.append((name, value))
    return out


def _positive_int(raw: str | None, default: int) -> int:
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return value if value >= 1 else default
