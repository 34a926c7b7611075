"""The shared connector entry point (ingestion/cli.py) as the GitHub and GitLab stream modules use it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingestion.github import commits
from ingestion.gitlab import environments
from simulation.server import FakeApiServer


def test_github_stream_entry_point_syncs_and_reports_each_scope(
    server: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TL_CLI_TOKEN", "t")
    repo = server.company.repos[0].full_name
    warehouse = tmp_path / "w.duckdb"
    argv = ["--warehouse", str(warehouse), "--base-url", server.base_url("github"), "--repos", repo]
    assert commits.main([*argv, "--token-env", "TL_CLI_TOKEN"]) == 0
    assert capsys.readouterr().out.startswith(f"{repo}: ")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw_github.commits").fetchone()[0] > 0


def test_missing_token_and_failed_scope_exit_codes(
    server: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TL_CLI_MISSING", raising=False)
    base = ["--warehouse", str(tmp_path / "w.duckdb")]
    gitlab = [*base, "--base-url", server.base_url("gitlab") + "/api/v4", "--projects", "acme/ml-platform"]
    assert environments.main([*gitlab, "--token-env", "TL_CLI_MISSING"]) == 2
    monkeypatch.setenv("TL_CLI_TOKEN", "t")
    github = [*base, "--base-url", server.base_url("github"), "--repos", "acme/no-such-repo"]
    assert commits.main([*github, "--token-env", "TL_CLI_TOKEN"]) == 1
