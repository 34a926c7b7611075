"""The Dagster code location (loaded through workspace.yaml): assets, resources, jobs and schedules.

Everything is built from techledger.yaml by ``build_definitions`` so tests can build definitions for a config of
their own; the module-level ``defs`` is what ``dagster dev -w workspace.yaml`` loads.
"""

from __future__ import annotations

import json

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.assets.alerts import (
    ALERTS_JOB_NAME,
    AlertingResource,
    alerts_job,
    build_alert_sensors,
    build_alerts_asset,
)
from orchestration.assets.billing import (
    BillingResource,
    billing_drop_folder_sensor,
    billing_ingest_job,
    raw_billing_cost_lines,
)
from orchestration.assets.dbt import build_dbt_assets, dbt_executable, dbt_project, prepare_manifest
from orchestration.assets.github import GITHUB_DELIVERY_ASSETS
from orchestration.assets.gitlab import GITLAB_ASSETS, GitLabResource
from orchestration.assets.ingestion import github_pull_requests
from orchestration.assets.jenkins import JENKINS_ASSETS, JenkinsResource
from orchestration.assets.jira import JiraResource, jira_streams
from orchestration.assets.pagerduty import PAGERDUTY_ASSETS, PagerDutyResource
from orchestration.assets.publishing import build_published_analytics
from orchestration.config import LoadedConfig, load_config
from orchestration.resources import GitHubResource, WarehouseResource

INGESTION_GROUP = "ingestion"


def build_resources(loaded: LoadedConfig) -> dict[str, object]:
    cfg = loaded.config
    resources: dict[str, object] = {
        "warehouse": WarehouseResource(path=str(loaded.warehouse_path), memory_limit=cfg.warehouse.memory_limit),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
    github, gitlab, jira, billing = cfg.sources.github, cfg.sources.gitlab, cfg.sources.jira, cfg.sources.billing
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
    if gitlab is not None:
        resources["gitlab"] = GitLabResource(
            base_url=gitlab.base_url,
            token=dg.EnvVar(gitlab.token_env) if gitlab.token_env else None,
            token_env=gitlab.token_env,
            projects=gitlab.projects,
            per_page=gitlab.per_page,
            overlap_minutes=gitlab.overlap_minutes,
            timeout_seconds=gitlab.timeout_seconds,
        )
    jenkins, pagerduty = cfg.sources.jenkins, cfg.sources.pagerduty
    if jenkins is not None:
        resources["jenkins"] = JenkinsResource(
            base_url=jenkins.base_url,
            user=jenkins.user,
            token=dg.EnvVar(jenkins.token_env) if jenkins.token_env else None,
            token_env=jenkins.token_env,
            jobs=jenkins.jobs,
            overlap_hours=jenkins.overlap_hours,
            timeout_seconds=jenkins.timeout_seconds,
        )
    if pagerduty is not None:
        resources["pagerduty"] = PagerDutyResource(
            base_url=pagerduty.base_url,
            token=dg.EnvVar(pagerduty.token_env) if pagerduty.token_env else None,
            token_env=pagerduty.token_env,
            service_ids=pagerduty.service_ids,
            window_days=pagerduty.window_days,
            timeout_seconds=pagerduty.timeout_seconds,
        )
    if jira is not None:
        resources["jira"] = JiraResource(
            base_url=jira.base_url,
            deployment=jira.deployment,
            email=jira.email,
            token=dg.EnvVar(jira.token_env) if jira.token_env else None,
            token_env=jira.token_env,
            projects=jira.projects,
            search_api=jira.search_api,
            page_size=jira.page_size,
            overlap_minutes=jira.overlap_minutes,
            buffer_minutes=jira.buffer_minutes,
            census=jira.census,
            story_points_field=jira.story_points_field,
            sprint_field=jira.sprint_field,
            timeout_seconds=jira.timeout_seconds,
        )
    if billing is not None:
        resources["billing"] = BillingResource(
            drop_dir=str(loaded.billing_drop_dir), memory_limit=billing.memory_limit or cfg.warehouse.memory_limit
        )
    if cfg.alerts.enabled:
        resources["alerting"] = AlertingResource(config_json=cfg.alerts.model_dump_json())
    return resources


def build_assets(loaded: LoadedConfig) -> list[dg.AssetsDefinition]:
    sources = loaded.config.sources
    assets: list[dg.AssetsDefinition] = []
    if sources.github is not None:
        assets += [github_pull_requests, *GITHUB_DELIVERY_ASSETS]
    if sources.gitlab is not None:
        assets += GITLAB_ASSETS
    if sources.jenkins is not None:
        assets += JENKINS_ASSETS
    if sources.pagerduty is not None:
        assets += PAGERDUTY_ASSETS
    if sources.jira is not None:
        assets.append(jira_streams)
    if sources.billing is not None:
        assets.append(raw_billing_cost_lines)
    # parsed once per code load: under `dagster dev` preparing re-runs `dbt parse`
    manifest = json.loads(prepare_manifest().read_text())
    dbt_models = build_dbt_assets(manifest, dbt_vars=loaded.config.rules.as_dbt_vars())
    mart_keys = [key for key in dbt_models.keys if key.path[0] == "marts"]
    alerts = [build_alerts_asset()] if loaded.config.alerts.enabled else []
    return [*assets, dbt_models, build_published_analytics(mart_keys), *alerts]


def raw_keys_by_source(assets: list[dg.AssetsDefinition]) -> dict[str, list[dg.AssetKey]]:
    """Ingestion asset keys per source (``raw_github/...`` -> github), for the freshness sensor."""
    by_source: dict[str, list[dg.AssetKey]] = {}
    for asset in assets:
        for key in asset.keys:
            if key.path[0].startswith("raw_") and asset.group_names_by_key.get(key) == INGESTION_GROUP:
                by_source.setdefault(key.path[0].removeprefix("raw_"), []).append(key)
    return by_source


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
    jobs: list = [ingest_job, build_job]
    sensors = []
    if loaded.config.sources.billing is not None:
        jobs.append(billing_ingest_job)
        sensors.append(billing_drop_folder_sensor)
    assets = build_assets(loaded)
    if loaded.config.alerts.enabled:
        # build_job selects every non-ingestion asset, so it evaluates alerts after the dbt build itself
        jobs.append(alerts_job)
        sensors += build_alert_sensors(raw_keys_by_source(assets), [build_job.name, ALERTS_JOB_NAME])
    return dg.Definitions(
        assets=assets,
        jobs=jobs,
        schedules=schedules,
        sensors=sensors,
        resources=build_resources(loaded),
    )


defs = build_definitions(load_config())
