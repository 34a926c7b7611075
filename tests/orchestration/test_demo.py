"""`techledger demo` end to end, twice: the second run changes nothing (idempotent incremental sync, no alert
raised or delivered twice)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import DemoRun, run_demo

# when/which run wrote a row: expected to change (the alert engine re-evaluates the latest week on every run and
# records when; nothing it found changes)
LINEAGE_COLUMNS = {"_ingested_at", "_sync_id", "evaluated_at"}


def _snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every raw and mart table's rows, minus the columns that record when a row was written (floats to 1e-9)."""
    snapshot = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where schema_name like 'raw_%' or schema_name in ('marts', 'alerts') order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            columns = [
                (c, data_type)
                for (c, data_type) in con.execute(
                    "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ? "
                    "order by column_index",
                    [schema, table],
                ).fetchall()
                if c not in LINEAGE_COLUMNS
            ]
            # DuckDB adds doubles in whatever order its threads deliver them: the last bits of a float sum may
            # differ between two builds of the same data, which is not a change of the data.
            select = ", ".join(
                f'round("{c}", 9)::varchar' if data_type in ("DOUBLE", "FLOAT") else f'"{c}"::varchar'
                for c, data_type in columns
            )
            snapshot[f"{schema}.{table}"] = con.execute(
                f'select {select} from "{schema}"."{table}" order by all'
            ).fetchall()
    return snapshot


@pytest.mark.slow
def test_demo_twice_leaves_identical_raw_and_mart_tables(demo_run: DemoRun) -> None:
    data_dir = demo_run.data_dir
    assert "headline:" in demo_run.output and "analytics.duckdb" in demo_run.output
    # the leader's sections of the summary, each read from its mart
    assert "delivery, last 4 complete weeks" in demo_run.output
    assert "flakiest CI job: acme/checkout-service ci/integration-tests" in demo_run.output
    assert "largest savings" in demo_run.output and "dev-cluster-eu-west-2" in demo_run.output
    first = _snapshot(data_dir / "warehouse.duckdb")
    assert first["raw_github.pull_requests"] and first["marts.fct_pull_requests"]

    run_demo(data_dir)
    second = _snapshot(data_dir / "warehouse.duckdb")
    assert second.keys() == first.keys()
    for table in first:
        assert len(second[table]) == len(first[table]), table
        assert second[table] == first[table], f"{table} changed on the second demo run"

    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        runs = con.execute(
            "select count(*), count(distinct scope), sum(requests) filter (where started_at = last_start) "
            "from (select *, max(started_at) over (partition by scope) as last_start from meta.sync_runs "
            "where source = 'github' and stream = 'pull_requests')"
        ).fetchone()
    # two pull-request syncs per repository; the second (incremental) one needs very few requests
    assert runs[0] == 2 * runs[1]
    assert runs[2] <= 3 * runs[1]
