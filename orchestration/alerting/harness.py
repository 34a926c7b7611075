"""Evaluation harness: how often does the detector find a real change, how fast, and how often does it cry wolf?

Synthetic weekly series that look like engineering metrics: a level, multiplicative noise (coefficient of
variation 10-30 %), occasional outlier weeks (an incident that took days, a half-staffed week), an annual
seasonality and, in half the series, a two-week holiday dip at the turn of the year. Into most series one
change that matters is injected at a known week: a **step** or a **drift** (a linear ramp over 6-16 weeks) of
30-80 %, up or down. The rest have no change at all.

A second family is **shares** (change failure rate, flaky-run share: events out of a weekly sample): weekly
trials that vary with the week (8-150 on average, holiday dips), a base share of 3-30 %, binomial sampling on
top of a week-to-week wobble of the true share (beta-distributed: real failures cluster, so the counts are more
variable than a binomial — the case where a test on pooled counts could cry wolf), and an absolute change of
7-15 percentage points (the catalogue's threshold for shares is 5). Our detector treats them as the catalogue
does (unit ``ratio``: pooled share, ``stats.share_test``); the naive rule is the same ±20 % week over week.

Both detectors are run week by week, as the pipeline would run them, and what they would *notify* is counted:

- **ours**: ``detection`` + the alert ``lifecycle`` (an alert opens once and stays open until the series is back
  to its opening baseline), practical threshold 20 % relative, default windows (4 recent vs 12 baseline weeks).
- **naive**: "week over week ±20 %": an alert each time a week differs from the previous one by 20 % or more
  (a new notification whenever the condition turns on again), the rule commercial tools ship.

A notification in the injected direction within the detection horizon after the change (8 weeks, plus the ramp
for drifts) is a true positive (the first one; its delay in weeks is recorded); every other notification is a
false positive. Precision, recall, F1, the median delay, and false alarms per series-year on the no-change series
are reported. Everything is seeded: the same seed gives the same table.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from statistics import median
from typing import Literal

from orchestration.alerting.catalog import MetricDefinition
from orchestration.alerting.detection import (
    DetectionResult,
    DetectionSettings,
    Evaluation,
    Point,
    evaluate_series,
    single_findings,
)
from orchestration.alerting.lifecycle import Alert, advance

ChangeType = Literal["none", "step", "drift"]
START = date(2024, 1, 1)  # a Monday
HORIZON_WEEKS = 8
PRACTICAL_THRESHOLD = 0.20

SHARE_THRESHOLD = 0.05  # absolute, like change_failure_rate in the seed catalogue

HARNESS_METRIC = MetricDefinition(
    metric="synthetic",
    description="synthetic weekly series",
    why_it_exists="evaluation harness",
    owner="harness",
    better_direction="down",
    unit="hours",
    min_sample_size=0,
    practical_threshold=PRACTICAL_THRESHOLD,
    threshold_type="relative",
    alert_scopes=("team",),
    review_cadence="weekly",
    active=True,
)

HARNESS_SHARE_METRIC = replace(
    HARNESS_METRIC,
    metric="synthetic_share",
    unit="ratio",
    min_sample_size=10,
    practical_threshold=SHARE_THRESHOLD,
    threshold_type="absolute",
)


@dataclass(frozen=True)
class SyntheticSeries:
    values: list[float]
    change: ChangeType
    change_week: int | None  # index of the first changed week
    ramp_weeks: int  # 0 for steps
    direction: Literal["up", "down"] | None
    magnitude: float
    samples: list[int] | None = None  # a share's weekly trials (None: not a share, a fixed nominal sample)


def _injected_change(rng: random.Random, weeks: int, change: ChangeType, low: float, high: float) -> tuple:
    """(direction, magnitude, change_week, ramp) of the one change injected into a series, or Nones."""
    if change == "none":
        return None, 0.0, None, 0
    direction = rng.choice(("up", "down"))
    magnitude = rng.uniform(low, high)
    ramp = rng.randint(6, 16) if change == "drift" else 0
    return direction, magnitude, rng.randint(30, weeks - HORIZON_WEEKS - ramp - 1), ramp


def _progress(t: int, change_week: int | None, ramp: int) -> float:
    """How much of the injected change has happened by week ``t`` (0 before it, 1 once a ramp is complete)."""
    if change_week is None or t < change_week:
        return 0.0
    return 1.0 if ramp == 0 else min((t - change_week + 1) / ramp, 1.0)


def synthetic_series(rng: random.Random, weeks: int, change: ChangeType) -> SyntheticSeries:
    level = rng.uniform(5.0, 50.0)
    cv = rng.uniform(0.10, 0.30)
    season_amplitude = rng.uniform(0.0, 0.10)
    season_phase = rng.uniform(0.0, 2 * math.pi)
    holiday = rng.random() < 0.5
    direction, magnitude, change_week, ramp = _injected_change(rng, weeks, change, 0.30, 0.80)
    sigma = math.sqrt(math.log(1 + cv * cv))
    values = []
    for t in range(weeks):
        progress = _progress(t, change_week, ramp)
        factor = 1 + magnitude * progress if direction == "up" else 1 / (1 + magnitude * progress)
        season = 1 + season_amplitude * math.sin(2 * math.pi * t / 52.0 + season_phase)
        week_of_year = t % 52
        dip = 0.6 if holiday and week_of_year in (51, 0) else 1.0
        noise = math.exp(rng.gauss(-sigma * sigma / 2, sigma))
        outlier = 1.0
        if rng.random() < 0.03:
            outlier = rng.choice((rng.uniform(1.8, 2.5), rng.uniform(0.35, 0.5)))
        values.append(level * factor * season * dip * noise * outlier)
    return SyntheticSeries(values, change, change_week, ramp, direction, magnitude)


def synthetic_share_series(rng: random.Random, weeks: int, change: ChangeType) -> SyntheticSeries:
    """A weekly share: events out of a varying number of trials, overdispersed, with an absolute change."""
    mean_trials = rng.uniform(8.0, 150.0)
    base = rng.uniform(0.03, 0.30)
    concentration = rng.uniform(40.0, 300.0)  # of the beta wobble of the true share (lower = more clustered)
    holiday = rng.random() < 0.5
    direction, magnitude, change_week, ramp = _injected_change(rng, weeks, change, 0.07, 0.15)
    if direction == "down":
        base = max(base, magnitude + 0.02)  # room to fall by the whole change: a share cannot go below zero
    values, samples = [], []
    for t in range(weeks):
        shift = magnitude * _progress(t, change_week, ramp)
        share = base + shift if direction == "up" else base - shift
        dip = 0.4 if holiday and t % 52 in (51, 0) else 1.0
        trials = max(1, round(rng.gauss(mean_trials * dip, math.sqrt(mean_trials * dip))))
        week_share = rng.betavariate(share * concentration, (1 - share) * concentration)
        events = sum(1 for _ in range(trials) if rng.random() < week_share)
        values.append(events / trials)
        samples.append(trials)
    return SyntheticSeries(values, change, change_week, ramp, direction, magnitude, samples)


def _week(t: int) -> date:
    return START + timedelta(weeks=t)


def our_notifications(
    series: SyntheticSeries, settings: DetectionSettings, definition: MetricDefinition = HARNESS_METRIC
) -> list[tuple[int, str]]:
    """(week index, direction) of every alert *opened* by detection + lifecycle, run weekly."""
    samples = series.samples or [20] * len(series.values)
    points = [Point(_week(t), v, n) for t, (v, n) in enumerate(zip(series.values, samples, strict=True))]
    catalog = {definition.metric: definition}
    alerts: dict[str, Alert] = {}
    opened = []
    now = datetime(2024, 1, 1, tzinfo=UTC)
    for t in range(settings.recent_weeks + settings.min_baseline_points, len(points)):
        evaluation: Evaluation = evaluate_series(definition, "team", "t", points[: t + 1], _week(t), settings)
        result = DetectionResult({evaluation.key: evaluation}, single_findings(evaluation, settings), _week(t))
        changed, events = advance(alerts, result, now + timedelta(weeks=t), catalog)
        alerts.update(changed)
        for event in events:
            if event.event_type == "opened":
                opened.append((t, changed[event.fingerprint].direction))
    return opened


def naive_notifications(series: SyntheticSeries, threshold: float = PRACTICAL_THRESHOLD) -> list[tuple[int, str]]:
    """Week over week ±threshold: a notification whenever the condition turns on (per direction)."""
    opened = []
    previous: str | None = None
    for t in range(1, len(series.values)):
        before, now = series.values[t - 1], series.values[t]
        change = (now - before) / before if before else 0.0
        state = "up" if change >= threshold else "down" if change <= -threshold else None
        if state is not None and state != previous:
            opened.append((t, state))
        previous = state
    return opened


@dataclass
class Score:
    true_positives: int = 0
    false_positives: int = 0
    changes: int = 0
    delays: list[int] = field(default_factory=list)
    false_alarms_no_change: int = 0
    no_change_weeks: int = 0

    @property
    def precision(self) -> float:
        total = self.true_positives + self.false_positives
        return self.true_positives / total if total else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.changes if self.changes else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def median_delay_weeks(self) -> float | None:
        return median(self.delays) if self.delays else None

    @property
    def false_alarms_per_series_year(self) -> float:
        return self.false_alarms_no_change / (self.no_change_weeks / 52.0) if self.no_change_weeks else 0.0

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "f1": round(self.f1, 3),
            "median_delay_weeks": self.median_delay_weeks,
            "false_alarms_per_series_year": round(self.false_alarms_per_series_year, 3),
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "changes": self.changes,
        }


def score(series: SyntheticSeries, notifications: list[tuple[int, str]], result: Score, first_week: int) -> None:
    """Match one series' notifications against its injected change (first in-horizon match is the TP)."""
    matched = False
    if series.change != "none":
        result.changes += 1
    else:
        result.no_change_weeks += len(series.values) - first_week
    for week, direction in notifications:
        if week < first_week:
            continue
        in_horizon = (
            series.change_week is not None
            and series.change_week <= week <= series.change_week + series.ramp_weeks + HORIZON_WEEKS
            and direction == series.direction
        )
        if in_horizon and not matched:
            matched = True
            result.true_positives += 1
            result.delays.append(week - series.change_week)  # type: ignore[operator]
        else:
            result.false_positives += 1
            if series.change == "none":
                result.false_alarms_no_change += 1


@dataclass
class HarnessResult:
    series: int  # per family
    weeks: int
    ours: Score
    naive: Score
    share_ours: Score  # the share family (events out of a weekly sample)
    share_naive: Score

    def table(self) -> str:
        header = (
            f"{'detector':<28} {'precision':>9} {'recall':>7} {'F1':>6} {'median delay (wk)':>18} "
            f"{'false alarms/series-yr':>23}"
        )
        lines = []
        families = (
            ("levels (steps, drifts, no change; noise, outliers, seasonality, holiday dips)", self.ours, self.naive),
            (
                "shares (events / weekly trials, overdispersed; absolute steps and drifts)",
                self.share_ours,
                self.share_naive,
            ),
        )
        for title, ours, naive in families:
            lines += [f"alert detection harness — {self.series} synthetic weekly series x {self.weeks} weeks: {title}"]
            lines.append(header)
            for name, score_ in (("ours (robust + trend)", ours), ("naive week-over-week ±20%", naive)):
                delay = "n/a" if score_.median_delay_weeks is None else f"{score_.median_delay_weeks:g}"
                lines.append(
                    f"{name:<28} {score_.precision:>9.2f} {score_.recall:>7.2f} {score_.f1:>6.2f} {delay:>18} "
                    f"{score_.false_alarms_per_series_year:>23.2f}"
                )
        return "\n".join(lines)


def _score_family(
    rng: random.Random,
    make: Callable[[random.Random, int, ChangeType], SyntheticSeries],
    definition: MetricDefinition,
    series_per_type: int,
    weeks: int,
    settings: DetectionSettings,
) -> tuple[Score, Score, int]:
    ours, naive = Score(), Score()
    first_week = settings.recent_weeks + settings.baseline_weeks  # both detectors judged on the same weeks
    count = 0
    for change in ("step", "drift", "none"):
        for _ in range(series_per_type):
            series = make(rng, weeks, change)  # type: ignore[arg-type]
            score(series, our_notifications(series, settings, definition), ours, first_week)
            score(series, naive_notifications(series), naive, first_week)
            count += 1
    return ours, naive, count


def run_harness(
    seed: int = 20260601,
    series_per_type: int = 40,
    weeks: int = 104,
    settings: DetectionSettings | None = None,
) -> HarnessResult:
    """Score both detectors on ``series_per_type`` step, drift and no-change series of each family
    (deterministic: each family has its own seeded stream)."""
    settings = settings or DetectionSettings()
    ours, naive, count = _score_family(
        random.Random(seed), synthetic_series, HARNESS_METRIC, series_per_type, weeks, settings
    )
    share_ours, share_naive, _ = _score_family(
        random.Random(seed + 1), synthetic_share_series, HARNESS_SHARE_METRIC, series_per_type, weeks, settings
    )
    return HarnessResult(count, weeks, ours, naive, share_ours, share_naive)


if __name__ == "__main__":
    print(run_harness().table())
