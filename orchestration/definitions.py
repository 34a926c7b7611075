"""The Dagster code location (loaded through workspace.yaml): assets, resources, jobs and schedules.

Everything is built from techledger.yaml by ``build_definitions`` so tests can build definitions for a config of
their own; the module-level ``defs`` is what ``dagster dev -w workspace.yaml`` loads.
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.assets.dbt import dbt_executable, dbt_project, techledger_dbt_models
from orchestration.assets.ingestion import github_pull_requests
from orchestration.assets.publishing import build_published_analytics
from orchestration.config import LoadedConfig, load_config
from orchestration.resources import GitHubResource, WarehouseResource

INGESTION_GROUP = "ingestion"


def _mart_keys() -> list[dg.AssetKey]:
    return [key for key in techledger_dbt_models.keys if key.path[0] == "marts"]


def build_resources(loaded: LoadedConfig) -> dict[str, object]:
    cfg = loaded.config
    resources: dict[str, object] = {
        "warehouse": WarehouseResource(path=str(loaded.warehouse_path), memory_limit=cfg.warehouse.memory_limit),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
    github = cfg.sources.github
    if github is not None:
        resources["github"] = GitHubResource(
            base_url=github.base_url,
            token=dg.EnvVar(github.token_env) if github.token_env else None,
            token_env=github.token_env,
            repos=github.repos,
            per_page=github.per_page,
            overlap_minutes=github.overlap_minutes,
            timeout_seconds=github.timeout_seconds,
        )
    return resources


def build_assets(loaded: LoadedConfig) -> list[dg.AssetsDefinition]:
    assets: list[dg.AssetsDefinition] = []
    if loaded.config.sources.github is not None:
        assets.append(github_pull_requests)
    assets += [techledger_dbt_models, build_published_analytics(_mart_keys())]
    return assets


def build_definitions(loaded: LoadedConfig) -> dg.Definitions:
    schedules_cfg = loaded.config.schedules
    ingest_job = dg.define_asset_job(
        "ingest_job",
        selection=dg.AssetSelection.groups(INGESTION_GROUP),
        description="Pull every configured source into raw_* tables (incremental).",
    )
    build_job = dg.define_asset_job(
        "build_job",
        selection=dg.AssetSelection.all() - dg.AssetSelection.groups(INGESTION_GROUP),
        description="dbt build (models, tests, unit tests) then publish analytics.duckdb and Parquet.",
    )
    schedules = [
        dg.ScheduleDefinition(
            name="hourly_ingest",
            job=ingest_job,
            cron_schedule=schedules_cfg.ingest_cron,
            execution_timezone="UTC",
            default_status=dg.DefaultScheduleStatus.RUNNING,
        ),
        dg.ScheduleDefinition(
            name="daily_build",
            job=build_job,
            cron_schedule=schedules_cfg.build_cron,
            execution_timezone="UTC",
            default_status=dg.DefaultScheduleStatus.RUNNING,
        ),
    ]
    return dg.Definitions(
        assets=build_assets(loaded),
        jobs=[ingest_job, build_job],
        schedules=schedules,
        resources=build_resources(loaded),
    )


defs = build_definitions(load_config())
