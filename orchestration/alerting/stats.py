"""Robust statistics for short weekly series, in plain Python (no numpy: the project installs from PyPI only
what it needs, and these series have at most a few dozen points).

Why these and not mean/standard deviation: engineering metrics are skewed and have outliers (a holiday week, one
incident that took three days). Medians and the median absolute deviation ignore a few wild points; rank tests
(Mann-Whitney for a level shift, Mann-Kendall for a monotonic trend) need no normality assumption; Theil-Sen is
the slope a single outlier cannot tilt. Shares (failures out of deployments, flaky runs out of runs) are counts,
and a count has a known sampling law: their level shift is tested on the pooled counts (Fisher's exact test,
widened when failures cluster), so a week with 30 deployments weighs more than a week with 2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import median

MAD_TO_SIGMA = 1.4826  # MAD x this estimates sigma for normal data


def mad(values: Sequence[float]) -> float:
    """Median absolute deviation from the median (unscaled)."""
    centre = median(values)
    return median(abs(v - centre) for v in values)


def robust_sigma(values: Sequence[float]) -> float:
    """sigma estimated from the MAD; 0 when more than half the values are equal."""
    return MAD_TO_SIGMA * mad(values)


def normal_sf(z: float) -> float:
    """P(Z ≥ z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


@dataclass(frozen=True)
class RankTest:
    """A rank test's statistic and its one-sided p-values (``p_up``: the later/recent values are larger)."""

    statistic: float
    z: float
    p_up: float
    p_down: float


@lru_cache(maxsize=4096)
def _mw_counts(n1: int, n2: int) -> tuple[int, ...]:
    """Number of arrangements giving each U = 0..n1·n2 (exact null distribution, no ties)."""
    if n1 == 0 or n2 == 0:
        return (1,)
    # U(n1, n2) = U(n1-1, n2) shifted by n2 (largest value in sample 1) + U(n1, n2-1) (largest in sample 2)
    with_first = _mw_counts(n1 - 1, n2)
    with_second = _mw_counts(n1, n2 - 1)
    counts = [0] * (n1 * n2 + 1)
    for u, c in enumerate(with_first):
        counts[u + n2] += c
    for u, c in enumerate(with_second):
        counts[u] += c
    return tuple(counts)


def mann_whitney(recent: Sequence[float], baseline: Sequence[float]) -> RankTest:
    """Mann-Whitney U of ``recent`` against ``baseline`` (U counts pairs where recent is larger, ties ½).

    Exact null distribution when there are no ties and the samples are small (the usual 4 vs 12 weeks);
    otherwise the normal approximation with tie and continuity corrections.
    """
    n1, n2 = len(recent), len(baseline)
    if n1 == 0 or n2 == 0:
        return RankTest(0.0, 0.0, 1.0, 1.0)
    u = sum(1.0 if r > b else 0.5 if r == b else 0.0 for r in recent for b in baseline)
    mean_u = n1 * n2 / 2.0
    pooled = [*recent, *baseline]
    ties = _tie_sizes(pooled)
    n = n1 + n2
    variance = n1 * n2 / 12.0 * ((n + 1) - sum(t**3 - t for t in ties) / (n * (n - 1)))
    z = (u - mean_u) / math.sqrt(variance) if variance > 0 else 0.0
    if not ties and n1 * n2 <= 600:
        counts = _mw_counts(n1, n2)
        total = sum(counts)
        k = round(u)
        p_up = sum(counts[k:]) / total
        p_down = sum(counts[: k + 1]) / total
        return RankTest(u, z, p_up, p_down)
    if variance <= 0:
        return RankTest(u, 0.0, 1.0, 1.0)
    p_up = normal_sf((u - mean_u - 0.5) / math.sqrt(variance))
    p_down = normal_sf((mean_u - u - 0.5) / math.sqrt(variance))
    return RankTest(u, z, min(p_up, 1.0), min(p_down, 1.0))


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_exact(recent_events: int, recent_trials: int, baseline_events: int, baseline_trials: int) -> RankTest:
    """One-sided Fisher exact test: is the recent share of events higher (``p_up``) or lower (``p_down``) than
    the baseline's? The statistic is the recent events minus what the pooled share predicts for them.

    Conditional on all events, the recent window's count is hypergeometric; the p-values sum its tail
    probabilities (exact, no large-sample approximation: a team may deploy ten times a week).
    """
    if recent_trials <= 0 or baseline_trials <= 0:
        return RankTest(0.0, 0.0, 1.0, 1.0)
    total, events = recent_trials + baseline_trials, recent_events + baseline_events
    low, high = max(0, events - baseline_trials), min(events, recent_trials)
    log_all = _log_comb(total, recent_trials)
    pmf = {
        k: math.exp(_log_comb(events, k) + _log_comb(total - events, recent_trials - k) - log_all)
        for k in range(low, high + 1)
    }
    expected = recent_trials * events / total
    # hypergeometric variance: n·K/N · (N-K)/N · (N-n)/(N-1)
    variance = expected * (total - events) / total * (total - recent_trials) / (total - 1) if total > 1 else 0.0
    z = (recent_events - expected) / math.sqrt(variance) if variance > 0 else 0.0
    p_up = min(1.0, sum(p for k, p in pmf.items() if k >= recent_events))
    p_down = min(1.0, sum(p for k, p in pmf.items() if k <= recent_events))
    return RankTest(recent_events - expected, z, p_up, p_down)


def share_test(recent: Sequence[tuple[int, int]], baseline: Sequence[tuple[int, int]]) -> RankTest:
    """Did the share of events change? ``recent`` and ``baseline`` are weekly (events, trials).

    Fisher's exact test on the pooled counts is exact when every trial is an independent coin flip; real
    failures cluster (one bad week, one broken test), so weekly shares vary more than a binomial does. The
    baseline's own week-to-week scatter measures that (Pearson's dispersion: chi-square / degrees of freedom,
    at least 1), and a two-proportion z-test with its variance scaled by it guards against clustering. The
    p-values are the larger of the two tests': a change must be clear under both.
    """
    recent_events, recent_trials = sum(e for e, _ in recent), sum(t for _, t in recent)
    baseline_events, baseline_trials = sum(e for e, _ in baseline), sum(t for _, t in baseline)
    exact = fisher_exact(recent_events, recent_trials, baseline_events, baseline_trials)
    if recent_trials <= 0 or baseline_trials <= 0:
        return exact
    base_share = baseline_events / baseline_trials
    pooled = (recent_events + baseline_events) / (recent_trials + baseline_trials)
    dispersion = 1.0
    weeks = [(e, t) for e, t in baseline if t > 0]
    if len(weeks) > 1 and 0 < base_share < 1:
        chi2 = sum((e - t * base_share) ** 2 / (t * base_share * (1 - base_share)) for e, t in weeks)
        dispersion = max(1.0, chi2 / (len(weeks) - 1))
    variance = dispersion * pooled * (1 - pooled) * (1 / recent_trials + 1 / baseline_trials)
    if variance <= 0:
        return exact
    z = (recent_events / recent_trials - base_share) / math.sqrt(variance)
    return RankTest(exact.statistic, z, max(exact.p_up, normal_sf(z)), max(exact.p_down, normal_sf(-z)))


def mann_kendall(values: Sequence[float]) -> RankTest:
    """Mann-Kendall test for a monotonic trend in time-ordered ``values`` (S > 0: rising)."""
    n = len(values)
    if n < 3:
        return RankTest(0.0, 0.0, 1.0, 1.0)
    s = 0
    for i in range(n - 1):
        for j in range(i + 1, n):
            diff = values[j] - values[i]
            s += (diff > 0) - (diff < 0)
    ties = _tie_sizes(values)
    variance = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in ties)) / 18.0
    if variance <= 0:
        return RankTest(float(s), 0.0, 1.0, 1.0)
    z = (s - 1) / math.sqrt(variance) if s > 0 else (s + 1) / math.sqrt(variance) if s < 0 else 0.0
    return RankTest(float(s), z, normal_sf(z), normal_sf(-z))


@dataclass(frozen=True)
class Line:
    slope: float
    intercept: float

    def at(self, x: float) -> float:
        return self.intercept + self.slope * x


def theil_sen(xs: Sequence[float], ys: Sequence[float]) -> Line:
    """Median of pairwise slopes, intercept = median(y - slope·x). ``xs`` may have gaps (missing weeks)."""
    slopes = [
        (ys[j] - ys[i]) / (xs[j] - xs[i]) for i in range(len(xs)) for j in range(i + 1, len(xs)) if xs[j] != xs[i]
    ]
    slope = median(slopes) if slopes else 0.0
    intercept = median(y - slope * x for x, y in zip(xs, ys, strict=True)) if ys else 0.0
    return Line(slope, intercept)


def _tie_sizes(values: Sequence[float]) -> list[int]:
    counts: dict[float, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return [c for c in counts.values() if c > 1]
