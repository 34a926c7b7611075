"""techledger.yaml: loading, validation and secret resolution.

One YAML file configures a deployment. It is validated on load so that a typo or a wrong type is a one-line
error naming the key, never a stack trace from deep inside a run. Secrets are referenced by the *name* of an
environment variable (``token_env``) and resolved only when a client is built, so the file can be committed.

Lookup order: ``$TECHLEDGER_CONFIG``, else ``./techledger.yaml``, else the simulated company's config that ships
with the project (so ``make demo`` and ``make dev`` work with no file at all).

String values may reference environment variables as ``${NAME}`` or ``${NAME:-default}``; the simulated
company's config uses this for the port the fake APIs listen on.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SIMULATED_CONFIG = PROJECT_ROOT / "simulation" / "techledger.simulated.yaml"
_ENV_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


class ConfigError(ValueError):
    """A configuration problem, worded for the person who edits the file (one line, names the key)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WarehouseConfig(_Strict):
    """Where the DuckDB files live and how much memory DuckDB may take."""

    data_dir: str = Field("data", description="Folder for warehouse.duckdb, analytics.duckdb and parquet/.")
    memory_limit: str = Field("4GB", description="DuckDB memory_limit for every connection we open.")

    def resolved_data_dir(self, base: Path) -> Path:
        """``data_dir`` made absolute against the folder the config file lives in (or $TECHLEDGER_DATA_DIR)."""
        override = os.environ.get("TECHLEDGER_DATA_DIR")
        path = Path(override) if override else Path(self.data_dir)
        return path if path.is_absolute() else (base / path).resolve()


class GitHubConfig(_Strict):
    """GitHub (cloud or Enterprise Server) REST API source."""

    base_url: str = Field("https://api.github.com", description="REST API root, e.g. https://ghe.example/api/v3")
    token_env: str | None = Field(
        "GITHUB_TOKEN", description="Name of the environment variable holding a token (never the token itself)."
    )
    repos: list[str] = Field(default_factory=list, description="Repositories to read, as owner/name.")
    per_page: int = Field(100, ge=1, le=100, description="Page size asked for (GitHub caps it at 100).")
    overlap_minutes: int = Field(10, ge=0, description="How far behind the last cursor each sync re-reads.")
    timeout_seconds: float = Field(30.0, gt=0, description="Read timeout of one request.")

    @field_validator("repos")
    @classmethod
    def _repos_are_owner_slash_name(cls, repos: list[str]) -> list[str]:
        for repo in repos:
            if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo):
                raise ValueError(f"'{repo}' is not of the form owner/name")
        return repos


class GitLabConfig(_Strict):
    """GitLab (gitlab.com or self-managed) REST API v4 source."""

    base_url: str = Field("https://gitlab.com/api/v4", description="API root, ending in /api/v4.")
    token_env: str | None = Field("GITLAB_TOKEN", description="Env var holding a token with read_api scope.")
    projects: list[str] = Field(default_factory=list, description="Projects to read: group/name paths or ids.")
    per_page: int = Field(100, ge=1, le=100, description="Page size asked for (GitLab caps it at 100).")
    overlap_minutes: int = Field(10, ge=0, description="How far behind the last cursor each sync re-reads.")
    timeout_seconds: float = Field(30.0, gt=0, description="Read timeout of one request.")


class JenkinsConfig(_Strict):
    """Jenkins JSON API source (Basic auth: user + API token)."""

    base_url: str = Field(..., description="Jenkins root URL, e.g. https://jenkins.example.com")
    user: str = Field(..., description="The user that owns the API token.")
    token_env: str | None = Field("JENKINS_TOKEN", description="Env var holding the user's API token.")
    jobs: list[str] = Field(default_factory=list, description="Top-level jobs/folders to read; empty = all.")
    overlap_hours: float = Field(24, ge=0, description="How far behind the last cursor each sync re-reads.")
    timeout_seconds: float = Field(30.0, gt=0, description="Read timeout of one request.")


class PagerDutyConfig(_Strict):
    """PagerDuty REST API v2 source."""

    base_url: str = Field("https://api.pagerduty.com", description="API root.")
    token_env: str | None = Field("PAGERDUTY_TOKEN", description="Env var holding a read-only REST API key.")
    service_ids: list[str] = Field(default_factory=list, description="Services to read; empty = all.")
    window_days: int = Field(90, ge=1, le=180, description="Incident windows (the API allows at most 6 months).")
    timeout_seconds: float = Field(30.0, gt=0, description="Read timeout of one request.")


class JiraConfig(_Strict):
    """Jira Cloud (enhanced JQL search, Basic email:api_token) or Data Center (Bearer personal access token)."""

    base_url: str = Field(..., description="Site root, e.g. https://your-site.atlassian.net")
    deployment: Literal["cloud", "data_center"] = Field("cloud", description="API flavour and auth scheme.")
    email: str | None = Field(None, description="Atlassian account e-mail (Cloud only).")
    token_env: str | None = Field(
        "JIRA_API_TOKEN", description="Env var holding the API token (Cloud) or personal access token (DC)."
    )
    projects: list[str] = Field(default_factory=list, description="Project keys to read.")
    search_api: Literal["enhanced", "legacy"] = Field(
        "enhanced", description="enhanced = /rest/api/3/search/jql; legacy only works on Data Center."
    )
    page_size: int = Field(100, ge=1, le=5000, description="Issues per search page.")
    overlap_minutes: float = Field(15, ge=0, description="Each window starts this long before the last cursor.")
    buffer_minutes: float = Field(5, ge=0, description="Window end = server time minus this (search lags).")
    census: bool = Field(True, description="Run the deletion census (ids only) on every sync.")
    story_points_field: str | None = Field(None, description="Override the discovered story-points field id.")
    sprint_field: str | None = Field(None, description="Override the discovered sprint field id.")
    timeout_seconds: float = Field(30.0, gt=0, description="Read timeout of one request.")


class BillingConfig(_Strict):
    """Billing files dropped in a folder: <provider>/<format>/... (focus, cur2, cur, export, invoices)."""

    drop_dir: str = Field(..., description="The drop folder; relative paths are relative to this file.")
    memory_limit: str | None = Field(None, description="DuckDB memory_limit while loading (default: warehouse's).")

    def resolved_drop_dir(self, base: Path) -> Path:
        path = Path(self.drop_dir)
        return path if path.is_absolute() else (base / path).resolve()


class SourcesConfig(_Strict):
    github: GitHubConfig | None = None
    gitlab: GitLabConfig | None = None
    jenkins: JenkinsConfig | None = None
    pagerduty: PagerDutyConfig | None = None
    jira: JiraConfig | None = None
    billing: BillingConfig | None = None


class SimulationConfig(_Strict):
    """The embedded simulated company (used by make demo / make dev / the tests)."""

    enabled: bool = Field(False, description="True when the sources point at the simulated company.")
    seed: int = Field(42, description="Generator seed: the same seed gives the same company.")
    scale: float = Field(1.0, gt=0, description="Size knob: people, repos and activity grow with it.")
    anchor_date: str | None = Field(None, description="End of generated history (YYYY-MM-DD); default today.")
    port: int = Field(8765, ge=0, le=65535, description="Port of `techledger simulate serve` (0 = any).")


def _valid_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc})") from None
    if "'" in pattern:
        raise ValueError("must not contain a single quote (it is passed into SQL)")
    return pattern


class DeliveryRules(_Strict):
    """How one delivery tool's items are classified (regular expressions, RE2/Python syntax; (?i) = any case).

    Defaults follow Apache DevLake's: incident labels `(incident|failure)`, bug labels `(bug|broken)`,
    production environments `prod(.*)`, deployment jobs `(deploy|push-image)`.
    """

    incident_pattern: str = Field("(?i)(incident|failure)", description="Issue labels that mark an incident.")
    bug_pattern: str = Field("(?i)(bug|broken)", description="Issue labels that mark a bug.")
    production_environment_pattern: str = Field("(?i)prod(.*)", description="Environment names that are production.")
    deployment_pattern: str = Field("(?i)(deploy|push-image)", description="Job/workflow names that deploy.")

    @field_validator("incident_pattern", "bug_pattern", "production_environment_pattern", "deployment_pattern")
    @classmethod
    def _patterns_compile(cls, pattern: str) -> str:
        return _valid_regex(pattern)


class JiraRules(_Strict):
    """How Jira issues are classified, by issue type name."""

    incident_pattern: str = Field("(?i)(incident|outage)", description="Issue types that are incidents.")
    bug_pattern: str = Field("(?i)(bug|defect)", description="Issue types that are bugs.")

    @field_validator("incident_pattern", "bug_pattern")
    @classmethod
    def _patterns_compile(cls, pattern: str) -> str:
        return _valid_regex(pattern)


class RulesConfig(_Strict):
    """Classification rules per source; dbt staging applies them (flags is_incident, is_bug, is_production...)."""

    github: DeliveryRules = DeliveryRules()
    gitlab: DeliveryRules = DeliveryRules()
    jenkins: DeliveryRules = DeliveryRules()
    jira: JiraRules = JiraRules()

    def as_dbt_vars(self) -> dict[str, Any]:
        """The rules as the dbt var ``techledger_rules`` (dbt_project.yml holds the same defaults)."""
        return {"techledger_rules": self.model_dump()}


class SchedulesConfig(_Strict):
    ingest_cron: str = Field("0 * * * *", description="When the ingestion job runs (cron, UTC).")
    build_cron: str = Field("30 5 * * *", description="When the dbt build + publish job runs (cron, UTC).")


class TechledgerConfig(_Strict):
    """The whole file. Unknown keys are errors, so a misspelt key never silently does nothing."""

    warehouse: WarehouseConfig = WarehouseConfig()
    sources: SourcesConfig = SourcesConfig()
    simulation: SimulationConfig = SimulationConfig()
    schedules: SchedulesConfig = SchedulesConfig()
    rules: RulesConfig = RulesConfig()


class LoadedConfig:
    """A validated config plus where it came from (paths in it are relative to that file)."""

    def __init__(self, config: TechledgerConfig, path: Path):
        self.config = config
        self.path = path

    @property
    def data_dir(self) -> Path:
        return self.config.warehouse.resolved_data_dir(self.path.parent)

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def billing_drop_dir(self) -> Path | None:
        billing = self.config.sources.billing
        return billing.resolved_drop_dir(self.path.parent) if billing is not None else None


def config_path() -> Path:
    """The file that will be loaded, following the documented lookup order."""
    explicit = os.environ.get("TECHLEDGER_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.exists():
            raise ConfigError(f"TECHLEDGER_CONFIG points at {path}, which does not exist")
        return path.resolve()
    local = Path.cwd() / "techledger.yaml"
    return local.resolve() if local.exists() else SIMULATED_CONFIG


def _expand_env(value: Any) -> Any:
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: os.environ.get(m["name"], m["default"] or ""), value)
    if isinstance(value, dict):
        return {k: _expand_env(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v) for v in value]
    return value


def _describe(error: ValidationError, path: Path) -> str:
    """First validation problem as one line: file, dotted key, what is wrong."""
    first = error.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        return f"{path}: unknown key '{key}' (see techledger.example.yaml for the keys that exist)"
    got = first.get("input")
    shown = f" (got {got!r})" if got is not None and not isinstance(got, dict | list) else ""
    return f"{path}: {key}: {first['msg']}{shown}"


def parse_config(raw: Any, path: Path) -> TechledgerConfig:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the file must be a YAML mapping of keys, got {type(raw).__name__}")
    try:
        return TechledgerConfig.model_validate(_expand_env(raw))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None


def load_config(path: Path | None = None) -> LoadedConfig:
    """Read and validate the config file; raises ConfigError with a one-line, actionable message."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return LoadedConfig(parse_config(raw, path), path)


def require_secret(env_name: str | None, key: str) -> str:
    """The value of the secret's environment variable, or a ConfigError naming the key and the variable."""
    if not env_name:
        raise ConfigError(f"{key}: no environment variable is named for this secret")
    value = os.environ.get(env_name)
    if not value:
        raise ConfigError(
            f"{key}: environment variable {env_name} is not set; export it (e.g. in .env) with the credential"
        )
    return value


def check_secrets(loaded: LoadedConfig) -> None:
    """Fail early, naming the key, when a configured source's secret is missing from the environment."""
    sources = loaded.config.sources
    for name in ("github", "gitlab", "jenkins", "pagerduty", "jira"):
        source = getattr(sources, name)
        if source is not None and source.token_env:
            require_secret(source.token_env, f"sources.{name}.token_env")
