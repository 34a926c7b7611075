"""`dbt build` as a subprocess against a given warehouse, the way the tests that build models run it.

Each call gets a private --target-path/--log-path under ``work``, so it never clashes with another dbt run on the
same checkout (a `make dev` session, another test).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"


def dbt_build(warehouse: Path, work: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Run ``dbt build <args>`` on ``warehouse``; the caller asserts on the result (stdout has dbt's summary)."""
    dbt = Path(sys.executable).with_name("dbt")
    env = {**os.environ, "TECHLEDGER_WAREHOUSE": str(warehouse)}
    command = [
        str(dbt),
        "build",
        "--profiles-dir",
        str(DBT_PROJECT),
        "--project-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        *args,
    ]
    return subprocess.run(
        command, cwd=DBT_PROJECT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
