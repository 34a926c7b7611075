"""The summary printed after a demo or run: where the data is, how much of it, and one headline figure."""

from __future__ import annotations

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
    for name, rows in table_counts(warehouse, ("raw_*", "marts", "meta")).items():
        lines.append(f"    {name:<40} {rows:>10,}")
    lines += ["", f"  headline: {headline(analytics)}", ""]
    lines.append(
        f"  try: .venv/bin/python -c \"import duckdb; print(duckdb.connect('{analytics}', read_only=True)"
        f".sql('select * from marts.fct_pull_requests limit 5'))\""
    )
    return "\n".join(lines)
