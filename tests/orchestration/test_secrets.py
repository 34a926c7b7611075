"""A recognisable token never reaches Dagster's event log, run config, metadata or the warehouse."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from orchestration.config import LoadedConfig
from orchestration.definitions import build_definitions
from orchestration.simulated import SIM_TOKEN_ENV
from simulation.server import FakeApiServer

SENTINEL = "ghp_SENTINELtokenDoNotLeak0123456789"


def _all_text_in_warehouse(path: str) -> str:
    chunks = []
    with duckdb.connect(path, read_only=True) as con:
        columns = con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where data_type in ('VARCHAR', 'JSON') and database_name = current_database()"
        ).fetchall()
        for schema, table, column in columns:
            values = con.execute(f'select "{column}"::varchar from "{schema}"."{table}"').fetchall()
            chunks.extend(str(v[0]) for v in values)
    return "\n".join(chunks)


def test_token_absent_from_events_metadata_and_tables(
    simulated_env: LoadedConfig, fake_api: FakeApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SIM_TOKEN_ENV, SENTINEL)
    repos = simulated_env.config.sources.github.repos
    # a retried rate limit on one repo and a permission failure on another: both paths log and raise
    fake_api.faults.inject("github", "rate_limit_429", times=1, path_contains=repos[0], retry_after=0)
    fake_api.faults.inject("github", "permission_403", times=1, path_contains=repos[1])

    defs = build_definitions(simulated_env)
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("ingest_job").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success, "the permission failure must fail the asset"

    events = instance.all_logs(result.run_id)
    failure = [e for e in events if e.dagster_event and e.dagster_event.is_step_failure]
    assert failure and repos[1] in str(failure[0].dagster_event.event_specific_data)
    for event in events:
        assert SENTINEL not in str(event), f"token leaked in event {event.dagster_event_type}"
    assert SENTINEL not in str(result.dagster_run.run_config)
    assert SENTINEL not in _all_text_in_warehouse(str(simulated_env.warehouse_path))
