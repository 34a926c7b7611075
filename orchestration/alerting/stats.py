"""Robust statistics for short weekly series, in plain Python (no numpy: the project installs from PyPI only
what it needs, and these series have at most a few dozen points).

Why these and not mean/standard deviation: engineering metrics are skewed and have outliers (a holiday week, one
incident that took three days). Medians and the median absolute deviation ignore a few wild points; rank tests
(Mann-Whitney for a level shift, Mann-Kendall for a monotonic trend) need no normality assumption; Theil-Sen is
the slope a single outlier cannot tilt.
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
