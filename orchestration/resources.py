"""Dagster resources: the warehouse file and the API sources, built from techledger.yaml.

Resources hold *where* and *who*; the ingestion functions they hand to assets hold *how*. Tokens are passed as
``dg.EnvVar`` so Dagster resolves them at run time and never shows them in the UI, run config or event log.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from ingestion.github.client import github_client
from ingestion.http import HttpClient


class WarehouseResource(dg.ConfigurableResource):
    """The one DuckDB file every writing asset shares (one writer at a time: see the duckdb_writer pool)."""

    path: str
    memory_limit: str = "4GB"

    @property
    def data_dir(self) -> Path:
        return Path(self.path).parent

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.path, read_only=read_only, config={"memory_limit": self.memory_limit})
        try:
            yield con
        finally:
            con.close()


class GitHubResource(dg.ConfigurableResource):
    """A GitHub REST API source: base URL, the token (from an env var) and the repositories to read."""

    base_url: str
    token: str | None = None
    token_env: str | None = None
    repos: list[str]
    per_page: int = 100
    overlap_minutes: int = 10
    timeout_seconds: float = 30.0

    def client(self) -> HttpClient:
        return github_client(
            self.base_url,
            self.token,
            token_env=self.token_env,
            timeout=(10.0, self.timeout_seconds),
        )
