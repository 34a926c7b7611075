"""The Dagster definitions, and the whole path against the simulated company: API -> raw -> mart -> published."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import yaml

from orchestration.config import PROJECT_ROOT, LoadedConfig, load_config
from orchestration.definitions import build_definitions
from simulation.server import FakeApiServer
from tests.conftest import DemoRun

RAW_PRS = dg.AssetKey(["raw_github", "pull_requests"])
STG_PRS = dg.AssetKey(["staging", "stg_github__pull_requests"])
FCT_PRS = dg.AssetKey(["marts", "fct_pull_requests"])
PUBLISHED = dg.AssetKey(["published", "analytics"])


def test_workspace_yaml_loads_the_definitions() -> None:
    """`dagster definitions validate -w workspace.yaml` is what `make dev` depends on."""
    workspace = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["module_name"] == "orchestration.definitions"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_lineage_checks_pools_and_schedules(simulated_env: LoadedConfig) -> None:
    defs = build_definitions(simulated_env)
    graph = defs.resolve_asset_graph()
    assert graph.get(STG_PRS).parent_keys == {RAW_PRS}, "dbt source must hang under the ingestion asset"
    assert FCT_PRS in graph.get(PUBLISHED).parent_keys
    check_keys = {check.asset_key for check in graph.asset_check_keys}
    assert FCT_PRS in check_keys and STG_PRS in check_keys, "dbt tests must show as asset checks"
    for key in (RAW_PRS, FCT_PRS, PUBLISHED):
        assert graph.get(key).pools == {"duckdb_writer"}, f"{key.to_user_string()} writes DuckDB: needs the pool"
    assert {s.name for s in defs.schedules} == {"hourly_ingest", "daily_build"}
    assert graph.get(FCT_PRS).group_name == "marts" and graph.get(RAW_PRS).group_name == "ingestion"


def test_materialize_all_job_covers_every_asset(simulated_env: LoadedConfig) -> None:
    """The UI's "Materialize all" runs the implicit global job: it must hold every asset of the two jobs the
    scheduler and the demo run (ingest_job, build_job), which the demo executes in-process end to end."""
    defs = build_definitions(simulated_env)
    everything = set(defs.resolve_implicit_global_asset_job_def().asset_layer.executable_asset_keys)
    scheduled = set(defs.resolve_job_def("ingest_job").asset_layer.executable_asset_keys) | set(
        defs.resolve_job_def("build_job").asset_layer.executable_asset_keys
    )
    assert scheduled == everything
    assert {RAW_PRS, STG_PRS, FCT_PRS, PUBLISHED} <= everything


def test_published_pull_requests_match_the_api(demo_run: DemoRun) -> None:
    """API -> raw -> staging -> mart -> published copy and Parquet, checked against what the fake API serves."""
    company = demo_run.company()
    expected = {
        (repo.full_name, pr["number"]): pr
        for repo in company.repos
        for pr in company.list_pull_requests(repo.full_name)
    }
    data_dir = demo_run.data_dir
    with duckdb.connect(str(data_dir / "analytics.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select repo_full_name, pull_request_number, outcome, hours_to_merge, opened_at "
            "from marts.fct_pull_requests where source_system = 'github'"
        ).fetchall()
    assert len(rows) == len(expected) > 100
    merged = [r for r in rows if r[2] == "merged"]
    assert merged and all(r[3] >= 0 for r in merged)
    for repo, number, outcome, _, _ in rows:
        source = expected[(repo, number)]
        assert (outcome == "merged") == (source["merged_at"] is not None)
    parquet = data_dir / "parquet" / "marts" / "fct_pull_requests.parquet"
    parquet_rows = duckdb.sql(
        f"select count(*) from read_parquet('{parquet}') where source_system = 'github'"
    ).fetchone()[0]
    assert parquet_rows == len(expected)


def test_unconfigured_sources_have_no_ingestion_assets_but_their_staging_still_builds(tmp_path: Path) -> None:
    """GitHub-only: no Jira/billing ingestion to run, yet Jira/billing staging stays in the graph (over empty raw
    tables) so the marts that unify sources keep building; tests/orchestration/test_empty_sources.py builds it."""
    config = tmp_path / "techledger.yaml"
    config.write_text("sources:\n  github:\n    repos: [a/b]\n    token_env: null\n")
    graph = build_definitions(load_config(config)).resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    assert STG_PRS in keys and FCT_PRS in keys
    assert [k for k in keys if k.path[-1] == "stg_jira__issues"]
    raw_jira = [k for k in keys if k.path[0] in ("raw_jira", "raw_billing")]
    assert raw_jira and not [k for k in raw_jira if graph.get(k).is_materializable]


def test_simulated_config_reads_every_repository_of_the_company(
    simulated_env: LoadedConfig, fake_api: FakeApiServer
) -> None:
    assert sorted(simulated_env.config.sources.github.repos) == sorted(r.full_name for r in fake_api.company.repos)
