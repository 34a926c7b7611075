"""A sync killed with SIGKILL mid-walk loses nothing and duplicates nothing once rerun.

The sync runs in a subprocess (the module entry point) against a slowed-down fake GitHub; the test
kills it after some pages were served, reruns it to completion and compares the rows with an
uninterrupted sync of the same company into another warehouse file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from ingestion.github.pull_requests import sync_pull_requests
from ingestion.http import HttpClient
from ingestion.loader import RawLoader
from ingestion.meta import INTERRUPTED_ERROR
from simulation.company import Company
from simulation.server import FakeApiServer

from .conftest import TOKEN, TOKEN_ENV, repos_by_size

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PER_PAGE = 10
BATCH_SIZE = 15  # commits every 1.5 pages: the kill can land between a page and its commit


def sync_command(warehouse: Path, base_url: str, repos: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ingestion.github.pull_requests",
        "--warehouse",
        str(warehouse),
        "--base-url",
        base_url,
        "--repos",
        ",".join(repos),
        "--token-env",
        TOKEN_ENV,
        "--per-page",
        str(PER_PAGE),
        "--batch-size",
        str(BATCH_SIZE),
    ]


def rows(path: Path) -> list[tuple[int, str]]:
    with duckdb.connect(str(path)) as con:
        result = con.execute("SELECT id, payload FROM raw_github.pull_requests ORDER BY id").fetchall()
    return [(pr_id, json.dumps(json.loads(payload), sort_keys=True)) for pr_id, payload in result]


@pytest.mark.timeout(120)
def test_sigkill_mid_sync_then_rerun_matches_an_uninterrupted_sync(
    tmp_path: Path, make_client: Callable[..., HttpClient], server: FakeApiServer, company: Company
) -> None:
    # Three mid-sized repos: enough pages to kill mid-walk, few enough to stay quick.
    repos = repos_by_size(company)[2:5]
    total_pages = sum(-(-len(company.list_pull_requests(r)) // PER_PAGE) for r in repos)
    env = {**os.environ, TOKEN_ENV: TOKEN}
    killed = tmp_path / "killed.duckdb"

    with FakeApiServer(company, latency=0.05) as slow:
        process = subprocess.Popen(
            sync_command(killed, slow.base_url("github"), repos),
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        kill_after = total_pages // 2
        deadline = time.monotonic() + 60
        while slow.stats.requests("github") < kill_after and process.poll() is None:
            assert time.monotonic() < deadline, "the sync subprocess made no progress"
            time.sleep(0.01)
        assert process.poll() is None, "the sync finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL

        partial = rows(killed)
        assert 0 < len(partial) < sum(len(company.list_pull_requests(r)) for r in repos)

        rerun = subprocess.run(
            sync_command(killed, slow.base_url("github"), repos),
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert rerun.returncode == 0, rerun.stderr
        assert TOKEN not in rerun.stdout + rerun.stderr

    reference = tmp_path / "reference.duckdb"
    with duckdb.connect(str(reference)) as con:
        client = make_client()
        sync_pull_requests(client, RawLoader(con), repos, per_page=PER_PAGE, batch_size=BATCH_SIZE)

    resumed = rows(killed)
    assert len(resumed) == len({pr_id for pr_id, _ in resumed}), "duplicate rows after the rerun"
    assert resumed == rows(reference)

    with duckdb.connect(str(killed)) as con:
        outcomes = con.execute("SELECT outcome, error FROM meta.sync_runs ORDER BY started_at").fetchall()
    interrupted = [o for o in outcomes if o[1] == INTERRUPTED_ERROR]
    assert len(interrupted) == 1 and interrupted[0][0] == "failed"
    assert [o[0] for o in outcomes[-len(repos) :]] == ["success"] * len(repos)
