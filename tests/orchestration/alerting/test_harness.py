"""The evaluation harness: our detector beats "week over week ±20 %" and rarely cries wolf."""

from __future__ import annotations

import random

import pytest

from orchestration.alerting.harness import (
    HarnessResult,
    naive_notifications,
    run_harness,
    synthetic_series,
    synthetic_share_series,
)


@pytest.fixture(scope="module")
def result() -> HarnessResult:
    return run_harness()  # the same seeded run `make bench` prints


@pytest.mark.parametrize(
    "family",
    ["levels", "shares"],  # shares: events / trials, overdispersed; pooled counts with the dispersion-guarded test
)
def test_our_detector_beats_the_naive_rule_with_few_false_alarms(result: HarnessResult, family: str) -> None:
    ours, naive = (result.ours, result.naive) if family == "levels" else (result.share_ours, result.share_naive)
    assert ours.changes == naive.changes == 80
    assert ours.f1 >= 3 * naive.f1 and ours.f1 - naive.f1 >= 0.3, result.table()
    assert ours.false_alarms_per_series_year < 1.0, result.table()
    assert ours.recall >= 0.5 and ours.median_delay_weeks is not None and ours.median_delay_weeks <= 8
    assert naive.false_alarms_per_series_year > 10 * max(ours.false_alarms_per_series_year, 0.1)


def test_share_series_have_their_samples_and_change() -> None:
    rng = random.Random(3)
    step = synthetic_share_series(rng, 104, "step")
    assert step.samples is not None and len(step.samples) == 104 and min(step.samples) >= 1
    assert step.change_week is not None and 0.07 <= step.magnitude <= 0.15
    before = sum(v * n for v, n in zip(step.values[:30], step.samples[:30], strict=True)) / sum(step.samples[:30])
    after_weeks = slice(step.change_week, step.change_week + 20)
    after = sum(v * n for v, n in zip(step.values[after_weeks], step.samples[after_weeks], strict=True)) / sum(
        step.samples[after_weeks]
    )
    assert (after > before) == (step.direction == "up")


def test_the_harness_is_deterministic() -> None:
    assert run_harness(seed=7, series_per_type=5).table() == run_harness(seed=7, series_per_type=5).table()


def test_injected_changes_are_where_they_say() -> None:
    rng = random.Random(1)
    step = synthetic_series(rng, 104, "step")
    assert step.change_week is not None and step.direction in ("up", "down") and 0.3 <= step.magnitude <= 0.8
    before = sorted(step.values[step.change_week - 12 : step.change_week])[6]
    after = sorted(step.values[step.change_week : step.change_week + 12])[6]
    assert (after > before) == (step.direction == "up")
    flat = synthetic_series(rng, 104, "none")
    assert flat.change_week is None and naive_notifications(flat), "noise alone trips the naive rule"
