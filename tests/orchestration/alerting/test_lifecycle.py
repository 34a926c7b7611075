"""Alert lifecycle through the engine on a DuckDB file: opened once, escalated, resolved, never repeated."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.alerting.engine import open_alert_lines, run_tick, weeks_to_evaluate
from orchestration.alerting.sinks import LogSink
from orchestration.config import AlertsConfig
from tests.orchestration.alerting.series import CATALOG, MONDAY, noisy, rows, write_catalog, write_series

NOW = datetime(2026, 7, 1, 9, tzinfo=UTC)
CONFIG = AlertsConfig(paired_rules=[])


def lead_time(values: list[float]) -> list[tuple]:
    return rows("lead_time_p50_hours", "search", values)


def tick(con: duckdb.DuckDBPyConnection, values: list[float], now: datetime = NOW):
    write_series(con, lead_time(values))
    return run_tick(con, CONFIG, [LogSink()], now)


def events(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select event_type, severity, occurrence from alerts.events order by period, event_id"
    ).fetchall()


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    write_catalog(connection, CATALOG.values())
    yield connection
    connection.close()


BASE = noisy(10, 20, seed=21, cv=0.05)
WORSE = noisy(14, 5, seed=22, cv=0.05)  # +40 %: 1.6x the 25 % threshold -> severity 1
MUCH_WORSE = noisy(30, 5, seed=23, cv=0.05)  # +200 % of the opening baseline -> severity 3
BACK = noisy(10, 6, seed=24, cv=0.05)


def test_opened_once_and_not_repeated_on_the_same_data(con: duckdb.DuckDBPyConnection) -> None:
    first = tick(con, BASE + WORSE)
    assert (first.opened, first.escalated, first.resolved) == (1, 0, 0)
    assert first.delivered == 1 and first.pending == 0
    again = tick(con, BASE + WORSE, NOW + timedelta(hours=1))
    assert (again.opened, again.escalated, again.resolved, again.delivered) == (0, 0, 0, 0)
    assert events(con) == [("opened", 1, 1)]
    [(status, kind, severity, components)] = con.execute(
        "select status, kind, severity, components from alerts.alerts"
    ).fetchall()
    assert (status, kind, severity) == ("open", "regression", 1)
    assert json.loads(components)[0]["baseline_value"] == pytest.approx(sorted(BASE[-12:])[5:7][0], rel=0.1)
    assert con.execute("select count(*) from alerts.outbox").fetchone()[0] == 1
    [line] = open_alert_lines(con)
    assert line.startswith("[regression, since week") and "lead_time_p50_hours up" in line


def test_escalates_when_worse_then_resolves_when_back(con: duckdb.DuckDBPyConnection) -> None:
    tick(con, BASE + WORSE)
    worse = tick(con, BASE + WORSE + MUCH_WORSE, NOW + timedelta(weeks=5))
    # evaluated week by week: the recent median climbs through 2x and then 4x the threshold
    assert (worse.opened, worse.escalated) == (0, 2)
    assert con.execute("select severity, status from alerts.alerts").fetchone() == (3, "open")

    same = tick(con, BASE + WORSE + MUCH_WORSE, NOW + timedelta(weeks=5, hours=1))
    assert (same.opened, same.escalated, same.resolved) == (0, 0, 0)

    back = tick(con, BASE + WORSE + MUCH_WORSE + BACK, NOW + timedelta(weeks=11))
    assert (back.opened, back.escalated, back.resolved) == (0, 0, 1), "a return to normal is no improvement"
    assert con.execute("select status from alerts.alerts").fetchone() == ("resolved",)
    assert events(con) == [("opened", 1, 1), ("escalated", 2, 1), ("escalated", 3, 1), ("resolved", 3, 1)]
    delivered = "select count(*), count(distinct event_id) from alerts.outbox where status = 'delivered'"
    assert con.execute(delivered).fetchone() == (4, 4), "every event delivered exactly once to the one sink"


def test_a_new_regression_after_resolution_is_the_next_occurrence(con: duckdb.DuckDBPyConnection) -> None:
    tick(con, BASE + WORSE)
    history = BASE + WORSE + BACK + noisy(10, 14, seed=25, cv=0.05)
    tick(con, history[:31], NOW + timedelta(weeks=6))
    tick(con, history, NOW + timedelta(weeks=20))
    assert con.execute("select status, occurrence from alerts.alerts").fetchone() == ("resolved", 1)
    again = tick(con, history + noisy(15, 5, seed=26, cv=0.05), NOW + timedelta(weeks=25))
    assert again.opened == 1
    assert con.execute("select status, occurrence from alerts.alerts").fetchone() == ("open", 2)
    assert [e for e in events(con) if e[0] == "opened"] == [("opened", 1, 1), ("opened", 1, 2)]


def test_catch_up_evaluates_the_weeks_since_the_last_run(con: duckdb.DuckDBPyConnection) -> None:
    tick(con, BASE)
    assert [w for (w,) in con.execute("select period_start from alerts.evaluations order by 1").fetchall()] == [
        MONDAY + timedelta(weeks=w) for w in range(12, 20)
    ]
    later = tick(con, BASE + WORSE, NOW + timedelta(weeks=5))
    assert later.weeks_evaluated == [MONDAY + timedelta(weeks=w) for w in range(20, 25)]
    assert weeks_to_evaluate(MONDAY, MONDAY, 8) == [MONDAY], "the latest week is always evaluated again"


def test_missing_tables_skip_evaluation_with_a_reason(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
        summary = run_tick(con, CONFIG, [LogSink()], NOW)
        assert not summary.evaluated and "marts.metric_catalog does not exist" in summary.skipped_reason
        write_catalog(con, CATALOG.values())
        summary = run_tick(con, CONFIG, [LogSink()], NOW)
        assert "marts.metric_series does not exist" in summary.skipped_reason


def test_more_active_metrics_than_the_cap_warns(con: duckdb.DuckDBPyConnection) -> None:
    write_series(con, lead_time(BASE))
    summary = run_tick(con, AlertsConfig(max_active_metrics=2, paired_rules=[]), [LogSink()], NOW)
    assert summary.active_metrics == 3
    assert any("3 metrics are active" in w and "max_active_metrics is 2" in w for w in summary.warnings)
    assert not run_tick(con, CONFIG, [LogSink()], NOW).warnings


def test_an_alert_over_within_one_catch_up_is_recorded_but_not_sent(con: duckdb.DuckDBPyConnection) -> None:
    write_series(con, lead_time(BASE + WORSE + BACK))  # opens and resolves inside the 11 weeks caught up
    summary = run_tick(con, AlertsConfig(paired_rules=[], catch_up_weeks=11), [LogSink()], NOW)
    assert (summary.opened, summary.resolved, summary.delivered) == (1, 1, 0)
    assert con.execute("select count(*) from alerts.outbox").fetchone()[0] == 0
