"""The metric catalogue as the engine sees it: which way is better, how much data is enough, what change matters.

The source of truth is the dbt seed ``dbt_project/seeds/metric_definitions.csv``, surfaced as the mart
``marts.metric_catalog``; the engine reads the mart (what dbt built and tested), the Dagster asset description
reads the seed file (no database at definition time).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

Direction = Literal["up", "down"]
ThresholdType = Literal["relative", "absolute"]
SCOPE_TYPES = ("org", "team", "service", "cost_category")

CATALOG_COLUMNS = (
    "metric",
    "description",
    "why_it_exists",
    "owner",
    "better_direction",
    "unit",
    "min_sample_size",
    "practical_threshold",
    "threshold_type",
    "alert_scopes",
    "review_cadence",
    "active",
)


@dataclass(frozen=True)
class MetricDefinition:
    """One row of the catalogue (see seeds/_alert_seeds.yml for what each field means)."""

    metric: str
    description: str
    why_it_exists: str
    owner: str
    better_direction: Direction
    unit: str
    min_sample_size: int
    practical_threshold: float
    threshold_type: ThresholdType
    alert_scopes: tuple[str, ...]
    review_cadence: str
    active: bool

    @property
    def is_share(self) -> bool:
        """A share of its sample (unit ``ratio``: value x sample_size events out of sample_size, e.g. failed
        deployments out of deployments): its window level is the pooled share and its level test is on counts."""
        return self.unit == "ratio"

    @property
    def worse_direction(self) -> Direction:
        return "down" if self.better_direction == "up" else "up"

    def change(self, baseline: float, value: float) -> float:
        """The change from ``baseline`` to ``value`` in this metric's threshold unit (relative or absolute)."""
        if self.threshold_type == "absolute":
            return value - baseline
        if baseline == 0:  # from nothing to something is an unbounded relative change
            return 0.0 if value == 0 else math.copysign(math.inf, value)
        return (value - baseline) / abs(baseline)


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "y", "t")


def definition_from_row(row: dict[str, object]) -> MetricDefinition:
    """A catalogue row (from the mart or the CSV) as a MetricDefinition; scopes are ``|``-separated."""
    scopes = tuple(s.strip() for s in str(row.get("alert_scopes") or "").split("|") if s.strip())
    unknown = [s for s in scopes if s not in SCOPE_TYPES]
    if unknown:
        raise ValueError(f"metric catalog: {row['metric']}: unknown alert scope(s) {unknown}; use {SCOPE_TYPES}")
    direction = str(row["better_direction"]).strip()
    threshold_type = str(row["threshold_type"]).strip()
    if direction not in ("up", "down") or threshold_type not in ("relative", "absolute"):
        raise ValueError(
            f"metric catalog: {row['metric']}: better_direction must be up/down and threshold_type relative/absolute"
        )
    return MetricDefinition(
        metric=str(row["metric"]).strip(),
        description=str(row.get("description") or ""),
        why_it_exists=str(row.get("why_it_exists") or ""),
        owner=str(row.get("owner") or ""),
        better_direction=direction,  # type: ignore[arg-type]
        unit=str(row.get("unit") or ""),
        min_sample_size=int(row["min_sample_size"]),  # type: ignore[arg-type]
        practical_threshold=float(row["practical_threshold"]),  # type: ignore[arg-type]
        threshold_type=threshold_type,  # type: ignore[arg-type]
        alert_scopes=scopes,
        review_cadence=str(row.get("review_cadence") or ""),
        active=_bool(row["active"]),
    )


def load_catalog_csv(path: Path) -> dict[str, MetricDefinition]:
    """The seed file read directly (for descriptions at definition time and for tests)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {d.metric: d for d in (definition_from_row(row) for row in csv.DictReader(handle))}


def load_catalog(con: duckdb.DuckDBPyConnection, relation: str = "marts.metric_catalog") -> dict[str, MetricDefinition]:
    """Every metric of the catalogue mart, active or not."""
    cursor = con.execute(f"select {', '.join(CATALOG_COLUMNS)} from {relation}")
    names = [d[0] for d in cursor.description]
    return {d.metric: d for d in (definition_from_row(dict(zip(names, row, strict=True))) for row in cursor.fetchall())}


def active_metrics(catalog: dict[str, MetricDefinition]) -> list[MetricDefinition]:
    return [d for d in catalog.values() if d.active]


def cap_warning(catalog: dict[str, MetricDefinition], cap: int) -> str | None:
    """The warning to show when more metrics are active than ``cap`` (frugality: introduce one or two at a
    time, so each alert is read), or None."""
    active = sorted(d.metric for d in active_metrics(catalog))
    if len(active) <= cap:
        return None
    return (
        f"{len(active)} metrics are active in the metric catalog but alerts.max_active_metrics is {cap}: "
        f"deactivate some (active = false in dbt_project/seeds/metric_definitions.csv) or raise the cap. "
        f"Active: {', '.join(active)}"
    )


def describe_for_humans(definitions: Iterable[MetricDefinition]) -> str:
    """Markdown list of the active metrics and why each exists (Dagster asset description)."""
    lines = []
    for d in sorted(definitions, key=lambda d: d.metric):
        if d.active:
            better = "higher" if d.better_direction == "up" else "lower"
            lines.append(f"- `{d.metric}` ({d.unit}, {better} is better, owner {d.owner}): {d.why_it_exists}")
    return "\n".join(lines)


def scopes_to_evaluate(definition: MetricDefinition, available: Sequence[str]) -> list[str]:
    """The scope types this metric alerts on (its ``alert_scopes``; all available ones when left empty)."""
    return [s for s in available if not definition.alert_scopes or s in definition.alert_scopes]
