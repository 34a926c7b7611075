"""One writer at a time: the duckdb_writer pool, and analysts reading the published copy during a write."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.config import PROJECT_ROOT, LoadedConfig
from orchestration.publishing import publish
from tests.orchestration.pool_jobs import ingest_and_publish_job


def test_multiprocess_run_of_two_writers_queues_on_the_pool(simulated_env: LoadedConfig, tmp_path: Path) -> None:
    # publishing copies whatever marts exist: one small mart is enough for it to run next to the ingestion writer
    simulated_env.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(simulated_env.warehouse_path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_pull_requests as select 1 as pull_request_id")

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")  # the shipped config
    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = dg.execute_job(dg.reconstructable(ingest_and_publish_job), instance=instance)
        messages = [record.message or "" for record in instance.all_logs(result.run_id)]
    errors = [m for m in messages if "lock" in m.lower() and "conflicting" in m.lower()]
    assert result.success, errors or messages[-5:]
    assert any("blocked by limit for pool duckdb_writer" in m for m in messages), (
        "the two writing steps did not queue on the pool"
    )


_HOLD_WRITE_TRANSACTION = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("begin transaction")
con.execute("create table if not exists scratch (x integer)")
con.execute("insert into scratch values (1)")
print("holding", flush=True)
sys.stdin.readline()
con.execute("rollback")
"""


def _make_warehouse(path: Path, rows: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.fct_example as select range as id from range(?)", [rows])
        con.execute("comment on table marts.fct_example is 'an example mart'")
        con.execute("comment on column marts.fct_example.id is 'the id'")


def test_analytics_copy_is_readable_while_another_process_writes_the_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _make_warehouse(warehouse, rows=3)
    with duckdb.connect(str(warehouse)) as con:
        result = publish(con, tmp_path)
    assert result.tables == {"marts.fct_example": 3}

    writer = subprocess.Popen(
        [sys.executable, "-c", _HOLD_WRITE_TRANSACTION, str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "holding"
        with pytest.raises(duckdb.IOException):  # the live file is locked, even for readers
            duckdb.connect(str(warehouse), read_only=True)
        with duckdb.connect(str(tmp_path / "analytics.duckdb"), read_only=True) as reader:
            assert reader.execute("select count(*) from marts.fct_example").fetchone()[0] == 3
            comment = reader.execute(
                "select comment from duckdb_columns() where table_name = 'fct_example' and column_name = 'id'"
            ).fetchone()[0]
            assert comment == "the id"
    finally:
        writer.communicate("done\n", timeout=30)
    assert writer.returncode == 0


def test_publishing_replaces_the_copy_atomically_under_an_open_reader(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _make_warehouse(warehouse, rows=3)
    with duckdb.connect(str(warehouse)) as con:
        publish(con, tmp_path)
    reader = duckdb.connect(str(tmp_path / "analytics.duckdb"), read_only=True)
    try:
        _make_warehouse(warehouse, rows=5)
        with duckdb.connect(str(warehouse)) as con:
            publish(con, tmp_path)
        # the open reader keeps its consistent old copy; a new reader sees the new one
        assert reader.execute("select count(*) from marts.fct_example").fetchone()[0] == 3
    finally:
        reader.close()
    with duckdb.connect(str(tmp_path / "analytics.duckdb"), read_only=True) as fresh:
        assert fresh.execute("select count(*) from marts.fct_example").fetchone()[0] == 5
    assert not list(tmp_path.glob(".analytics.duckdb.building*"))
    parquet = tmp_path / "parquet" / "marts" / "fct_example.parquet"
    assert duckdb.sql(f"select count(*) from read_parquet('{parquet}')").fetchone()[0] == 5
