"""Publishing: a read-only copy of the marts for analysts, and Parquet exports.

DuckDB lets one process write a file and blocks every other process, readers included, while it does. Analysts
therefore never open the live warehouse: after each successful build we write ``analytics.duckdb`` next to it
(built under a temporary name, then swapped in with an atomic rename, so a reader sees the old copy or the new
one, never half of one) and one Parquet file per mart under ``parquet/<schema>/<table>.parquet``.
Plain Python (no Dagster): the asset in ``orchestration/assets/publishing.py`` decides when it runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

PUBLISHED_SCHEMAS = ("marts",)
ANALYTICS_FILE = "analytics.duckdb"


@dataclass
class PublishResult:
    analytics_path: Path
    parquet_dir: Path
    tables: dict[str, int] = field(default_factory=dict)  # "schema.table" -> rows


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _published_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None]]:
    placeholders = ", ".join("?" for _ in PUBLISHED_SCHEMAS)
    return con.execute(
        f"""
        select schema_name, table_name, comment from duckdb_tables()
        where database_name = current_database() and schema_name in ({placeholders})
        union all
        select schema_name, view_name, comment from duckdb_views()
        where database_name = current_database() and schema_name in ({placeholders}) and not internal
        order by 1, 2
        """,
        [*PUBLISHED_SCHEMAS, *PUBLISHED_SCHEMAS],
    ).fetchall()


def publish(con: duckdb.DuckDBPyConnection, data_dir: Path) -> PublishResult:
    """Copy every mart into a fresh analytics.duckdb and export it as Parquet, replacing both atomically."""
    data_dir.mkdir(parents=True, exist_ok=True)
    final = data_dir / ANALYTICS_FILE
    staging = data_dir / f".{ANALYTICS_FILE}.building"
    parquet_dir = data_dir / "parquet"
    for leftover in (staging, Path(f"{staging}.wal")):
        leftover.unlink(missing_ok=True)

    result = PublishResult(analytics_path=final, parquet_dir=parquet_dir)
    tables = _published_tables(con)
    con.execute(f"attach {_literal(staging)} as published")
    try:
        for schema, table, comment in tables:
            source = f"{_quote(schema)}.{_quote(table)}"
            con.execute(f"create schema if not exists published.{_quote(schema)}")
            con.execute(f"create table published.{source} as select * from {source}")
            if comment:
                con.execute(f"comment on table published.{source} is {_literal(comment)}")
            _copy_column_comments(con, schema, table)
            rows = con.execute(f"select count(*) from published.{source}").fetchone()[0]
            result.tables[f"{schema}.{table}"] = rows
            _export_parquet(con, source, parquet_dir / schema / f"{table}.parquet")
    finally:
        con.execute("detach published")
    os.replace(staging, final)
    return result


def _copy_column_comments(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    """Carry dbt's column docs (persist_docs) over, so analysts see them in their SQL client."""
    rows = con.execute(
        """
        select column_name, comment from duckdb_columns()
        where database_name = current_database() and schema_name = ? and table_name = ? and comment is not null
        """,
        [schema, table],
    ).fetchall()
    for column, comment in rows:
        con.execute(
            f"comment on column published.{_quote(schema)}.{_quote(table)}.{_quote(column)} is {_literal(comment)}"
        )


def _export_parquet(con: duckdb.DuckDBPyConnection, source: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".parquet.partial")
    con.execute(f"copy (select * from {source}) to {_literal(partial)} (format parquet)")
    os.replace(partial, target)


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"
