"""The whole dbt project builds, and its tests pass, on a warehouse where no source has loaded anything yet.

That is the state of every source a company does not configure (see ingestion/catalog.py) and of a first run;
the unifying marts (deployments from GitHub, GitLab and Jenkins...) must not depend on every source existing.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.catalog import RAW_TABLES, ensure_raw_tables
from tests.dbt_run import dbt_build


def test_dbt_build_passes_on_empty_raw_tables(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_tables(con)
        ensure_raw_tables(con)  # idempotent
        schemas = {s for (s,) in con.execute("select distinct schema_name from duckdb_tables()").fetchall()}
    assert {t.schema for t in RAW_TABLES} | {"raw_billing", "meta"} <= schemas

    result = dbt_build(warehouse, tmp_path, "--exclude", "test_type:unit")  # unit tests read no warehouse data
    assert result.returncode == 0, result.stdout[-6000:]
    assert "ERROR=0" in result.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_ci_runs").fetchone() == (0,)
