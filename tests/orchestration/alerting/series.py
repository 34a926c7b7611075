"""Building blocks for alert tests: catalogue rows and weekly metric series, in memory or as the marts tables
the engine reads (the metric_series contract: metric, scope_type, scope_key, period_start, value, sample_size)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, timedelta

import duckdb

from orchestration.alerting.catalog import CATALOG_COLUMNS, MetricDefinition

MONDAY = date(2026, 1, 5)

LEAD_TIME = MetricDefinition(
    metric="lead_time_p50_hours",
    description="Median hours from first commit to production.",
    why_it_exists="How long finished work waits.",
    owner="Engineering managers",
    better_direction="down",
    unit="hours",
    min_sample_size=10,
    practical_threshold=0.25,
    threshold_type="relative",
    alert_scopes=("team",),
    review_cadence="weekly",
    active=True,
)
DEPLOY_FREQUENCY = replace(
    LEAD_TIME,
    metric="deployment_frequency",
    description="Production deployments per week.",
    why_it_exists="Throughput.",
    better_direction="up",
    unit="deployments per week",
    min_sample_size=8,
    practical_threshold=0.30,
)
CHANGE_FAILURE_RATE = replace(
    LEAD_TIME,
    metric="change_failure_rate",
    description="Share of deployments that failed in production.",
    why_it_exists="Instability.",
    unit="ratio",
    practical_threshold=0.05,
    threshold_type="absolute",
)
CATALOG = {d.metric: d for d in (LEAD_TIME, DEPLOY_FREQUENCY, CHANGE_FAILURE_RATE)}


def weeks(n: int, start: date = MONDAY) -> list[date]:
    return [start + timedelta(weeks=i) for i in range(n)]


def noisy(level: float, n: int, seed: int, cv: float = 0.08) -> list[float]:
    rng = random.Random(seed)
    return [level * (1 + rng.gauss(0, cv)) for _ in range(n)]


def rows(
    metric: str, scope_key: str, values: Sequence[float | None], sample: int = 20, scope_type: str = "team"
) -> list[tuple]:
    return [
        (metric, scope_type, scope_key, week, value, sample)
        for week, value in zip(weeks(len(values)), values, strict=True)
    ]


def write_catalog(con: duckdb.DuckDBPyConnection, definitions: Iterable[MetricDefinition]) -> None:
    con.execute("create schema if not exists marts")
    con.execute(
        "create or replace table marts.metric_catalog (metric varchar, description varchar, why_it_exists varchar, "
        "owner varchar, better_direction varchar, unit varchar, min_sample_size integer, practical_threshold double, "
        "threshold_type varchar, alert_scopes varchar, review_cadence varchar, active boolean)"
    )
    for d in definitions:
        values = {**d.__dict__, "alert_scopes": "|".join(d.alert_scopes)}
        con.execute(
            f"insert into marts.metric_catalog values ({', '.join('?' for _ in CATALOG_COLUMNS)})",
            [values[c] for c in CATALOG_COLUMNS],
        )


def write_series(con: duckdb.DuckDBPyConnection, series_rows: Iterable[tuple]) -> None:
    con.execute("create schema if not exists marts")
    con.execute(
        "create or replace table marts.metric_series (metric varchar, scope_type varchar, scope_key varchar, "
        "period_start date, value double, sample_size integer)"
    )
    con.executemany("insert into marts.metric_series values (?, ?, ?, ?, ?, ?)", list(series_rows))
