"""The dbt project as Dagster assets: every model, seed and test, with lineage back to the ingestion assets.

dbt sources carry ``meta.dagster.asset_key`` (e.g. ``raw_github/pull_requests``), so the UI draws one line from
API stream to mart. dbt data tests become asset checks; error-severity ones block downstream assets.
"""

import json
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from ingestion.catalog import ensure_raw_tables
from orchestration.assets.ingestion import WRITER_POOL
from orchestration.config import PROJECT_ROOT
from orchestration.resources import WarehouseResource

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def prepare_manifest(force: bool = False) -> Path:
    """Parse the dbt project into target/manifest.json.

    ``dagster dev`` re-parses on every code load (``prepare_if_dev``); the CLI, tests and CI are not dev
    processes, so they parse here when the manifest is missing (or when asked to, after editing SQL).
    """
    if force or not dbt_project.manifest_path.exists():
        dbt_project.preparer.prepare(dbt_project)
    else:
        dbt_project.prepare_if_dev()
    return dbt_project.manifest_path


def dbt_executable() -> str:
    """The dbt next to this interpreter, so a non-activated venv works (DbtCliResource needs it on PATH)."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def _put_interpreter_bin_on_path() -> None:
    """dagster-dbt's manifest preparer runs plain ``dbt``; make that the venv's dbt even when the venv is not
    activated (``make dev`` and the tests call .venv/bin/... directly)."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


_put_interpreter_bin_on_path()


class TechledgerDbtTranslator(DagsterDbtTranslator):
    """Asset keys are ``<schema>/<model>`` (as analysts see them in DuckDB); groups are the dbt layers."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            schema = dbt_resource_props.get("config", {}).get("schema") or dbt_resource_props["schema"]
            return dg.AssetKey([schema, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


# Keys are tested on the staging models (which the build job selects), not on the sources: source tests would
# run as checks of the ingestion assets, which the build job does not select.
translator = TechledgerDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def build_dbt_assets(manifest: Mapping[str, Any], dbt_vars: Mapping[str, Any] | None = None) -> dg.AssetsDefinition:
    """The dbt project as one multi-asset.

    Every source's staging builds even when the source is not configured (over empty raw tables, see
    ``ingestion.catalog``), because the marts unify sources: deployments come from GitHub, GitLab and Jenkins.
    ``dbt_vars`` are passed with ``--vars`` (the classification rules from techledger.yaml)."""
    vars_args = ["--vars", json.dumps(dict(dbt_vars))] if dbt_vars else []

    @dbt_assets(
        manifest=manifest,
        dagster_dbt_translator=translator,
        project=dbt_project,
        pool=WRITER_POOL,
        name="techledger_dbt_models",
    )
    def techledger_dbt_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ) -> Iterator[Any]:
        """``dbt build`` of the selected models: models, seeds, data tests and unit tests in DAG order."""
        # The profile reads the warehouse path from the environment of the dbt subprocess.
        os.environ["TECHLEDGER_WAREHOUSE"] = warehouse.path
        os.environ["TECHLEDGER_DUCKDB_MEMORY_LIMIT"] = warehouse.memory_limit
        with warehouse.connect() as con:  # sources not configured get empty raw tables: unions still build
            ensure_raw_tables(con)
        yield from dbt.cli(["build", *vars_args], context=context).stream()

    return techledger_dbt_models
