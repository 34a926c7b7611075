"""The summary printed after a demo or run: where the data is, and what a leader would look at first.

Everything is read from the published copy (``analytics.duckdb``), the way an analyst would, except the alerts,
which live in the warehouse's ``alerts`` schema. Each section is optional: a source that is not configured, or a
mart that is empty, leaves its section out instead of failing the summary.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb


def table_counts(path: Path, schemas: tuple[str, ...] | None = None) -> dict[str, int]:
    """Row count of every table in the file, as {"schema.table": rows}; ``schemas`` keeps only the schemas
    named (a name ending in ``*`` is a prefix, e.g. ``raw_*``)."""
    counts: dict[str, int] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database() order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            if schemas is None or any(
                schema == wanted or (wanted.endswith("*") and schema.startswith(wanted[:-1])) for wanted in schemas
            ):
                counts[f"{schema}.{table}"] = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
    return counts


def headline(analytics_path: Path) -> str:
    """Median time to merge over the last 30 days of data, read from the published copy like an analyst would."""
    with duckdb.connect(str(analytics_path), read_only=True) as con:
        merged, median_hours, p85_hours = con.execute(
            """
            with recent as (
                select * from marts.fct_pull_requests
                where is_merged and not is_author_bot
                  and merged_at >= (select max(merged_at) from marts.fct_pull_requests) - interval 30 day
            )
            select count(*), median(hours_to_merge), quantile_cont(hours_to_merge, 0.85) from recent
            """
        ).fetchone()
    if not merged:
        return "No pull request merged in the last 30 days of data."
    return (
        f"{merged} pull requests merged in the last 30 days; time to merge median {median_hours:.1f} h, "
        f"p85 {p85_hours:.1f} h (bots excluded)."
    )


def _fmt(value: float | None, pattern: str = "{:.1f}") -> str:
    return "-" if value is None else pattern.format(value)


def delivery_section(con: duckdb.DuckDBPyConnection) -> list[str]:
    """DORA per team over the last 4 complete weeks of data (medians of the weekly values; rates pooled)."""
    rows = con.execute(
        """
        with weeks as (
            select * from marts.metrics_delivery_weekly
            where scope_type in ('team', 'org')
              and period_start > (select max(period_start) from marts.metrics_delivery_weekly) - interval 5 week
              and period_start < (select max(period_start) from marts.metrics_delivery_weekly)
        )
        select scope_key,
               avg(deployments_count),
               sum(change_failures_count) / nullif(sum(production_deployments_count), 0),
               median(lead_time_hours_p50),
               median(pickup_hours_p50),
               median(time_to_restore_hours_p50),
               sum(flaky_runs) / nullif(sum(ci_runs), 0)
        from weeks group by scope_key order by scope_key = 'org', scope_key
        """
    ).fetchall()
    if not rows:
        return []
    lines = [
        "  delivery, last 4 complete weeks (marts.metrics_delivery_weekly):",
        f"    {'team':<16}{'deploys/wk':>11}{'CFR':>8}{'lead p50 h':>12}{'pickup p50 h':>14}"
        f"{'restore p50 h':>15}{'flaky CI':>10}",
    ]
    for team, deploys, cfr, lead, pickup, restore, flaky in rows:
        lines.append(
            f"    {team:<16}{_fmt(deploys):>11}{_fmt(cfr, '{:.0%}'):>8}{_fmt(lead):>12}{_fmt(pickup):>14}"
            f"{_fmt(restore):>15}{_fmt(flaky, '{:.0%}'):>10}"
        )
    return lines


def ci_section(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The job that wastes the most runner minutes on flaky failures."""
    row = con.execute(
        """
        select repo, workflow_name, job_name, sum(runner_minutes_lost), count(*) filter (where is_flaky)
        from marts.fct_ci_jobs group by all having sum(runner_minutes_lost) > 0 order by 4 desc limit 1
        """
    ).fetchone()
    if not row:
        return []
    repo, workflow, job, minutes, flaky = row
    return [f"  flakiest CI job: {repo} {workflow}/{job}: {flaky} flaky failures, {minutes:,.0f} runner minutes lost"]


def cost_section(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Last complete month's effective cost per category, with the change and its largest driver."""
    rows = con.execute(
        """
        with month as (  -- the last month the bill covers to its last day
            select max(month_start) as m from marts.cost_by_category_monthly
            where month_start + interval 1 month <= (select max(charge_date) from marts.fct_cost_daily) + interval 1 day
        ),
        drivers as (
            select business_category, driver, amount,
                   row_number() over (partition by business_category order by abs(amount) desc) as r
            from marts.cost_variance_monthly where month_start = (select m from month)
        )
        select c.month_start, c.business_category, c.effective_cost, c.effective_cost_change, d.driver,
               d.amount, c.reporting_currency
        from marts.cost_by_category_monthly as c
        left join drivers as d on d.business_category = c.business_category and d.r = 1
        where c.month_start = (select m from month) and c.effective_cost <> 0
        order by c.effective_cost desc
        """
    ).fetchall()
    if not rows:
        return []
    month, currency = rows[0][0], rows[0][6]
    lines = [
        f"  cost, {month:%Y-%m} ({currency}, effective: bill + people + CI minutes; marts.cost_by_category_monthly"
        " / cost_variance_monthly):"
    ]
    for _, category, cost, change, driver, amount, _ in rows:
        why = f"  largest driver: {driver} {amount:+,.0f}" if driver and amount else ""
        lines.append(f"    {category:<16}{cost:>12,.0f}  change {_fmt(change, '{:+,.0f}'):>10}{why}")
    savings = con.execute(
        """
        select kind, target, estimated_monthly_saving from marts.savings_opportunities
        where not is_risk_only order by estimated_monthly_saving desc limit 3
        """
    ).fetchall()
    if savings:
        lines.append("  largest savings (marts.savings_opportunities):")
        lines += [f"    {kind:<26}{target:<50}{saving:>10,.0f} / month" for kind, target, saving in savings]
    return lines


def alerts_section(warehouse: Path) -> list[str]:
    """The open alerts (the engine's own table, in the warehouse: alerts are not published)."""
    from orchestration.alerting.engine import open_alert_lines

    with duckdb.connect(str(warehouse), read_only=True) as con:
        lines = open_alert_lines(con)
    if not lines:
        return ["  alerts: none open", ""]
    return (
        [f"  alerts open ({len(lines)}; alerts.alerts, delivered to the configured sinks):"]
        + [f"    {line}" for line in lines]
        + [""]
    )


def _section(analytics: Path, build: Callable[[duckdb.DuckDBPyConnection], list[str]]) -> list[str]:
    try:
        with duckdb.connect(str(analytics), read_only=True) as con:
            lines = build(con)
    except duckdb.CatalogException:  # the mart is not built (its source is not configured): no section
        return []
    return [*lines, ""] if lines else []


def render(data_dir: Path) -> str:
    warehouse = data_dir / "warehouse.duckdb"
    analytics = data_dir / "analytics.duckdb"
    lines = [
        "techledger summary",
        f"  warehouse (pipeline writes here):   {warehouse}",
        f"  analytics copy (query this):        {analytics}",
        f"  parquet exports:                    {data_dir / 'parquet'}",
        "",
        "  rows:",
    ]
    for name, rows in table_counts(warehouse, ("raw_*", "meta")).items():
        lines.append(f"    {name:<40} {rows:>10,}")
    marts = table_counts(analytics, ("marts",))
    lines.append(f"    {'marts (' + str(len(marts)) + ' tables)':<40} {sum(marts.values()):>10,}")
    lines += ["", f"  headline: {headline(analytics)}", ""]
    for build in (delivery_section, ci_section, cost_section):
        lines += _section(analytics, build)
    lines += alerts_section(warehouse)
    lines.append(
        f"  try: .venv/bin/python -c \"import duckdb; print(duckdb.connect('{analytics}', read_only=True)"
        f".sql('select * from marts.metrics_delivery_weekly where scope_type = \\'team\\' limit 5'))\""
    )
    return "\n".join(lines)
