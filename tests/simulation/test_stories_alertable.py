"""A story only tests the alerts if its signal clears the catalogue's thresholds whatever day the demo runs.

`make demo` anchors the simulated company at today, so every day is a different draw of the same story. Here the
payments story (deployment frequency and change failure rate rise together) is measured from the generator's own
records, the way the marts measure it (tests/marts/test_delivery_ground_truth.py checks that they agree), and
run through the shipped detector (seed catalogue, default alert settings and paired rule) at anchors spread over
months and weekdays: the paired alert must be raised at each one. The full pipeline is exercised on one anchor
by tests/marts/test_alert_stories.py.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from orchestration.alerting.catalog import load_catalog_csv
from orchestration.alerting.detection import Point, detect
from orchestration.alerting.engine import detection_settings, paired_rules
from orchestration.config import PROJECT_ROOT, AlertsConfig
from simulation.company import generate_company

CATALOG = load_catalog_csv(PROJECT_ROOT / "dbt_project" / "seeds" / "metric_definitions.csv")
ANCHORS = [datetime(2026, 11, 25, tzinfo=UTC) - timedelta(days=17 * k) for k in range(6)]  # Mar-Nov, every weekday


def _monday(moment: datetime) -> date:
    return moment.date() - timedelta(days=moment.weekday())


def _payments_weekly_series(anchor: datetime) -> tuple[dict, date]:
    """deployment_frequency and change_failure_rate of the payments team per complete week, from the generator:
    production deployments finished by the company's clock; a change failure is a failed deployment or one that
    caused an incident (the definition of marts.fct_deployments.is_change_failure)."""
    company = generate_company(seed=42, scale=1.0, anchor=anchor, history_days=180)
    model = company.delivery
    story = company.stories.get("payments_deploys_and_failures_rise")
    deployments, successes, failures = Counter(), Counter(), Counter()
    for service in model.services():
        if service.team_key != story.team_key:
            continue
        for d in model.deployments(service.name):
            if d.environment != "production" or d.finished_at > company.now:
                continue
            week = _monday(d.finished_at)
            deployments[week] += 1
            successes[week] += d.result == "success"
            failures[week] += d.result == "failure" or d.incident_id is not None
    last_complete = _monday(company.now) - timedelta(weeks=1)
    weeks = sorted(w for w in deployments if w <= last_complete)
    series = {
        ("deployment_frequency", "team", story.team_key): [Point(w, successes[w], deployments[w]) for w in weeks],
        ("change_failure_rate", "team", story.team_key): [
            Point(w, failures[w] / deployments[w], deployments[w]) for w in weeks
        ],
    }
    return series, last_complete


@pytest.mark.parametrize("anchor", ANCHORS, ids=[a.date().isoformat() for a in ANCHORS])
def test_payments_story_raises_the_paired_alert_on_any_day(anchor: datetime) -> None:
    series, as_of = _payments_weekly_series(anchor)
    config = AlertsConfig()
    result = detect(series, CATALOG, detection_settings(config), paired_rules(config), as_of=as_of)
    found = [(f.kind, f.metric) for f in result.findings]
    assert found == [("paired", "deployment_frequency+change_failure_rate")], found
