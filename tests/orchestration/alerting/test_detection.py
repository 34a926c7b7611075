"""Detection: direction, minimum sample, practical threshold, trend, confirmation, paired rules, evidence."""

from __future__ import annotations

from dataclasses import replace

from orchestration.alerting.detection import DetectionSettings, PairedRule, detect, group_points
from orchestration.alerting.messages import text_lines
from orchestration.alerting.stats import fisher_exact, mann_kendall, mann_whitney, share_test, theil_sen
from tests.orchestration.alerting.series import (
    CATALOG,
    CHANGE_FAILURE_RATE,
    DEPLOY_FREQUENCY,
    LEAD_TIME,
    noisy,
    rows,
    weeks,
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


def test_fisher_exact_against_hand_computed_values() -> None:
    # 3 of 10 recent vs 1 of 30 baseline: 4 events among 40 trials, the recent window draws 10 of them.
    # P(X >= 3) = [C(4,3)·C(36,7) + C(4,4)·C(36,6)] / C(40,10) = (4·8347680 + 1947792) / 847660528
    test = fisher_exact(3, 10, 1, 30)
    assert abs(test.p_up - 35338512 / 847660528) < 1e-12
    # P(X <= 3) = 1 - P(X = 4) = 1 - C(36,6) / C(40,10)
    assert abs(test.p_down - (1 - 1947792 / 847660528)) < 1e-12
    assert test.statistic == 3 - 10 * 4 / 40
    assert fisher_exact(0, 10, 0, 30).p_up == 1.0  # no events: nothing to say


def test_share_test_widens_for_clustered_failures() -> None:
    """Two baselines with the same pooled share, 10 in 100: evenly 1 per week, or clustered (0 most weeks, 5 in
    two). Recent: 9 in 40. Fisher's exact test sees the same counts both times; the dispersion-scaled z-test sees
    a baseline whose weeks scatter far more than coin flips would, and is less sure."""
    recent = [(2, 10), (2, 10), (3, 10), (2, 10)]
    even = share_test(recent, [(1, 10)] * 10)
    clustered = share_test(recent, [(0, 10)] * 8 + [(5, 10), (5, 10)])
    assert even.p_up == fisher_exact(9, 40, 10, 100).p_up  # no excess scatter: the exact test decides
    # Pearson's chi-square of the clustered baseline at share 0.1: 8 x (0 - 1)^2 / 0.9 + 2 x (5 - 1)^2 / 0.9 = 44.4,
    # over 9 degrees of freedom: dispersion 4.94; pooled share 19/140, se = sqrt(4.94 x p(1-p) x (1/40 + 1/100))
    pooled = 19 / 140
    z = (9 / 40 - 0.1) / (4.938271604938271 * pooled * (1 - pooled) * (1 / 40 + 1 / 100)) ** 0.5
    assert abs(clustered.z - z) < 1e-12
    assert clustered.p_up > even.p_up


def _weekly(metric: str, samples: list[tuple[float, int]]) -> list[tuple]:
    return [(metric, "team", "payments", week, v, n) for week, (v, n) in zip(weeks(len(samples)), samples, strict=True)]


def test_a_share_is_pooled_over_its_weeks_and_tested_on_counts() -> None:
    """change_failure_rate (unit ratio): 12 baseline weeks of 1 failure in 10 deployments, then two quiet weeks
    (1 in 10) and two busy ones (20 in 40). Pooled: 12/120 = 0.10 before, 42/100 = 0.42 now; the weekly median
    of the recent window would say 0.30, and weeks of 10 deployments weigh as much as weeks of 40."""
    samples = [(0.1, 10)] * 12 + [(0.1, 10), (0.5, 40), (0.1, 10), (0.5, 40)]
    result = _detect(_weekly("change_failure_rate", samples), settings=replace(SETTINGS, confirm_weeks=1))
    evaluation = result.evaluations[("change_failure_rate", "team", "payments")]
    assert abs(evaluation.recent_median - 0.42) < 1e-12 and abs(evaluation.baseline_median - 0.10) < 1e-12
    # the baseline weeks are all exactly 1 in 10 (no scatter): the dispersion is 1 and both tests agree it rose
    assert evaluation.level == share_test([(1, 10), (20, 40), (1, 10), (20, 40)], [(1, 10)] * 12)
    assert evaluation.level.p_up >= fisher_exact(42, 100, 12, 120).p_up  # never surer than the exact test
    [finding] = result.findings
    assert (finding.kind, finding.test) == ("regression", "level_shift")
    assert finding.evidence["level_statistic"] == "pooled share"
    assert finding.evidence["level_test"] == "share_test"

    # the same weekly values of a metric that is not a share: medians and the rank test
    as_hours = _detect(_weekly("lead_time_p50_hours", samples), settings=replace(SETTINGS, confirm_weeks=1))
    evaluation = as_hours.evaluations[("lead_time_p50_hours", "team", "payments")]
    assert abs(evaluation.recent_median - 0.30) < 1e-12 and evaluation.level == mann_whitney(
        [0.1, 0.5, 0.1, 0.5], [0.1] * 12
    )


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
    # a share: 100 deployments a week, 5 failing, then 12 (+7 percentage points)
    values = [0.05] * 20 + [0.12] * 5
    [finding] = _detect(rows("change_failure_rate", "a", values, sample=100)).findings
    assert finding.kind == "regression"
    # the recent window is the last 4 weeks, so the 12-week baseline holds one week at 12 %: (11 x 5 + 12) / 1200
    baseline = (11 * 5 + 12) / 1200
    assert abs(finding.components[0].baseline_value - baseline) < 1e-12
    assert abs(finding.components[0].signed_change(0.12) - (0.12 - baseline)) < 1e-12
    small = [0.05] * 20 + [0.08] * 5  # +3 pp < 5 pp threshold, however clear in the counts
    assert _detect(rows("change_failure_rate", "a", small, sample=100)).findings == []
    # the same +7 pp on 20 deployments a week (1 failure, then 2 or 3) is 10 in 100 against 12 in 240: not clear
    assert _detect(rows("change_failure_rate", "a", values, sample=20)).findings == []


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


def test_paired_rule_takes_in_the_improvements_of_its_story_not_regressions_or_other_scopes() -> None:
    """Deploying twice as often shortens payments' lead time: with absorbed_improvements, that improvement is
    said inside the pair's alert (its evidence) rather than celebrated alone; search's lead time improvement
    (no pair there) and a lead time regression in payments are alerts of their own."""
    deploys = rows("deployment_frequency", "payments", _step(8, 2.0, seed=9))
    failures = rows("change_failure_rate", "payments", [0.05] * 20 + [0.2] * 5, sample=100)
    faster = rows("lead_time_p50_hours", "payments", _step(40, 0.5, seed=12))
    search_faster = rows("lead_time_p50_hours", "search", _step(40, 0.5, seed=12))
    rule = replace(SPEED_WITHOUT_STABILITY, absorbed_improvements=("lead_time_p50_hours",))

    without = _detect(deploys + failures + faster, rules=[SPEED_WITHOUT_STABILITY])
    assert sorted((f.kind, f.metric) for f in without.findings) == [
        ("improvement", "lead_time_p50_hours"),
        ("paired", "deployment_frequency+change_failure_rate"),
    ]
    result = _detect(deploys + failures + faster + search_faster, rules=[rule])
    assert sorted((f.kind, f.scope_key) for f in result.findings) == [("improvement", "search"), ("paired", "payments")]
    pair = next(f for f in result.findings if f.kind == "paired")
    absorbed = pair.evidence["absorbed_improvements"]["lead_time_p50_hours"]
    assert absorbed["recent_median"] < absorbed["baseline_median"]
    message = {"title": "t", "summary": "s", "evidence": pair.evidence, "event_id": "e", "event_type": "opened"}
    lines = text_lines({**message, "occurred_at": "2026-02-02"})  # what the e-mail and the log say
    assert any(line.startswith("Part of the same story: lead_time_p50_hours improved (median ") for line in lines)

    slower = rows("lead_time_p50_hours", "payments", _step(40, 2.0, seed=12))
    kinds = sorted(f.kind for f in _detect(deploys + failures + slower, rules=[rule]).findings)
    assert kinds == ["paired", "regression"]


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
