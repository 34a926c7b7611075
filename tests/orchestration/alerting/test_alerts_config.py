"""The alerts: section of techledger.yaml: validated like the rest, secrets checked by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.config import SIMULATED_CONFIG, ConfigError, check_secrets, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "techledger.yaml"
    path.write_text(text)
    return path


def test_defaults_have_a_log_sink_and_the_speed_without_stability_rule(tmp_path: Path) -> None:
    alerts = load_config(write(tmp_path, "warehouse:\n  data_dir: d\n")).config.alerts
    assert alerts.enabled and alerts.sinks.log is not None and alerts.sinks.slack is None
    [rule] = alerts.paired_rules
    assert (rule.first_metric, rule.first_direction, rule.second_metric, rule.second_direction) == (
        "deployment_frequency",
        "up",
        "change_failure_rate",
        "up",
    )
    assert load_config(SIMULATED_CONFIG).config.alerts.sinks.log is not None


def test_mistakes_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'alerts\.sinks\.slack\.webhook_url'"):
        load_config(write(tmp_path, "alerts:\n  sinks:\n    slack:\n      webhook_url: https://hooks.slack.com/x\n"))
    with pytest.raises(ConfigError, match=r"alerts\.sinks\.email\.kinds\.0"):
        load_config(
            write(
                tmp_path,
                "alerts:\n  sinks:\n    email:\n      host: h\n      from_address: a@b\n      to_addresses: [c@d]\n"
                "      kinds: [regresion]\n",
            )
        )
    with pytest.raises(ConfigError, match=r"min_recent_points \(5\) exceeds recent_weeks \(4\)"):
        load_config(write(tmp_path, "alerts:\n  min_recent_points: 5\n"))
    rule = "    - {name: r, first_metric: a, first_direction: up, second_metric: b, second_direction: sideways}\n"
    with pytest.raises(ConfigError, match=r"alerts\.paired_rules\.0\.second_direction"):
        load_config(write(tmp_path, "alerts:\n  paired_rules:\n" + rule))
    twice = "    - {name: r, first_metric: a, first_direction: up, second_metric: b, second_direction: up}\n"
    with pytest.raises(ConfigError, match=r"rule names must be unique"):
        load_config(write(tmp_path, "alerts:\n  paired_rules:\n" + twice + twice))


def test_sink_secrets_are_checked_by_variable_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TL_TEST_SLACK", raising=False)
    loaded = load_config(write(tmp_path, "alerts:\n  sinks:\n    slack:\n      webhook_url_env: TL_TEST_SLACK\n"))
    with pytest.raises(ConfigError) as err:
        check_secrets(loaded)
    assert "alerts.sinks.slack.webhook_url_env" in str(err.value) and "TL_TEST_SLACK" in str(err.value)
    monkeypatch.setenv("TL_TEST_SLACK", "https://hooks.slack.com/services/x")
    check_secrets(loaded)
