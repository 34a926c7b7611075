"""Trend detection on weekly metric series: is the recent level different from the trailing baseline, in a
direction and by an amount that matter?

For each metric x scope, at the latest week (``as_of``):

- **recent window**: the last ``recent_weeks`` weeks; **baseline**: the ``baseline_weeks`` weeks before it.
  A week without a row (or with a null value) is a missing point, not a zero; a count that was zero is a row
  with value 0. Too few points or too small a sample (the catalogue's ``min_sample_size`` against
  ``sample_size`` summed over each window) → *insufficient*, nothing is said.
- **level shift**: recent median vs baseline median (robust to a holiday week or one three-day incident),
  tested with a one-sided Mann-Whitney rank test (exact for small windows). A *share* (catalogue unit
  ``ratio``: failed deployments out of deployments, flaky runs out of runs) is instead measured as the pooled
  share of each window (events / trials summed over its weeks) and tested on those counts (``share_test``:
  Fisher's exact test, widened when the baseline's weeks scatter more than independent trials would): a week
  of 2 deployments says less than a week of 30, and weekly medians of small shares are mostly 0.
- **trend**: a Mann-Kendall test over the last ``trend_weeks`` weeks (monotonic drift, no shape assumed; it
  also copes with sparse series such as incidents, where a weekly window is often empty), with the Theil-Sen
  slope as evidence; the change is measured from the level where the window starts (median of its first
  quarter) to the recent median, and the recent median
  must also have left the trailing baseline by part of the threshold, so an old trend that has reverted is not
  reported. For a share, the ranks of weekly shares ignore how many trials each week had, so the recent counts
  must also differ from the counts of the window's first quarter (the share test, at the trend's significance).
- **confirmation**: a change must be found at ``confirm_weeks`` consecutive weekly evaluations, so a single
  odd week (or a holiday) does not open an alert.
- **practical significance**: a statistically clear change smaller than the catalogue's ``practical_threshold``
  (relative or absolute, per metric) is not worth anyone's attention and is not reported.
- **direction**: a change in the metric's better direction is an *improvement* (to celebrate), the other way a
  *regression*. **Paired rules** (config) fire when two metrics of one scope move in the given directions at a
  looser significance (e.g. deployment frequency up *while* change failure rate up: speed bought with stability);
  the pair then replaces its two single-metric findings, and takes in the improvements its rule names as part
  of the same story (lead time falls when a team deploys three times as often: not a separate celebration while
  stability pays for it); they stay visible in the pair's evidence.

Every finding carries its evidence: the values of both windows, medians, MAD, robust z, test, p-value and the
change in the threshold's unit.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from statistics import median
from typing import Any, Literal

from orchestration.alerting.catalog import Direction, MetricDefinition, ThresholdType
from orchestration.alerting.stats import (
    Line,
    RankTest,
    mann_kendall,
    mann_whitney,
    robust_sigma,
    share_test,
    theil_sen,
)

MIN_BASELINE_POINTS = 3  # below this there is no baseline median to compare with at all
Kind = Literal["regression", "improvement", "paired"]
SeriesKey = tuple[str, str, str]  # metric, scope_type, scope_key


@dataclass(frozen=True)
class Point:
    """One week of one metric x scope (a row of marts.metric_series)."""

    period_start: date
    value: float
    sample_size: int


@dataclass(frozen=True)
class DetectionSettings:
    """Window sizes and significance levels (techledger.yaml ``alerts:``)."""

    recent_weeks: int = 4
    baseline_weeks: int = 12
    min_recent_points: int = 2
    min_baseline_points: int = 8
    significance: float = 0.01  # one-sided p-value of the level-shift test
    trend_significance: float = 0.005  # one-sided p-value of the Mann-Kendall trend test
    trend_level_fraction: float = 0.5  # a trend also needs recent vs baseline ≥ this x threshold
    min_robust_z: float = 1.0  # level shift: |recent median - baseline median| ≥ this x baseline sigma (from MAD)
    confirm_weeks: int = 2  # the change must be found at this many consecutive weekly evaluations
    trend_weeks: int = 26  # weeks (ending at as_of) the Mann-Kendall / Theil-Sen trend is fitted on
    min_trend_points: int = 8  # weeks with data needed in the trend window


@dataclass(frozen=True)
class PairedRule:
    """Two metrics of the same scope moving in the given directions together (see config ``paired_rules``)."""

    name: str
    description: str
    first_metric: str
    first_direction: Direction
    second_metric: str
    second_direction: Direction
    significance: float = 0.10
    suppress_components: bool = True
    absorbed_improvements: tuple[str, ...] = ()  # improvements of these metrics are part of the pair's story

    @property
    def metric(self) -> str:
        return f"{self.first_metric}+{self.second_metric}"


@dataclass(frozen=True)
class Component:
    """One metric's part of a finding: enough to re-measure the change later against the same baseline."""

    metric: str
    direction: Direction  # the direction the finding is about
    baseline_value: float
    current_value: float
    threshold: float
    threshold_type: ThresholdType

    def signed_change(self, current: float) -> float:
        """Change from the baseline to ``current`` in the threshold unit, positive in ``direction``."""
        if self.threshold_type == "absolute":
            change = current - self.baseline_value
        elif self.baseline_value == 0:
            change = 0.0 if current == 0 else math.copysign(math.inf, current)
        else:
            change = (current - self.baseline_value) / abs(self.baseline_value)
        return change if self.direction == "up" else -change

    def strength(self, current: float | None = None) -> float:
        """Signed change in multiples of the practical threshold (1.0 = just matters)."""
        value = self.current_value if current is None else current
        return self.signed_change(value) / self.threshold if self.threshold > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "direction": self.direction,
            "baseline_value": finite(self.baseline_value),
            "current_value": finite(self.current_value),
            "threshold": self.threshold,
            "threshold_type": self.threshold_type,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Component:
        return Component(
            metric=data["metric"],
            direction=data["direction"],
            baseline_value=float(data["baseline_value"]),
            current_value=float(data["current_value"]),
            threshold=float(data["threshold"]),
            threshold_type=data["threshold_type"],
        )


@dataclass(frozen=True)
class Finding:
    """Something worth an alert: a regression, an improvement or a paired rule, with its evidence."""

    kind: Kind
    metric: str
    scope_type: str
    scope_key: str
    direction: Direction
    test: str  # level_shift | trend | paired
    p_value: float
    components: tuple[Component, ...]
    evidence: dict[str, Any]
    rule: str | None = None

    @property
    def strength(self) -> float:
        """The weakest component's change in multiples of its threshold (a pair is as strong as its weaker half)."""
        return min(c.strength() for c in self.components)


@dataclass
class Evaluation:
    """One metric x scope at ``as_of``: the statistics, whether or not anything was found."""

    definition: MetricDefinition
    scope_type: str
    scope_key: str
    as_of: date
    status: Literal["ok", "insufficient"]
    reason: str | None = None
    recent: list[Point] = field(default_factory=list)
    baseline: list[Point] = field(default_factory=list)
    recent_median: float | None = None  # the window's level: its median, or its pooled share (is_share)
    baseline_median: float | None = None
    baseline_mad_sigma: float | None = None
    robust_z: float | None = None
    level: RankTest | None = None
    trend: RankTest | None = None
    trend_line: Line | None = None
    trend_start: float | None = None  # the level where the trend window starts (median of its first quarter)
    trend_start_test: RankTest | None = None  # a share's recent counts against the trend window's first quarter
    previous: Evaluation | None = None  # the same series a week earlier, when findings need confirmation

    @property
    def key(self) -> SeriesKey:
        return (self.definition.metric, self.scope_type, self.scope_key)

    def change_in(
        self,
        direction: Direction,
        significance: float,
        trend_significance: float,
        trend_level_fraction: float,
        min_robust_z: float = 0.0,
    ) -> tuple[str, float, Component] | None:
        """(test, p-value, component) when the series changed in ``direction`` significantly and materially."""
        if self.status != "ok" or self.recent_median is None or self.baseline_median is None:
            return None
        d = self.definition
        assert self.recent_median is not None and self.baseline_median is not None
        level = Component(
            d.metric, direction, self.baseline_median, self.recent_median, d.practical_threshold, d.threshold_type
        )
        p_level = 1.0 if self.level is None else self.level.p_up if direction == "up" else self.level.p_down
        # the robust z guards the rank test against weekly noise; a share's test already accounts for it
        z_ok = (
            d.is_share
            or self.robust_z is None
            or (self.robust_z if direction == "up" else -self.robust_z) >= min_robust_z
        )
        found: tuple[str, float, Component] | None = None
        p_trend = 1.0 if self.trend is None else self.trend.p_up if direction == "up" else self.trend.p_down
        if self.trend_start_test is not None:  # a share's trend must also show in its counts, start vs now
            start_test = self.trend_start_test
            p_trend = max(p_trend, start_test.p_up if direction == "up" else start_test.p_down)
        if level.strength() >= 1.0 and p_level <= significance and z_ok:
            found = ("level_shift", p_level, level)
        elif (
            self.trend_start is not None and p_trend <= trend_significance and level.strength() >= trend_level_fraction
        ):
            trend = Component(
                d.metric, direction, self.trend_start, self.recent_median, d.practical_threshold, d.threshold_type
            )
            if trend.strength() >= 1.0:
                found = ("trend", p_trend, trend)
        if found is not None and self.previous is not None:
            # confirmation: the week before must show the same change (a one-week excursion is not a trend)
            confirmed = self.previous.change_in(
                direction, significance, trend_significance, trend_level_fraction, min_robust_z
            )
            return found if confirmed is not None else None
        return found

    def evidence(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "unit": self.definition.unit,
            "level_statistic": "pooled share" if self.definition.is_share else "median",
            "recent": [[p.period_start.isoformat(), finite(p.value), p.sample_size] for p in self.recent],
            "baseline": [[p.period_start.isoformat(), finite(p.value), p.sample_size] for p in self.baseline],
            "recent_median": finite(self.recent_median),
            "baseline_median": finite(self.baseline_median),
            "baseline_mad_sigma": finite(self.baseline_mad_sigma),
            "robust_z": finite(self.robust_z),
            "level_test": "share_test" if self.definition.is_share else "mann_whitney",
            "level_test_statistic": finite(self.level.statistic) if self.level else None,
            "level_test_p_up": finite(self.level.p_up) if self.level else None,
            "level_test_p_down": finite(self.level.p_down) if self.level else None,
            "mann_kendall_s": finite(self.trend.statistic) if self.trend else None,
            "mann_kendall_p_up": finite(self.trend.p_up) if self.trend else None,
            "mann_kendall_p_down": finite(self.trend.p_down) if self.trend else None,
            "theil_sen_slope_per_week": finite(self.trend_line.slope) if self.trend_line else None,
            "trend_start": finite(self.trend_start),
            "trend_start_test_p_up": finite(self.trend_start_test.p_up) if self.trend_start_test else None,
            "trend_start_test_p_down": finite(self.trend_start_test.p_down) if self.trend_start_test else None,
        }


def finite(value: float | None) -> float | None:
    """JSON-safe number: None for missing/infinite/NaN, rounded to 6 significant digits."""
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return float(f"{value:.6g}")


def evaluate_series(
    definition: MetricDefinition,
    scope_type: str,
    scope_key: str,
    points: Sequence[Point],
    as_of: date,
    settings: DetectionSettings,
) -> Evaluation:
    """The statistics of one series at ``as_of`` (the Monday of the latest week evaluated)."""
    previous = None
    if settings.confirm_weeks > 1:
        earlier = replace(settings, confirm_weeks=settings.confirm_weeks - 1)
        previous = evaluate_series(definition, scope_type, scope_key, points, as_of - timedelta(weeks=1), earlier)
    recent_from = as_of - timedelta(weeks=settings.recent_weeks - 1)
    baseline_from = recent_from - timedelta(weeks=settings.baseline_weeks)
    trend_from = as_of - timedelta(weeks=settings.trend_weeks - 1)
    usable = [p for p in points if p.value is not None and math.isfinite(p.value) and p.period_start <= as_of]
    recent = sorted((p for p in usable if recent_from <= p.period_start), key=lambda p: p.period_start)
    baseline = sorted(
        (p for p in usable if baseline_from <= p.period_start < recent_from), key=lambda p: p.period_start
    )
    trend = sorted((p for p in usable if trend_from <= p.period_start), key=lambda p: p.period_start)
    evaluation = Evaluation(
        definition, scope_type, scope_key, as_of, "ok", recent=recent, baseline=baseline, previous=previous
    )
    level_ok = len(baseline) >= settings.min_baseline_points
    trend_ok = len(trend) >= settings.min_trend_points
    if len(recent) < settings.min_recent_points or len(baseline) < MIN_BASELINE_POINTS or not (level_ok or trend_ok):
        evaluation.status = "insufficient"
        evaluation.reason = (
            f"{len(recent)} recent, {len(baseline)} baseline and {len(trend)} trend-window weeks with data (need "
            f"{settings.min_recent_points} recent and {settings.min_baseline_points} baseline, or "
            f"{settings.min_trend_points} in the trend window)"
        )
        return evaluation
    recent_sample = sum(p.sample_size for p in recent)
    baseline_sample = sum(p.sample_size for p in baseline)
    if min(recent_sample, baseline_sample) < definition.min_sample_size:
        evaluation.status = "insufficient"
        evaluation.reason = (
            f"sample sizes {recent_sample} (recent) and {baseline_sample} (baseline) below the catalog's "
            f"min_sample_size {definition.min_sample_size}"
        )
        return evaluation

    recent_values = [p.value for p in recent]
    baseline_values = [p.value for p in baseline]
    share = definition.is_share
    evaluation.recent_median = pooled_share(recent) if share else median(recent_values)
    evaluation.baseline_median = pooled_share(baseline) if share else median(baseline_values)
    sigma = robust_sigma(baseline_values)
    evaluation.baseline_mad_sigma = sigma
    evaluation.robust_z = (evaluation.recent_median - evaluation.baseline_median) / sigma if sigma > 0 else None
    if level_ok:
        evaluation.level = (
            share_test(counts(recent), counts(baseline)) if share else mann_whitney(recent_values, baseline_values)
        )
    if trend_ok:
        xs = [(p.period_start - trend_from).days / 7.0 for p in trend]
        ys = [p.value for p in trend]
        evaluation.trend = mann_kendall(ys)
        evaluation.trend_line = theil_sen(xs, ys)
        # where the trend started: the median of the window's first quarter (at least 3 weeks), not the fitted
        # line's intercept, which a flat-then-rising series pulls below anything that was ever observed
        head = trend[: max(3, len(trend) // 4)]
        evaluation.trend_start = pooled_share(head) if share else median(p.value for p in head)
        if share:
            evaluation.trend_start_test = share_test(counts(recent), counts(head))
    return evaluation


def counts(points: Sequence[Point]) -> list[tuple[int, int]]:
    """A share's weeks as (events, trials): value x sample size, rounded (the marts divide whole counts)."""
    return [(round(p.value * p.sample_size), p.sample_size) for p in points]


def pooled_share(points: Sequence[Point]) -> float:
    """Events over trials across the weeks (the plain mean of the weekly shares when no week has a sample)."""
    trials = sum(p.sample_size for p in points)
    if trials <= 0:
        return sum(p.value for p in points) / len(points)
    return sum(p.value * p.sample_size for p in points) / trials


def single_findings(evaluation: Evaluation, settings: DetectionSettings) -> list[Finding]:
    """Regression and improvement findings of one evaluated series (at most one: directions exclude each other)."""
    d = evaluation.definition
    for direction in ("up", "down"):
        found = evaluation.change_in(
            direction,
            settings.significance,
            settings.trend_significance,
            settings.trend_level_fraction,
            settings.min_robust_z,
        )
        if found is None:
            continue
        test, p_value, component = found
        kind: Kind = "improvement" if direction == d.better_direction else "regression"
        return [
            Finding(
                kind=kind,
                metric=d.metric,
                scope_type=evaluation.scope_type,
                scope_key=evaluation.scope_key,
                direction=direction,
                test=test,
                p_value=p_value,
                components=(component,),
                evidence={**evaluation.evidence(), "test": test, "p_value": finite(p_value)},
            )
        ]
    return []


def paired_findings(
    evaluations: Mapping[SeriesKey, Evaluation], rules: Iterable[PairedRule], settings: DetectionSettings
) -> list[Finding]:
    """Findings of the paired rules: both metrics of one scope moved in the rule's directions."""
    findings = []
    for rule in rules:
        for (metric, scope_type, scope_key), first in evaluations.items():
            if metric != rule.first_metric:
                continue
            second = evaluations.get((rule.second_metric, scope_type, scope_key))
            if second is None:
                continue
            a = first.change_in(
                rule.first_direction, rule.significance, rule.significance, settings.trend_level_fraction
            )
            b = second.change_in(
                rule.second_direction, rule.significance, rule.significance, settings.trend_level_fraction
            )
            if a is None or b is None:
                continue
            findings.append(
                Finding(
                    kind="paired",
                    metric=rule.metric,
                    scope_type=scope_type,
                    scope_key=scope_key,
                    direction=rule.second_direction,
                    test="paired",
                    p_value=max(a[1], b[1]),
                    components=(a[2], b[2]),
                    rule=rule.name,
                    evidence={
                        "rule": rule.name,
                        "rule_description": rule.description,
                        rule.first_metric: {**first.evidence(), "test": a[0], "p_value": finite(a[1])},
                        rule.second_metric: {**second.evidence(), "test": b[0], "p_value": finite(b[1])},
                    },
                )
            )
    return findings


@dataclass
class DetectionResult:
    evaluations: dict[SeriesKey, Evaluation]
    findings: list[Finding]
    as_of: date | None

    @property
    def insufficient(self) -> int:
        return sum(1 for e in self.evaluations.values() if e.status == "insufficient")


def detect(
    series: Mapping[SeriesKey, Sequence[Point]],
    catalog: Mapping[str, MetricDefinition],
    settings: DetectionSettings,
    rules: Sequence[PairedRule] = (),
    as_of: date | None = None,
) -> DetectionResult:
    """Evaluate every active metric x alerting scope at ``as_of`` (default: the latest week in ``series``)."""
    if as_of is None:
        weeks = [p.period_start for points in series.values() for p in points]
        if not weeks:
            return DetectionResult({}, [], None)
        as_of = max(weeks)
    evaluations: dict[SeriesKey, Evaluation] = {}
    for (metric, scope_type, scope_key), points in sorted(series.items()):
        definition = catalog.get(metric)
        if definition is None or not definition.active:
            continue
        if definition.alert_scopes and scope_type not in definition.alert_scopes:
            continue
        evaluations[(metric, scope_type, scope_key)] = evaluate_series(
            definition, scope_type, scope_key, points, as_of, settings
        )
    singles = [f for e in evaluations.values() for f in single_findings(e, settings)]
    pairs = paired_findings(evaluations, rules, settings)
    suppressed: set[SeriesKey] = set()
    by_name = {rule.name: rule for rule in rules}
    for pair in pairs:
        rule = by_name[pair.rule]  # type: ignore[index]
        if rule.suppress_components:
            suppressed |= {(c.metric, pair.scope_type, pair.scope_key) for c in pair.components}
        absorbed = [
            f
            for f in singles
            if f.kind == "improvement"
            and f.metric in rule.absorbed_improvements
            and (f.scope_type, f.scope_key) == (pair.scope_type, pair.scope_key)
        ]
        if absorbed:  # said inside the pair's alert, with its evidence, instead of celebrated on its own
            suppressed |= {(f.metric, f.scope_type, f.scope_key) for f in absorbed}
            pair.evidence["absorbed_improvements"] = {f.metric: f.evidence for f in absorbed}
    kept = [f for f in singles if (f.metric, f.scope_type, f.scope_key) not in suppressed]
    return DetectionResult(evaluations, [*kept, *pairs], as_of)


def group_points(rows: Iterable[tuple[str, str, str, date, float | None, int | None]]) -> dict[SeriesKey, list[Point]]:
    """metric_series rows (metric, scope_type, scope_key, period_start, value, sample_size) grouped by series."""
    grouped: dict[SeriesKey, list[Point]] = defaultdict(list)
    for metric, scope_type, scope_key, period_start, value, sample_size in rows:
        if value is None:
            continue
        grouped[(metric, scope_type, str(scope_key))].append(Point(period_start, float(value), int(sample_size or 0)))
    return dict(grouped)
