"""The alerts `techledger demo` raises on the simulated company: the stories' trends, and (almost) nothing else.

tests/orchestration/test_demo.py runs the demo a second time and asserts the alerts tables do not change (no
duplicate alert, event or delivery); here the first run's alerts are checked against the stories.
"""

from __future__ import annotations

import duckdb

from tests.conftest import DemoRun

PAIRED = "deployment_frequency+change_failure_rate"


def _alerts(demo_run: DemoRun) -> dict[tuple[str, str, str, str], str]:
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        rows = con.execute("select metric, scope_type, scope_key, kind, status from alerts.alerts").fetchall()
    return {(m, st, sk, k): status for m, st, sk, k, status in rows}


def _story(demo_run: DemoRun, story_id: str):
    return demo_run.company().stories.get(story_id)


def test_every_story_trend_raises_its_alert(demo_run: DemoRun) -> None:
    alerts = _alerts(demo_run)
    payments = _story(demo_run, "payments_deploys_and_failures_rise").team_key
    search = _story(demo_run, "search_review_pickup_slows").team_key
    platform = _story(demo_run, "platform_incident_recovery_improves").team_key
    vector_category = _story(demo_run, "vector_db_appears_on_bill").params["business_category"]
    expected = {
        (PAIRED, "team", payments, "paired"),  # ships more often while breaking production more often
        ("review_pickup_p50_hours", "team", search, "regression"),
        ("time_to_restore_p50_hours", "team", platform, "improvement"),  # to celebrate
        ("cost_effective_usd", "cost_category", vector_category, "regression"),  # the new capability on the bill
    }
    missing = expected - alerts.keys()
    assert not missing, f"story alerts not raised: {missing}; raised: {sorted(alerts)}"
    # the paired rule replaces the two single-metric alerts it combines
    assert ("deployment_frequency", "team", payments, "improvement") not in alerts
    assert ("change_failure_rate", "team", payments, "regression") not in alerts


def test_at_most_one_alert_beyond_the_stories_is_announced(demo_run: DemoRun) -> None:
    """Announced = an event queued for the sinks. A trend that opened and resolved within the demo's catch-up
    over past weeks is recorded but not announced (old news)."""
    payments = _story(demo_run, "payments_deploys_and_failures_rise").team_key
    story_scopes = {
        (PAIRED, payments),
        ("review_pickup_p50_hours", _story(demo_run, "search_review_pickup_slows").team_key),
        ("time_to_restore_p50_hours", _story(demo_run, "platform_incident_recovery_improves").team_key),
        ("cost_effective_usd", _story(demo_run, "vector_db_appears_on_bill").params["business_category"]),
    }
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        announced = con.execute(
            """
            select distinct a.metric, a.scope_key
            from alerts.alerts as a
            join alerts.events as e using (fingerprint)
            join alerts.outbox as o using (event_id)
            """
        ).fetchall()
        duplicates = con.execute(
            "select event_id, sink, count(*) from alerts.outbox group by all having count(*) > 1"
        ).fetchall()
    others = set(announced) - story_scopes
    assert len(others) <= 1, f"alerts beyond the stories: {others}"
    assert story_scopes <= set(announced)
    assert not duplicates
