"""The shared `python -m ingestion.<source>.<stream>` entry point of the scoped connectors.

Each stream module exposes a tiny ``main`` so a sync can run outside Dagster (the crash test kills one, the
benchmark measures one). What they share — arguments, token from an environment variable, exit codes, the
one-line summary per scope — lives here once.
Exit codes: 0 success, 1 a scope failed (the others were synced), 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb

from ingestion.errors import SourceError, SyncFailedError
from ingestion.http import HttpClient
from ingestion.loader import RawLoader
from ingestion.runs import SyncSummary

Run = Callable[[HttpClient, RawLoader, list[str]], SyncSummary]


@dataclass(frozen=True)
class SourceCli:
    """What differs between sources: the scope flag (--repos, --projects), defaults and the client factory."""

    source: str
    scope_flag: str
    scope_help: str
    base_url_help: str
    default_token_env: str
    make_client: Callable[..., HttpClient]  # (base_url, token, *, token_env) -> HttpClient

    def main(self, stream: str, description: str, run: Run, argv: Sequence[str] | None = None) -> int:
        parser = argparse.ArgumentParser(prog=f"python -m ingestion.{self.source}.{stream}", description=description)
        parser.add_argument("--warehouse", required=True, help="DuckDB file to write")
        parser.add_argument("--base-url", required=True, help=self.base_url_help)
        parser.add_argument(f"--{self.scope_flag}", required=True, dest="scopes", help=self.scope_help)
        parser.add_argument("--token-env", default=self.default_token_env, help="NAME of the env var holding the token")
        parser.add_argument("--log-level", default="INFO")
        args = parser.parse_args(argv)
        logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        token = os.environ.get(args.token_env)
        if not token:
            print(f"error: environment variable {args.token_env} is not set or empty", file=sys.stderr)
            return 2
        scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
        try:
            with (
                duckdb.connect(args.warehouse) as con,
                self.make_client(args.base_url, token, token_env=args.token_env) as client,
            ):
                summary = run(client, RawLoader(con), scopes)
        except SyncFailedError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except (SourceError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for result in summary.results:
            print(f"{result.scope}: {result.records} records, {result.requests} requests, {result.outcome}")
        return 0
