"""RawLoader: idempotent upserts, cursor in the same transaction, schema evolution, run bookkeeping."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingestion.loader import RawLoader, RawTable, RecordError, batched
from ingestion.meta import INTERRUPTED_ERROR
from ingestion.stats import RequestStats

TABLE = RawTable(
    source="demo",
    stream="things",
    primary_key=("id",),
    columns={"id": "BIGINT", "repo": "VARCHAR", "updated_at": "TIMESTAMPTZ"},
)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


@pytest.fixture
def loader(con: duckdb.DuckDBPyConnection) -> RawLoader:
    return RawLoader(con)


def thing(id_: int, version: int = 1, **extra: Any) -> dict[str, Any]:
    payload = {"id": id_, "version": version, "updated_at": f"2026-05-0{version}T10:00:00Z", **extra}
    return {"id": id_, "repo": "acme/api", "updated_at": payload["updated_at"], "payload": payload}


def rows(con: duckdb.DuckDBPyConnection) -> dict[int, dict[str, Any]]:
    result = con.execute("SELECT id, payload FROM raw_demo.things ORDER BY id").fetchall()
    return {row[0]: json.loads(row[1]) for row in result}


def test_upsert_creates_table_and_inserts_then_updates_by_primary_key(
    loader: RawLoader, con: duckdb.DuckDBPyConnection
) -> None:
    run = loader.start_run("demo", "things", "acme/api")
    assert loader.upsert(TABLE, [thing(1), thing(2)], run) == 2
    assert loader.upsert(TABLE, [thing(2, version=2), thing(3)], run) == 2

    assert rows(con) == {1: thing(1)["payload"], 2: thing(2, 2)["payload"], 3: thing(3)["payload"]}
    assert con.execute("SELECT count(*), count(DISTINCT id) FROM raw_demo.things").fetchone() == (3, 3)
    assert run.records == 4
    columns = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw_demo' AND table_name = 'things'"
        ).fetchall()
    )
    assert columns == {
        "id": "BIGINT",
        "repo": "VARCHAR",
        "updated_at": "TIMESTAMP WITH TIME ZONE",
        "payload": "JSON",
        "_ingested_at": "TIMESTAMP WITH TIME ZONE",
        "_sync_id": "VARCHAR",
    }
    sync_ids = {r[0] for r in con.execute("SELECT _sync_id FROM raw_demo.things").fetchall()}
    assert sync_ids == {run.sync_id}


def test_duplicate_keys_within_a_batch_keep_the_last_occurrence(
    loader: RawLoader, con: duckdb.DuckDBPyConnection
) -> None:
    run = loader.start_run("demo", "things", "acme/api")
    written = loader.upsert(TABLE, [thing(1, 1), thing(2), thing(1, 3)], run)
    assert written == 2
    assert rows(con)[1]["version"] == 3


def test_timestamps_are_stored_in_utc_and_naive_ones_are_refused(
    loader: RawLoader, con: duckdb.DuckDBPyConnection
) -> None:
    run = loader.start_run("demo", "things", "s")
    record = thing(1)
    record["updated_at"] = "2026-05-01T12:00:00.000+0200"  # Jira style offset, no colon
    loader.upsert(TABLE, [record], run)
    stored = con.execute("SELECT updated_at FROM raw_demo.things").fetchone()[0]
    assert stored == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)

    naive = thing(2)
    naive["updated_at"] = "2026-05-01T12:00:00"
    with pytest.raises(RecordError, match=r"raw_demo.things: record with key \(2,\): column 'updated_at'"):
        loader.upsert(TABLE, [naive], run)


def test_missing_primary_key_or_payload_is_a_clear_error(loader: RawLoader) -> None:
    run = loader.start_run("demo", "things", "s")
    with pytest.raises(RecordError, match=r"raw_demo.things: record 1 has no value for primary key"):
        loader.upsert(TABLE, [thing(1), {"repo": "x", "payload": {}}], run)
    with pytest.raises(RecordError, match="has no payload"):
        loader.upsert(TABLE, [{"id": 5}], run)


def test_payload_may_be_a_json_string_and_is_stored_as_served(
    loader: RawLoader, con: duckdb.DuckDBPyConnection
) -> None:
    run = loader.start_run("demo", "things", "s")
    loader.upsert(TABLE, [{"id": 1, "payload": '{"b": 1, "a": [1, 2]}'}, {"id": 2, "payload": [1, "ü"]}], run)
    assert rows(con) == {1: {"b": 1, "a": [1, 2]}, 2: [1, "ü"]}
    # JSON functions work on the column: it is DuckDB's JSON type, not text.
    assert con.execute("SELECT payload->>'$.b' FROM raw_demo.things WHERE id = 1").fetchone() == ("1",)


def test_state_is_written_in_the_same_transaction_as_the_batch(
    loader: RawLoader, con: duckdb.DuckDBPyConnection
) -> None:
    run = loader.start_run("demo", "things", "acme/api")
    assert loader.get_state("demo", "things", "acme/api") is None
    loader.upsert(TABLE, [thing(1)], run, state={"cursor": "2026-05-01T00:00:00+00:00"})
    assert loader.get_state("demo", "things", "acme/api") == {"cursor": "2026-05-01T00:00:00+00:00"}

    # A bad record in the batch rolls back the whole batch *and* the state that came with it.
    bad = thing(3)
    bad["updated_at"] = "not a timestamp"
    with pytest.raises(RecordError):
        loader.upsert(TABLE, [thing(2), bad], run, state={"cursor": "2026-06-01T00:00:00+00:00"})
    assert set(rows(con)) == {1}
    assert loader.get_state("demo", "things", "acme/api") == {"cursor": "2026-05-01T00:00:00+00:00"}


def test_a_failing_statement_rolls_back_rows_and_state(loader: RawLoader, con: duckdb.DuckDBPyConnection) -> None:
    """A failure inside the transaction (here: the state write hits a broken meta table) keeps nothing."""
    run = loader.start_run("demo", "things", "acme/api")
    loader.upsert(TABLE, [thing(1)], run)
    con.execute("ALTER TABLE meta.sync_state RENAME TO sync_state_gone")
    with pytest.raises(duckdb.Error):
        loader.upsert(TABLE, [thing(2)], run, state={"cursor": "x"})
    con.execute("ALTER TABLE meta.sync_state_gone RENAME TO sync_state")
    assert set(rows(con)) == {1}
    assert loader.get_state("demo", "things", "acme/api") is None
    # The connection is usable afterwards (no transaction left open).
    loader.upsert(TABLE, [thing(2)], run, state={"cursor": "y"})
    assert set(rows(con)) == {1, 2}


def test_save_state_alone_and_state_is_per_scope(loader: RawLoader) -> None:
    run_a = loader.start_run("demo", "things", "a")
    run_b = loader.start_run("demo", "things", "b")
    loader.save_state(run_a, {"cursor": "1"})
    loader.save_state(run_b, {"cursor": "2"})
    loader.save_state(run_a, {"cursor": "3", "extra": [1]})
    assert loader.get_state("demo", "things", "a") == {"cursor": "3", "extra": [1]}
    assert loader.get_state("demo", "things", "b") == {"cursor": "2"}
    assert loader.get_state("demo", "other", "a") is None


def test_new_spec_columns_are_added_to_an_existing_table(tmp_path: Path) -> None:
    path = str(tmp_path / "w.duckdb")
    with duckdb.connect(path) as con:
        loader = RawLoader(con)
        run = loader.start_run("demo", "things", "s")
        loader.upsert(TABLE, [thing(1)], run)

    wider = RawTable("demo", "things", ("id",), {**TABLE.columns, "state": "VARCHAR", "number": "INTEGER"})
    with duckdb.connect(path) as con:
        loader = RawLoader(con)
        run = loader.start_run("demo", "things", "s")
        loader.upsert(TABLE, [thing(1, 2)], run)  # old spec still loads into the wider table later
        loader.upsert(wider, [{**thing(2), "state": "open", "number": 7}], run)
        result = con.execute("SELECT id, state, number FROM raw_demo.things ORDER BY id").fetchall()
    assert result == [(1, None, None), (2, "open", 7)]


def test_a_changed_primary_key_is_refused_with_a_migration_hint(loader: RawLoader) -> None:
    run = loader.start_run("demo", "things", "s")
    loader.upsert(TABLE, [thing(1)], run)
    other = RawTable("demo", "things", ("repo",), dict(TABLE.columns))
    with pytest.raises(RecordError, match=r"primary key \('id',\).*migrate the table"):
        RawLoader(loader.con).upsert(other, [thing(1)], run)


def test_raw_table_spec_is_validated() -> None:
    with pytest.raises(ValueError, match="primary key column"):
        RawTable("demo", "x", ("id",), {"repo": "VARCHAR"})
    with pytest.raises(ValueError, match="added by the loader"):
        RawTable("demo", "x", ("id",), {"id": "BIGINT", "payload": "JSON"})
    with pytest.raises(ValueError, match="not a lower_snake_case identifier"):
        RawTable("demo", "x; drop table y", ("id",), {"id": "BIGINT"})
    with pytest.raises(ValueError, match="unsupported column types"):
        RawTable("demo", "x", ("id",), {"id": "HUGEINT"})


def test_sync_runs_record_outcome_counts_and_http_errors(loader: RawLoader, con: duckdb.DuckDBPyConnection) -> None:
    run = loader.start_run("demo", "things", "acme/api")
    row = con.execute("SELECT outcome, records FROM meta.sync_runs WHERE sync_id = ?", [run.sync_id]).fetchone()
    assert row == ("running", 0)
    loader.upsert(TABLE, [thing(1), thing(2)], run)
    stats = RequestStats(requests=5, not_modified=1, retries=2, http_errors=Counter({502: 1, 429: 1}))
    loader.finish_run(run, "success", stats=stats)

    row = con.execute(
        "SELECT outcome, records, requests, not_modified, retries, http_errors, error, finished_at IS NOT NULL "
        "FROM meta.sync_runs WHERE sync_id = ?",
        [run.sync_id],
    ).fetchone()
    assert row[:5] == ("success", 2, 5, 1, 2)
    assert json.loads(row[5]) == {"429": 1, "502": 1}
    assert row[6] is None and row[7] is True

    failed = loader.start_run("demo", "things", "acme/api")
    loader.finish_run(failed, "failed", 0, None, "github GET /x: HTTP 403 permission denied")
    assert con.execute("SELECT outcome, error FROM meta.sync_runs WHERE sync_id = ?", [failed.sync_id]).fetchone() == (
        "failed",
        "github GET /x: HTTP 403 permission denied",
    )


def test_a_run_left_running_by_a_killed_process_is_marked_interrupted(
    loader: RawLoader, con: duckdb.DuckDBPyConnection
) -> None:
    crashed = loader.start_run("demo", "things", "acme/api")
    other_scope = loader.start_run("demo", "things", "acme/web")
    loader.start_run("demo", "things", "acme/api")
    outcomes = dict(con.execute("SELECT sync_id, outcome FROM meta.sync_runs").fetchall())
    assert outcomes[crashed.sync_id] == "failed"
    assert outcomes[other_scope.sync_id] == "running"
    error = con.execute("SELECT error FROM meta.sync_runs WHERE sync_id = ?", [crashed.sync_id]).fetchone()[0]
    assert error == INTERRUPTED_ERROR


def test_large_streams_are_loaded_batch_by_batch(loader: RawLoader, con: duckdb.DuckDBPyConnection) -> None:
    """The loader takes an iterator of batches; it never needs the whole stream in memory."""
    consumed: list[int] = []

    def stream() -> Iterator[dict[str, Any]]:
        for i in range(1, 2501):
            consumed.append(i)
            yield thing(i)

    run = loader.start_run("demo", "things", "s")
    for batch in batched(stream(), 1000):
        # When a batch is written, the generator has produced exactly that batch and no more.
        assert len(consumed) == batch[-1]["id"]
        loader.upsert(TABLE, batch, run)
    assert con.execute("SELECT count(*) FROM raw_demo.things").fetchone() == (2500,)
    assert run.records == 2500


def test_ingested_at_is_set_per_batch(loader: RawLoader, con: duckdb.DuckDBPyConnection) -> None:
    run = loader.start_run("demo", "things", "s")
    before = datetime.now(UTC) - timedelta(seconds=1)
    loader.upsert(TABLE, [thing(1)], run)
    ingested = con.execute("SELECT _ingested_at FROM raw_demo.things").fetchone()[0]
    assert before <= ingested <= datetime.now(UTC) + timedelta(seconds=1)
