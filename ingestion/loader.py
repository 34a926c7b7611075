"""Loading raw records into DuckDB: idempotent upserts by primary key, cursor in the same transaction.

Why this shape (DESIGN.md "Ingestion contract"):
- Raw tables keep the whole payload as JSON plus the few typed columns the loader and the cursor need,
  so a new or missing API field never breaks loading; typing happens in dbt staging.
- Every batch is one transaction: rows are upserted (a re-read row replaces the old one, never
  duplicates it) and, when the connector has finished its walk, the new cursor is written with them.
  A kill at any point leaves either the whole batch (and its cursor) or none of it; the next run starts
  from the last committed cursor and re-reads the overlap, and the upsert absorbs the repeats.
- Memory is bounded by the batch: the loader converts one batch to Arrow and hands it to DuckDB.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any, Protocol, TypeVar

import duckdb
import pyarrow as pa

from ingestion.meta import INTERRUPTED_ERROR, META_DDL, Outcome, SyncRun

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_BATCH_VIEW = "_techledger_upsert_batch"
_MAX_ERROR_CHARS = 4000

# Columns every raw table gets; connectors never set them.
STANDARD_COLUMNS: dict[str, str] = {"payload": "JSON", "_ingested_at": "TIMESTAMPTZ", "_sync_id": "VARCHAR"}

T = TypeVar("T")


class RecordError(ValueError):
    """A record cannot be loaded (missing key, wrong type, naive timestamp). Names table, row and column."""


class StatsLike(Protocol):
    """What `finish_run` records from the HTTP client's `RequestStats` (kept structural: no HTTP import)."""

    requests: int
    not_modified: int
    retries: int
    http_errors: Mapping[int, int]


def _utc_timestamp(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"expected an ISO-8601 string or datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        raise ValueError(f"timestamp {value.isoformat()} has no time zone; refusing to guess one")
    return value.astimezone(UTC)


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    raise TypeError(f"expected an ISO date string or date, got {type(value).__name__}")


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        json.loads(value)  # validate: a str payload must already be JSON
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return int(value)


def _str(value: Any) -> str:
    if isinstance(value, dict | list):
        raise TypeError(f"expected a scalar, got {type(value).__name__}")
    return value if isinstance(value, str) else str(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected a boolean, got {type(value).__name__}")
    return value


# DuckDB type -> (Arrow type, Python converter). Types outside this list are rejected at spec time.
_TYPES: dict[str, tuple[pa.DataType, Callable[[Any], Any]]] = {
    "BIGINT": (pa.int64(), _int),
    "INTEGER": (pa.int32(), _int),
    "SMALLINT": (pa.int16(), _int),
    "DOUBLE": (pa.float64(), float),
    "BOOLEAN": (pa.bool_(), _bool),
    "VARCHAR": (pa.string(), _str),
    "TIMESTAMPTZ": (pa.timestamp("us", tz="UTC"), _utc_timestamp),
    "DATE": (pa.date32(), _date),
    "JSON": (pa.string(), _json_text),
}


def _quote(identifier: str) -> str:
    return f'"{identifier}"'


@dataclass(frozen=True)
class RawTable:
    """Spec of one raw table `raw_<source>.<stream>`: natural key and the few typed columns.

    `columns` maps name -> DuckDB type and must contain the primary key columns. `payload`,
    `_ingested_at` and `_sync_id` are added by the loader. Columns added to the spec later are added
    to the existing table with ALTER TABLE.
    """

    source: str
    stream: str
    primary_key: tuple[str, ...]
    columns: Mapping[str, str]

    def __post_init__(self) -> None:
        for name in (self.source, self.stream, *self.columns):
            if not _IDENTIFIER.match(name):
                raise ValueError(f"{self.qualified_name}: {name!r} is not a lower_snake_case identifier")
        if not self.primary_key:
            raise ValueError(f"{self.qualified_name}: a primary key is required")
        missing = [c for c in self.primary_key if c not in self.columns]
        if missing:
            raise ValueError(f"{self.qualified_name}: primary key column(s) {missing} are not in columns")
        reserved = sorted(set(self.columns) & set(STANDARD_COLUMNS))
        if reserved:
            raise ValueError(f"{self.qualified_name}: {reserved} are added by the loader; remove them")
        unknown = {c: t for c, t in self.columns.items() if t.upper() not in _TYPES}
        if unknown:
            raise ValueError(f"{self.qualified_name}: unsupported column types {unknown}; use one of {list(_TYPES)}")

    @property
    def schema(self) -> str:
        return f"raw_{self.source}"

    @property
    def qualified_name(self) -> str:
        return f"raw_{self.source}.{self.stream}"

    @property
    def all_columns(self) -> dict[str, str]:
        return {**{c: t.upper() for c, t in self.columns.items()}, **STANDARD_COLUMNS}

    @property
    def sql_name(self) -> str:
        return f"{_quote(self.schema)}.{_quote(self.stream)}"


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of at most `size` items (itertools.batched is Python 3.12+)."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class RawLoader:
    """Writes raw tables and the `meta` schema through one DuckDB connection (one writer at a time)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._ensured: set[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]] = set()
        self._meta_ready = False

    # ------------------------------------------------------------------ schema

    def ensure_meta(self) -> None:
        """Create the `meta` schema tables if missing (idempotent)."""
        if self._meta_ready:
            return
        for ddl in META_DDL:
            self.con.execute(ddl)
        self._meta_ready = True

    def ensure_table(self, table: RawTable) -> None:
        """Create `raw_<source>.<stream>` if missing; add columns the spec gained since it was created."""
        signature = (table.qualified_name, table.primary_key, tuple(table.all_columns.items()))
        if signature in self._ensured:
            return
        columns = table.all_columns
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(table.schema)}")
        definitions = ", ".join(f"{_quote(c)} {t}" for c, t in columns.items())
        pk = ", ".join(_quote(c) for c in table.primary_key)
        self.con.execute(f"CREATE TABLE IF NOT EXISTS {table.sql_name} ({definitions}, PRIMARY KEY ({pk}))")

        existing_pk = self.con.execute(
            "SELECT constraint_column_names FROM duckdb_constraints() "
            "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? "
            "AND constraint_type = 'PRIMARY KEY'",
            [table.schema, table.stream],
        ).fetchone()
        if existing_pk is not None and tuple(existing_pk[0]) != table.primary_key:
            raise RecordError(
                f"{table.qualified_name} has primary key {tuple(existing_pk[0])} but the connector now uses "
                f"{table.primary_key}; migrate the table (or drop it and resync) before loading"
            )
        present = {
            row[0]
            for row in self.con.execute(
                "SELECT column_name FROM duckdb_columns() "
                "WHERE database_name = current_database() AND schema_name = ? AND table_name = ?",
                [table.schema, table.stream],
            ).fetchall()
        }
        for column, column_type in columns.items():
            if column not in present:
                self.con.execute(f"ALTER TABLE {table.sql_name} ADD COLUMN {_quote(column)} {column_type}")
        self._ensured.add(signature)

    # ------------------------------------------------------------------ state and runs

    def get_state(self, source: str, stream: str, scope: str) -> dict[str, Any] | None:
        """The last committed state of a stream scope, or None before its first completed sync."""
        self.ensure_meta()
        row = self.con.execute(
            "SELECT state FROM meta.sync_state WHERE source = ? AND stream = ? AND scope = ?",
            [source, stream, scope],
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def start_run(self, source: str, stream: str, scope: str) -> SyncRun:
        """Record a 'running' sync run; earlier runs of the scope still 'running' were interrupted."""
        self.ensure_meta()
        run = SyncRun(uuid.uuid4().hex, source, stream, scope, datetime.now(UTC))
        with self._transaction():
            self.con.execute(
                "UPDATE meta.sync_runs SET outcome = 'failed', finished_at = ?, error = ? "
                "WHERE source = ? AND stream = ? AND scope = ? AND outcome = 'running'",
                [run.started_at, INTERRUPTED_ERROR, source, stream, scope],
            )
            self.con.execute(
                "INSERT INTO meta.sync_runs (sync_id, source, stream, scope, started_at, records, outcome) "
                "VALUES (?, ?, ?, ?, ?, 0, 'running')",
                [run.sync_id, source, stream, scope, run.started_at],
            )
        return run

    def save_state(self, run: SyncRun, state: Mapping[str, Any]) -> None:
        """Commit a new state for the run's scope on its own (no rows)."""
        with self._transaction():
            self._write_state(run, state)

    def finish_run(
        self,
        run: SyncRun,
        outcome: Outcome,
        records: int | None = None,
        stats: StatsLike | None = None,
        error: str | None = None,
    ) -> None:
        """Close the run's row with its outcome, record count and request counters."""
        if outcome not in ("success", "failed"):
            raise ValueError(f"finish_run outcome must be 'success' or 'failed', got {outcome!r}")
        http_errors = json.dumps({str(k): v for k, v in sorted(stats.http_errors.items()) if v}) if stats else None
        with self._transaction():
            self.con.execute(
                "UPDATE meta.sync_runs SET finished_at = ?, records = ?, requests = ?, not_modified = ?, "
                "retries = ?, http_errors = ?, outcome = ?, error = ? WHERE sync_id = ?",
                [
                    datetime.now(UTC),
                    run.records if records is None else records,
                    stats.requests if stats else None,
                    stats.not_modified if stats else None,
                    stats.retries if stats else None,
                    http_errors,
                    outcome,
                    error[:_MAX_ERROR_CHARS] if error else None,
                    run.sync_id,
                ],
            )

    # ------------------------------------------------------------------ data

    def upsert(
        self,
        table: RawTable,
        records: Iterable[Mapping[str, Any]],
        run: SyncRun,
        state: Mapping[str, Any] | None = None,
    ) -> int:
        """Upsert one batch (and optionally the scope's new state) in a single transaction.

        Rows with the same primary key within the batch collapse to the last one (DuckDB cannot update
        a row twice in one statement, and the last copy is the freshest). Returns the rows written.
        """
        self.ensure_meta()
        self.ensure_table(table)
        rows = self._dedupe(table, records)
        arrow = self._to_arrow(table, rows, run) if rows else None
        with self._transaction():
            if arrow is not None:
                self.con.register(_BATCH_VIEW, arrow)
                try:
                    self.con.execute(self._upsert_sql(table))
                finally:
                    self.con.unregister(_BATCH_VIEW)
            if state is not None:
                self._write_state(run, state)
        run.records += len(rows)
        return len(rows)

    # ------------------------------------------------------------------ internals

    def _transaction(self) -> _Transaction:
        return _Transaction(self.con)

    def _write_state(self, run: SyncRun, state: Mapping[str, Any]) -> None:
        self.con.execute(
            "INSERT INTO meta.sync_state (source, stream, scope, state, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (source, stream, scope) DO UPDATE SET state = excluded.state, "
            "updated_at = excluded.updated_at",
            [run.source, run.stream, run.scope, json.dumps(dict(state)), datetime.now(UTC)],
        )

    @staticmethod
    def _dedupe(table: RawTable, records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        by_key: dict[tuple[Any, ...], Mapping[str, Any]] = {}
        for index, record in enumerate(records):
            key = tuple(record.get(column) for column in table.primary_key)
            if any(part is None for part in key):
                raise RecordError(
                    f"{table.qualified_name}: record {index} has no value for primary key "
                    f"{table.primary_key} (got {dict(zip(table.primary_key, key, strict=True))})"
                )
            if "payload" not in record or record["payload"] is None:
                raise RecordError(f"{table.qualified_name}: record {index} (key {key}) has no payload")
            by_key.pop(key, None)  # re-insert so order follows the last occurrence
            by_key[key] = record
        return list(by_key.values())

    @staticmethod
    def _to_arrow(table: RawTable, rows: Sequence[Mapping[str, Any]], run: SyncRun) -> pa.Table:
        ingested_at = datetime.now(UTC)
        arrays: dict[str, pa.Array] = {}
        for column, column_type in table.all_columns.items():
            arrow_type, convert = _TYPES[column_type]
            if column == "_ingested_at":
                values: list[Any] = [ingested_at] * len(rows)
            elif column == "_sync_id":
                values = [run.sync_id] * len(rows)
            else:
                values = []
                for row in rows:
                    value = row.get(column)
                    try:
                        values.append(None if value is None else convert(value))
                    except (TypeError, ValueError) as exc:
                        key = tuple(row.get(c) for c in table.primary_key)
                        raise RecordError(
                            f"{table.qualified_name}: record with key {key}: column {column!r} "
                            f"({column_type}) cannot take {type(value).__name__} value: {exc}"
                        ) from None
            arrays[column] = pa.array(values, type=arrow_type)
        return pa.table(arrays)

    @staticmethod
    def _upsert_sql(table: RawTable) -> str:
        columns = table.all_columns
        names = ", ".join(_quote(c) for c in columns)
        select = ", ".join(f"CAST({_quote(c)} AS {t}) AS {_quote(c)}" for c, t in columns.items())
        keys = ", ".join(_quote(c) for c in table.primary_key)
        updates = ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in columns if c not in table.primary_key)
        return (
            f"INSERT INTO {table.sql_name} ({names}) SELECT {select} FROM {_BATCH_VIEW} "
            f"ON CONFLICT ({keys}) DO UPDATE SET {updates}"
        )


class _Transaction:
    """BEGIN ... COMMIT, or ROLLBACK on any exception (including KeyboardInterrupt)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def __enter__(self) -> None:
        self.con.begin()

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.con.commit()
        else:
            self.con.rollback()
