"""The whole dbt project builds, and its tests pass, on a warehouse where no source has loaded anything yet.

That is the state of every source a company does not configure (see ingestion/catalog.py) and of a first run;
the unifying marts (deployments from GitHub, GitLab and Jenkins...) must not depend on every source existing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from ingestion.catalog import RAW_TABLES, ensure_raw_tables

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"


def test_dbt_build_passes_on_empty_raw_tables(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_tables(con)
        ensure_raw_tables(con)  # idempotent
        schemas = {s for (s,) in con.execute("select distinct schema_name from duckdb_tables()").fetchall()}
    assert {t.schema for t in RAW_TABLES} | {"raw_billing", "meta"} <= schemas

    env = {**os.environ, "TECHLEDGER_WAREHOUSE": str(warehouse)}
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "build",
            "--profiles-dir",
            str(DBT_PROJECT),
            "--project-dir",
            str(DBT_PROJECT),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
            # the unit tests do not read the warehouse's data (every other dbt build runs them)
            "--exclude",
            "test_type:unit",
        ],
        cwd=DBT_PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    assert "ERROR=0" in result.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_ci_runs").fetchone() == (0,)
