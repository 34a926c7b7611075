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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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


AlertKind = Literal["regression", "improvement", "paired", "pipeline", "freshness"]
ALERT_KINDS: tuple[str, ...] = ("regression", "improvement", "paired", "pipeline", "freshness")


class LogSinkConfig(_Strict):
    """Alerts written to the log (Dagster's run log): on by default, needs nothing."""

    kinds: list[AlertKind] = Field(list(ALERT_KINDS), description="Which kinds of alert this sink receives.")


class SlackSinkConfig(_Strict):
    """A Slack incoming webhook (its URL is a secret: it is read from an environment variable)."""

    webhook_url_env: str = Field("SLACK_WEBHOOK_URL", description="Env var holding the incoming-webhook URL.")
    timeout_seconds: float = Field(10.0, gt=0, description="Timeout of one POST.")
    kinds: list[AlertKind] = Field(list(ALERT_KINDS), description="Which kinds of alert this sink receives.")


class WebhookSinkConfig(_Strict):
    """A generic JSON webhook; the body is signed with HMAC-SHA256 (header X-Techledger-Signature-256)."""

    url_env: str = Field("TECHLEDGER_WEBHOOK_URL", description="Env var holding the URL to POST to.")
    secret_env: str = Field("TECHLEDGER_WEBHOOK_SECRET", description="Env var holding the HMAC signing key.")
    timeout_seconds: float = Field(10.0, gt=0, description="Timeout of one POST.")
    kinds: list[AlertKind] = Field(list(ALERT_KINDS), description="Which kinds of alert this sink receives.")


class EmailSinkConfig(_Strict):
    """E-mail over SMTP (STARTTLS optional; login only when a username is given)."""

    host: str = Field(..., description="SMTP server host name.")
    port: int = Field(587, ge=1, le=65535, description="SMTP port (587 submission with STARTTLS, 25 plain).")
    starttls: bool = Field(True, description="Upgrade the connection with STARTTLS before logging in.")
    username: str | None = Field(None, description="SMTP login; null = no authentication.")
    password_env: str | None = Field("SMTP_PASSWORD", description="Env var holding the SMTP password.")
    from_address: str = Field(..., description="Sender address.")
    to_addresses: list[str] = Field(..., min_length=1, description="Recipients.")
    timeout_seconds: float = Field(10.0, gt=0, description="Timeout of the SMTP conversation.")
    kinds: list[AlertKind] = Field(list(ALERT_KINDS), description="Which kinds of alert this sink receives.")


class AlertSinksConfig(_Strict):
    """Where alerts are delivered; a sink that is absent (or null) is off."""

    log: LogSinkConfig | None = LogSinkConfig()
    slack: SlackSinkConfig | None = None
    webhook: WebhookSinkConfig | None = None
    email: EmailSinkConfig | None = None


class PairedRuleConfig(_Strict):
    """Two metrics of the same scope moving in the given directions together is one alert (kind paired)."""

    name: str = Field(..., pattern=r"^[a-z0-9_]+$", description="Rule name (lowercase, digits, underscores).")
    description: str = Field("", description="What the combination means; shown in the alert.")
    first_metric: str = Field(..., description="metric_catalog key of the first metric.")
    first_direction: Literal["up", "down"] = Field(..., description="Direction the first metric must move.")
    second_metric: str = Field(..., description="metric_catalog key of the second metric.")
    second_direction: Literal["up", "down"] = Field(..., description="Direction the second metric must move.")
    significance: float = Field(0.10, gt=0, lt=1, description="p-value each of the two changes must reach.")
    suppress_components: bool = Field(True, description="Do not also alert on the two metrics separately.")
    absorbed_improvements: list[str] = Field(
        default_factory=list,
        description=(
            "metric_catalog keys whose improvement in the same scope is part of the pair's story (lead time "
            "falls when deployments are frequent): while the pair is found, it is listed in the pair's evidence "
            "instead of being celebrated as an alert of its own. Their regressions still alert."
        ),
    )


class AlertDeliveryConfig(_Strict):
    """Retries of a failed delivery, per (event, sink), across ticks."""

    base_seconds: float = Field(60.0, gt=0, description="Wait after the first failure; doubles each time.")
    max_seconds: float = Field(21600.0, gt=0, description="Longest wait between two attempts.")
    max_attempts: int = Field(20, ge=1, description="Attempts before a delivery is marked failed (kept, not lost).")


class FreshnessConfig(_Strict):
    """Hours after which a source that has not synced raises a freshness alert; null = not watched."""

    github: float | None = Field(3.0, gt=0, description="Hours between GitHub syncs before alerting.")
    gitlab: float | None = Field(3.0, gt=0, description="Hours between GitLab syncs before alerting.")
    jenkins: float | None = Field(3.0, gt=0, description="Hours between Jenkins syncs before alerting.")
    pagerduty: float | None = Field(3.0, gt=0, description="Hours between PagerDuty syncs before alerting.")
    jira: float | None = Field(3.0, gt=0, description="Hours between Jira syncs before alerting.")
    billing: float | None = Field(26.0, gt=0, description="Hours between billing loads before alerting.")


def _default_paired_rules() -> list[PairedRuleConfig]:
    return [
        PairedRuleConfig(
            name="speed_without_stability",
            description=(
                "Deployment frequency rose while change failure rate rose too: speed is being bought with "
                "stability. Look at test coverage, review depth and deployment safety before pushing harder."
            ),
            first_metric="deployment_frequency",
            first_direction="up",
            second_metric="change_failure_rate",
            second_direction="up",
            absorbed_improvements=["lead_time_p50_hours"],
        )
    ]


class AlertsConfig(_Strict):
    """Trend alerts on marts.metric_series, the alert sinks, and the pipeline-health sensors."""

    enabled: bool = Field(True, description="Build the alerts asset and sensors at all.")
    max_active_metrics: int = Field(8, ge=1, description="Warn when the catalog has more active metrics.")
    recent_weeks: int = Field(4, ge=1, le=26, description="Weeks in the recent window.")
    baseline_weeks: int = Field(12, ge=3, le=104, description="Weeks in the trailing baseline before it.")
    trend_weeks: int = Field(26, ge=6, le=156, description="Weeks the monotonic-trend test looks back.")
    min_recent_points: int = Field(2, ge=1, description="Weeks with data needed in the recent window.")
    min_baseline_points: int = Field(8, ge=3, description="Baseline weeks with data needed for the level test.")
    min_trend_points: int = Field(8, ge=4, description="Weeks with data needed in the trend window.")
    catch_up_weeks: int = Field(8, ge=1, le=52, description="Most weeks one run evaluates when it catches up.")
    significance: float = Field(0.01, gt=0, lt=1, description="One-sided p-value of the level-shift test.")
    trend_significance: float = Field(0.005, gt=0, lt=1, description="One-sided p-value of the trend test.")
    min_robust_z: float = Field(
        1.0, ge=0, description="Level shift must also exceed this many baseline sigmas (from the MAD)."
    )
    confirm_weeks: int = Field(2, ge=1, le=4, description="Consecutive weekly evaluations that must agree.")
    resolve_fraction: float = Field(
        0.5, gt=0, le=1, description="Resolved when back within this fraction of the threshold."
    )
    paired_rules: list[PairedRuleConfig] = Field(default_factory=_default_paired_rules)
    sinks: AlertSinksConfig = AlertSinksConfig()
    delivery: AlertDeliveryConfig = AlertDeliveryConfig()
    notify_run_failures: bool = Field(True, description="Alert through the sinks when a pipeline run fails.")
    freshness_hours: FreshnessConfig = FreshnessConfig()

    @field_validator("paired_rules")
    @classmethod
    def _rule_names_unique(cls, rules: list[PairedRuleConfig]) -> list[PairedRuleConfig]:
        names = [rule.name for rule in rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"rule names must be unique, repeated: {duplicates}")
        return rules

    @model_validator(mode="after")
    def _points_fit_windows(self) -> AlertsConfig:
        if self.min_recent_points > self.recent_weeks:
            raise ValueError(f"min_recent_points ({self.min_recent_points}) exceeds recent_weeks ({self.recent_weeks})")
        if self.min_baseline_points > self.baseline_weeks:
            raise ValueError(
                f"min_baseline_points ({self.min_baseline_points}) exceeds baseline_weeks ({self.baseline_weeks})"
            )
        return self


class TechledgerConfig(_Strict):
    """The whole file. Unknown keys are errors, so a misspelt key never silently does nothing."""

    warehouse: WarehouseConfig = WarehouseConfig()
    sources: SourcesConfig = SourcesConfig()
    simulation: SimulationConfig = SimulationConfig()
    schedules: SchedulesConfig = SchedulesConfig()
    rules: RulesConfig = RulesConfig()
    alerts: AlertsConfig = AlertsConfig()


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
    sinks = loaded.config.alerts.sinks
    if sinks.slack is not None:
        require_secret(sinks.slack.webhook_url_env, "alerts.sinks.slack.webhook_url_env")
    if sinks.webhook is not None:
        require_secret(sinks.webhook.url_env, "alerts.sinks.webhook.url_env")
        require_secret(sinks.webhook.secret_env, "alerts.sinks.webhook.secret_env")
    if sinks.email is not None and sinks.email.username:
        require_secret(sinks.email.password_env, "alerts.sinks.email.password_env")
