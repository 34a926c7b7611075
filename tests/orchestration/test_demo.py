"""`techledger demo` end to end, twice: the second run changes nothing (idempotent incremental sync)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.config import PROJECT_ROOT

LINEAGE_COLUMNS = {"_ingested_at", "_sync_id"}  # when/which sync wrote a row: expected to change


def _run_demo(data_dir: Path) -> str:
    env = {**os.environ, "TECHLEDGER_DATA_DIR": str(data_dir)}
    env.pop("TECHLEDGER_CONFIG", None)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "techledger"), "demo", "--scale", "0.3"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


def _snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every raw and mart table's rows, minus the columns that record when a row was written."""
    snapshot = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where schema_name like 'raw_%' or schema_name = 'marts' order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
                    "order by column_index",
                    [schema, table],
                ).fetchall()
                if c not in LINEAGE_COLUMNS
            ]
            select = ", ".join(f'"{c}"::varchar' for c in columns)
            snapshot[f"{schema}.{table}"] = con.execute(
                f'select {select} from "{schema}"."{table}" order by all'
            ).fetchall()
    return snapshot


@pytest.mark.slow
def test_demo_twice_leaves_identical_raw_and_mart_tables(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first_output = _run_demo(data_dir)
    assert "headline:" in first_output and "analytics.duckdb" in first_output
    first = _snapshot(data_dir / "warehouse.duckdb")
    assert first["raw_github.pull_requests"] and first["marts.fct_pull_requests"]

    _run_demo(data_dir)
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
