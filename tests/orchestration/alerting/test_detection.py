"""Detection: direction, minimum sample, practical threshold, trend, confirmation, paired rules, evidence."""

from __future__ import annotations

from dataclasses import replace

from orchestration.alerting.detection import DetectionSettings, PairedRule, detect, group_points
from orchestration.alerting.stats import mann_kendall, mann_whitney, theil_sen
from tests.orchestration.alerting.series import (
    CATALOG,
    CHANGE_FAILURE_RATE,
    DEPLOY_FREQUENCY,
    LEAD_TIME,
    noisy,
    rows,
)

SETTINGS = DetectionSettings()
SPEED_WITHOUT_STABILITY = PairedRule(
    name="speed_without_stability",
    description="faster and breaking more",
    first_metric="deployment_frequency",
    first_direction="up",
    second_metric="change_failure_rate",
    second_direction="up",
)


def _detect(series_rows, catalog=CATALOG, rules=(), settings=SETTINGS):
    metric_rows = [(m, st, sk, ps, v, s) for m, st, sk, ps, v, s in series_rows]
    return detect(group_points(metric_rows), catalog, settings, rules)


def _step(level: float, factor: float, seed: int, before: int = 20, after: int = 5, cv: float = 0.08) -> list[float]:
    return noisy(level, before, seed, cv) + noisy(level * factor, after, seed + 1, cv)


def test_rank_tests_against_hand_computed_values() -> None:
    # every recent value above every baseline value: U = n1*n2, exact p = 1 / C(5, 2) = 0.1
    test = mann_whitney([10.0, 11.0], [1.0, 2.0, 3.0])
    assert test.statistic == 6 and abs(test.p_up - 0.1) < 1e-12 and test.p_down == 1.0
    # strictly increasing 1..10: S = 45 (all pairs concordant)
    assert mann_kendall(list(range(1, 11))).statistic == 45
    assert mann_kendall(list(range(10, 0, -1))).p_down < 0.001
    line = theil_sen([0, 1, 2, 3, 4], [1, 3, 5, 7, 100])  # one outlier cannot tilt it
    assert line.slope == 2.0


def test_direction_decides_regression_or_improvement() -> None:
    slower = _detect(rows("lead_time_p50_hours", "search", _step(10, 1.6, seed=1)))
    [finding] = slower.findings
    assert (finding.kind, finding.direction, finding.scope_key) == ("regression", "up", "search")

    faster = _detect(rows("lead_time_p50_hours", "search", _step(10, 0.5, seed=1)))
    assert [(f.kind, f.direction) for f in faster.findings] == [("improvement", "down")]

    # the same upward move is an improvement for a metric where higher is better
    more = _detect(rows("deployment_frequency", "search", _step(10, 1.6, seed=1)))
    assert [(f.kind, f.direction) for f in more.findings] == [("improvement", "up")]


def test_no_change_and_a_single_odd_week_raise_nothing() -> None:
    assert _detect(rows("lead_time_p50_hours", "a", noisy(10, 25, seed=3))).findings == []
    blip = [*noisy(10, 24, seed=4), 30.0]  # one terrible week: not a trend (confirmation needs two)
    assert _detect(rows("lead_time_p50_hours", "a", blip)).findings == []


def test_minimum_sample_size_silences_thin_data() -> None:
    values = _step(10, 1.8, seed=5)
    assert _detect(rows("lead_time_p50_hours", "a", values, sample=20)).findings
    thin = _detect(rows("lead_time_p50_hours", "a", values, sample=1))  # 4 PRs in the recent window < 10
    assert thin.findings == []
    [evaluation] = thin.evaluations.values()
    assert evaluation.status == "insufficient" and "min_sample_size 10" in evaluation.reason


def test_too_few_weeks_is_insufficient_not_a_finding() -> None:
    result = _detect(rows("lead_time_p50_hours", "a", [10.0, 10.0, 30.0, 31.0]))
    [evaluation] = result.evaluations.values()
    assert result.findings == [] and evaluation.status == "insufficient"


def test_practical_threshold_ignores_clear_but_small_changes() -> None:
    values = _step(10, 1.15, seed=6, cv=0.02)  # +15 %: statistically clear with 2 % noise, but below 25 %
    strict = _detect(rows("lead_time_p50_hours", "a", values))
    [evaluation] = strict.evaluations.values()
    assert evaluation.level.p_up < 0.01, "the change is statistically clear"
    assert strict.findings == []
    loose = {**CATALOG, "lead_time_p50_hours": replace(LEAD_TIME, practical_threshold=0.10)}
    assert [f.kind for f in _detect(rows("lead_time_p50_hours", "a", values), catalog=loose).findings] == ["regression"]


def test_absolute_threshold_for_rates() -> None:
    values = [0.05] * 20 + [0.12] * 5  # +7 percentage points
    [finding] = _detect(rows("change_failure_rate", "a", values)).findings
    assert finding.kind == "regression"
    assert abs(finding.components[0].signed_change(0.12) - 0.07) < 1e-9
    small = [0.05] * 20 + [0.08] * 5  # +3 pp < 5 pp threshold
    assert _detect(rows("change_failure_rate", "a", small)).findings == []


def test_slow_drift_is_found_by_the_trend_test() -> None:
    drift = [10 * (1 + 0.04 * i) for i in range(26)]  # +4 %/week, never a step
    drift = [v * f for v, f in zip(drift, noisy(1, 26, seed=7, cv=0.03), strict=True)]
    [finding] = _detect(rows("lead_time_p50_hours", "a", drift)).findings
    assert finding.test == "trend" and finding.kind == "regression"
    assert finding.evidence["mann_kendall_p_up"] < 0.002


def test_alert_scopes_limit_what_is_evaluated() -> None:
    series = rows("lead_time_p50_hours", "payments-api", _step(10, 2, seed=8), scope_type="service")
    assert _detect(series).evaluations == {}, "lead time alerts on teams only"


def test_paired_rule_fires_and_replaces_its_components() -> None:
    deploys = rows("deployment_frequency", "payments", _step(8, 2.0, seed=9))
    failures = rows("change_failure_rate", "payments", [0.05] * 20 + [0.2] * 5)
    result = _detect(deploys + failures, rules=[SPEED_WITHOUT_STABILITY])
    assert [(f.kind, f.metric, f.rule) for f in result.findings] == [
        ("paired", "deployment_frequency+change_failure_rate", "speed_without_stability")
    ]
    [pair] = result.findings
    assert {c.metric for c in pair.components} == {"deployment_frequency", "change_failure_rate"}
    assert set(pair.evidence) >= {"deployment_frequency", "change_failure_rate", "rule_description"}

    keep = replace(SPEED_WITHOUT_STABILITY, suppress_components=False)
    kinds = sorted(f.kind for f in _detect(deploys + failures, rules=[keep]).findings)
    assert kinds == ["improvement", "paired", "regression"]


def test_paired_rule_needs_both_metrics_in_the_same_scope() -> None:
    deploys = rows("deployment_frequency", "payments", _step(8, 2.0, seed=9))
    flat_failures = rows("change_failure_rate", "payments", [0.05] * 25)
    other_team = rows("change_failure_rate", "search", [0.05] * 20 + [0.2] * 5)
    result = _detect(deploys + flat_failures + other_team, rules=[SPEED_WITHOUT_STABILITY])
    assert sorted((f.kind, f.scope_key) for f in result.findings) == [
        ("improvement", "payments"),
        ("regression", "search"),
    ]


def test_evidence_carries_values_baseline_and_test() -> None:
    values = _step(10, 1.8, seed=10)
    [finding] = _detect(rows("lead_time_p50_hours", "a", values)).findings
    evidence = finding.evidence
    assert [v for _, v, _ in evidence["recent"]] == [round(float(f"{v:.6g}"), 6) for v in values[-4:]]
    assert len(evidence["baseline"]) == 12
    assert evidence["test"] in ("level_shift", "trend") and evidence["p_value"] <= 0.01
    assert evidence["baseline_median"] < evidence["recent_median"]
    assert evidence["robust_z"] > 1


def test_inactive_and_unknown_metrics_are_skipped() -> None:
    catalog = {**CATALOG, "lead_time_p50_hours": replace(LEAD_TIME, active=False)}
    series = rows("lead_time_p50_hours", "a", _step(10, 2, seed=11)) + rows("unknown", "a", _step(10, 2, seed=11))
    assert _detect(series, catalog=catalog).evaluations == {}


def test_deployment_frequency_and_failure_rate_defaults_exist_in_catalogue() -> None:
    assert DEPLOY_FREQUENCY.better_direction == "up" and CHANGE_FAILURE_RATE.threshold_type == "absolute"
