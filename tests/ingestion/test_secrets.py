"""The token never reaches a log record, an exception or the warehouse — failures and retries included."""

from __future__ import annotations

import logging
from collections.abc import Callable

import duckdb
import pytest
import requests

from ingestion.errors import SyncFailedError
from ingestion.github.pull_requests import sync_pull_requests
from ingestion.http import HttpClient
from ingestion.loader import RawLoader
from simulation.company import Company
from simulation.server import FakeApiServer

from .conftest import repos_by_size

SENTINEL = "ghp_SECRETSENTINEL123"


def exception_texts(exc: BaseException) -> list[str]:
    """str/repr of the exception, its attributes and everything it chains to."""
    texts: list[str] = []
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        assert not isinstance(current, requests.RequestException), "a requests exception (it holds headers) leaked"
        texts += [str(current), repr(current), repr(vars(current))]
        stack += [e for e in (current.__cause__, current.__context__) if e is not None]
    return texts


def text_cells(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every VARCHAR and JSON value of every table in the warehouse."""
    columns = con.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE data_type IN ('VARCHAR', 'JSON')"
    ).fetchall()
    assert columns, "no text columns found: the scan would prove nothing"
    cells: list[str] = []
    for schema, table, column in columns:
        sql = f'SELECT CAST("{column}" AS VARCHAR) FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL'
        cells += [row[0] for row in con.execute(sql).fetchall()]
    return cells


def test_token_never_appears_in_logs_exceptions_or_the_warehouse(
    make_client: Callable[..., HttpClient],
    server: FakeApiServer,
    company: Company,
    warehouse: duckdb.DuckDBPyConnection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's request lines included
    client = make_client(token=SENTINEL, max_retries=3, timeout=(2.0, 0.3))
    repos = repos_by_size(company)[:4]
    retried, denied, unauthorized, throttled = repos
    server.faults.inject(source="github", kind="server_error", times=1, status=502, path_contains=f"/{retried}/")
    server.faults.inject(source="github", kind="truncated_body", times=1, path_contains=f"/{retried}/")
    server.faults.inject(source="github", kind="timeout", times=1, delay=1.0, path_contains=f"/{retried}/")
    server.faults.inject(source="github", kind="permission_403", times=1, path_contains=f"/{denied}/")
    server.faults.inject(source="github", kind="unauthorized_401", times=2, path_contains=f"/{unauthorized}/")
    server.faults.inject(source="github", kind="secondary_403", times=4, path_contains=f"/{throttled}/")

    with pytest.raises(SyncFailedError) as caught:
        sync_pull_requests(client, RawLoader(warehouse), repos, per_page=100)

    # The run did what the test claims: retries happened, and three repos failed in three different ways.
    assert client.stats.retries >= 3
    assert set(caught.value.failures) == {denied, unauthorized, throttled}
    messages = " ".join(caught.value.failures.values())
    assert "HTTP 403 permission denied" in messages
    assert "HTTP 401" in messages
    assert "gave up after 4 attempts" in messages

    haystacks: list[str] = exception_texts(caught.value)
    haystacks += [repr(client), repr(client.stats), repr(caught.value.summary)]
    for record in caplog.records:
        haystacks += [record.getMessage(), repr(record.args), record.exc_text or ""]
    haystacks += text_cells(warehouse)

    assert len(caplog.records) > 5
    leaks = [text for text in haystacks if SENTINEL in text]
    assert leaks == []
    # Sanity check of the check: the sentinel would be found if it were there.
    assert any("permission denied" in text for text in haystacks)
