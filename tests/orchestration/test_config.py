"""techledger.yaml validation: every mistake is one line that names the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from orchestration.config import (
    PROJECT_ROOT,
    SIMULATED_CONFIG,
    ConfigError,
    RulesConfig,
    TechledgerConfig,
    check_secrets,
    load_config,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "techledger.yaml"
    path.write_text(text)
    return path


def test_unknown_key_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  github:\n    repos: [a/b]\n    tokn_env: X\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert "sources.github.tokn_env" in message and "unknown key" in message
    assert "\n" not in message


def test_wrong_type_is_named_with_the_value(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  github:\n    repos: [a/b]\n    per_page: many\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "sources.github.per_page" in str(err.value) and "'many'" in str(err.value)


def test_out_of_range_and_malformed_repo(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sources\.github\.per_page"):
        load_config(write(tmp_path, "sources:\n  github:\n    repos: [a/b]\n    per_page: 500\n"))
    with pytest.raises(ConfigError, match=r"sources\.github\.repos.*owner/name"):
        load_config(write(tmp_path, "sources:\n  github:\n    repos: [just-a-name]\n"))


def test_missing_secret_env_var_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TL_TEST_TOKEN", raising=False)
    loaded = load_config(write(tmp_path, "sources:\n  github:\n    repos: [a/b]\n    token_env: TL_TEST_TOKEN\n"))
    with pytest.raises(ConfigError) as err:
        check_secrets(loaded)
    assert "sources.github.token_env" in str(err.value) and "TL_TEST_TOKEN" in str(err.value)
    monkeypatch.setenv("TL_TEST_TOKEN", "x")
    check_secrets(loaded)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="line 2: not valid YAML"):
        load_config(write(tmp_path, "warehouse:\n  data_dir: a: b\n"))


def test_env_references_expand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TL_TEST_URL", "http://127.0.0.1:9")
    text = "sources:\n  github:\n    base_url: ${TL_TEST_URL}/github\n    repos: [a/b]\n    token_env: null\n"
    assert load_config(write(tmp_path, text)).config.sources.github.base_url == "http://127.0.0.1:9/github"
    monkeypatch.delenv("TL_TEST_URL")
    text = "sources:\n  github:\n    base_url: ${TL_TEST_URL:-http://x}/github\n    repos: [a/b]\n"
    assert load_config(write(tmp_path, text)).config.sources.github.base_url == "http://x/github"


def test_data_dir_is_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TECHLEDGER_DATA_DIR", raising=False)
    loaded = load_config(write(tmp_path, "warehouse:\n  data_dir: out\n"))
    assert loaded.warehouse_path == tmp_path / "out" / "warehouse.duckdb"
    monkeypatch.setenv("TECHLEDGER_DATA_DIR", str(tmp_path / "elsewhere"))
    assert loaded.warehouse_path == tmp_path / "elsewhere" / "warehouse.duckdb"


def test_lookup_falls_back_to_the_simulated_company(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TECHLEDGER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert load_config().path == SIMULATED_CONFIG
    write(tmp_path, "warehouse:\n  data_dir: d\n")
    assert load_config().path == tmp_path / "techledger.yaml"
    monkeypatch.setenv("TECHLEDGER_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="TECHLEDGER_CONFIG"):
        load_config()


def _key_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    paths = set()
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        paths.add(path)
        annotation = field.annotation
        for candidate in getattr(annotation, "__args__", (annotation,)):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                paths |= _key_paths(candidate, f"{path}.")
    return paths


def _yaml_paths(node: object, prefix: str = "") -> set[str]:
    if isinstance(node, list):  # a list of mappings (e.g. alerts.paired_rules) documents its items' keys
        return set().union(*(_yaml_paths(item, prefix) for item in node))
    if not isinstance(node, dict):
        return set()
    paths = set()
    for key, value in node.items():
        paths.add(f"{prefix}{key}")
        paths |= _yaml_paths(value, f"{prefix}{key}.")
    return paths


def test_example_documents_every_key_and_validates() -> None:
    example = PROJECT_ROOT / "techledger.example.yaml"
    load_config(example)
    missing = _key_paths(TechledgerConfig) - _yaml_paths(yaml.safe_load(example.read_text()))
    assert not missing, f"techledger.example.yaml does not document: {sorted(missing)}"


def test_cli_reports_one_line_and_exit_code_2(tmp_path: Path) -> None:
    path = write(tmp_path, "warehouse:\n  memory: 1GB\n")
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "config", "check", "--file", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "warehouse.memory" in result.stderr and "Traceback" not in result.stderr


def test_rules_defaults_match_the_dbt_project_defaults() -> None:
    """`dbt` run by hand must classify like the pipeline does with an empty `rules:` section."""
    dbt_vars = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    # only the rules come from techledger.yaml; the metric knobs (techledger_metrics) live in dbt_project.yml
    assert RulesConfig().as_dbt_vars() == {"techledger_rules": dbt_vars["techledger_rules"]}


def test_rules_reach_dbt_as_vars_and_bad_patterns_are_named(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, "rules:\n  github:\n    incident_pattern: '^sev[12]$'\n"))
    rules = loaded.config.rules.as_dbt_vars()["techledger_rules"]
    assert rules["github"]["incident_pattern"] == "^sev[12]$"
    assert rules["gitlab"]["incident_pattern"] == "(?i)(incident|failure)"
    with pytest.raises(ConfigError, match=r"rules\.jira\.bug_pattern: .*not a valid regular expression"):
        load_config(write(tmp_path, "rules:\n  jira:\n    bug_pattern: '(unclosed'\n"))
