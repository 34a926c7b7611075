"""Load billing files into raw_billing.cost_lines with DuckDB's own readers, restatement-safe.

For one file: read it with ``read_csv`` / ``read_parquet`` / ``read_json`` (nothing row by row in Python),
(1) validate — mandatory columns present, money/timestamp columns parse, JSON tags are JSON; a failure
quarantines the file with the column and the first bad row, and touches nothing else; (2) summarise its
partitions — (dataset, scope, billing period, kind) with rows and BilledCost/EffectiveCost sums; (3) in ONE
transaction, for each partition it is at least as new as the current owner of, delete the owner's rows and
``INSERT ... SELECT`` its own, and mark fully replaced deliveries ``superseded``. A file seen before (same
sha256) is recorded as ``duplicate`` and not loaded again. Kind is ``corrections`` for a file that holds only
``ChargeClass = 'Correction'`` rows, so a corrections file never wipes the regular delivery of its period.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from ingestion.billing.formats import GCP_JSON_COLUMNS, MACROS, PLANS, Plan, SourceColumns, q
from ingestion.billing.scanner import DropFile, pending_files, scan_drop_folder
from ingestion.billing.schema import COST_LINE_COLUMNS, FOCUS_COLUMNS, ensure_billing_tables
from ingestion.loader import RawLoader

_MAX_REASON = 2000


class QuarantineError(ValueError):
    """A file cannot be loaded; the message names the file, the column and the first bad row."""


@dataclass
class FileResult:
    relative_path: str
    content_hash: str
    status: str
    reason: str | None = None
    rows: int = 0
    billed_cost: Decimal | None = None
    effective_cost: Decimal | None = None
    partitions: list[tuple[str, str, str]] = field(default_factory=list)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _reader_sql(file: DropFile) -> str:
    path = _sql_str(str(file.path))
    name = file.path.name.lower()
    if name.endswith(".parquet"):
        return f"read_parquet({path}, file_row_number = true)"
    if name.endswith((".jsonl", ".json", ".ndjson", ".jsonl.gz")):
        columns = "{" + ", ".join(f"{_sql_str(k)}: {_sql_str(v)}" for k, v in GCP_JSON_COLUMNS.items()) + "}"
        return f"read_json({path}, format = 'newline_delimited', columns = {columns})"
    return f"read_csv({path}, header = true, all_varchar = true, nullstr = ['', 'null', 'NULL'], strict_mode = true)"


def _numbered_sql(file: DropFile) -> str:
    reader = _reader_sql(file)
    if file.path.name.lower().endswith(".parquet"):
        return f"SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _row FROM {reader}"
    return f"SELECT *, row_number() OVER () AS _row FROM {reader}"


def _source_columns(con: duckdb.DuckDBPyConnection, file: DropFile) -> SourceColumns:
    rows = con.execute(f"DESCRIBE SELECT * FROM {_reader_sql(file)}").fetchall()
    cols = {}
    for name, kind, *_ in rows:
        if name == "file_row_number":
            continue
        cols.setdefault(name.lower().lstrip("\ufeff"), (name, kind))
    return SourceColumns(cols)


def _validate(con: duckdb.DuckDBPyConnection, file: DropFile, cols: SourceColumns, plan: Plan) -> None:
    missing = [display for display, candidates in plan.required if cols.find(*candidates) is None]
    if missing:
        raise QuarantineError(f"{file.relative_path}: missing mandatory column(s) {', '.join(missing)}")
    checks: list[tuple[str, str, str]] = []  # (column, problem, bad-row predicate over src)
    for name in plan.money:
        checks.append((name, "not a number", f"tl_present(s.{q(name)}) AND tl_money(s.{q(name)}) IS NULL"))
    for name in plan.quantities:
        checks.append((name, "not a number", f"tl_present(s.{q(name)}) AND tl_qty(s.{q(name)}) IS NULL"))
    for name in plan.timestamps:
        checks.append((name, "not a timestamp", f"tl_present(s.{q(name)}) AND tl_ts(s.{q(name)}) IS NULL"))
    for name in plan.json_columns:
        predicate = f"tl_present(s.{q(name)}) AND coalesce(json_type(try_cast(s.{q(name)} AS JSON)), '') <> 'OBJECT'"
        checks.append((name, "not a JSON object", predicate))
    for name in plan.not_null:
        checks.append((name, "empty", f"s.{q(name)} IS NULL"))
    if not checks:
        return
    aggregates = ", ".join(
        f"min(_row) FILTER (WHERE {pred}), arg_min(CAST(s.{q(name)} AS VARCHAR), _row) FILTER (WHERE {pred})"
        for name, _, pred in checks
    )
    found = con.execute(f"SELECT {aggregates} FROM ({_numbered_sql(file)}) s").fetchone()
    bad = [
        (found[2 * i], name, problem, found[2 * i + 1])
        for i, (name, problem, _) in enumerate(checks)
        if found[2 * i] is not None
    ]
    if bad:
        row, name, problem, value = min(bad, key=lambda b: b[0])
        shown = "" if value is None else f" ({value[:60]!r})"
        raise QuarantineError(
            f"{file.relative_path}: column {name}: {problem}{shown} at data row {row} (line {row + 1}); "
            f"{len(bad)} column(s) with bad values"
        )


def _mapped_sql(file: DropFile, cols: SourceColumns, plan: Plan, kind: str, loaded_at: datetime) -> str:
    select = dict(plan.select)
    extra = [c for c in cols.names if c not in plan.used]
    select["x_extra"] = (
        "to_json(struct_pack(" + ", ".join(f"{q(c)} := p.{q(c)}" for c in extra) + "))" if extra else "NULL"
    )
    select["x_dataset"] = _sql_str(file.dataset)
    select["x_source_format"] = _sql_str(file.format)
    select["x_delivery_kind"] = _sql_str(kind)
    select["x_file_hash"] = _sql_str(file.content_hash)
    select["x_file_path"] = _sql_str(file.relative_path)
    select["x_source_row"] = "p._row"
    select["x_delivered_at"] = f"TIMESTAMPTZ {_sql_str(file.delivered_at.isoformat())}"
    select["x_loaded_at"] = f"TIMESTAMPTZ {_sql_str(loaded_at.isoformat())}"
    select["x_scope"] = select["x_scope"].replace("__FILE__", _sql_str(file.relative_path))
    parts = []
    for column, kind_ in COST_LINE_COLUMNS.items():
        if column == "x_billing_period":
            continue
        expression = select.get(column, "NULL")
        parts.append(f"CAST({expression} AS {kind_}) AS {q(column)}")
    inner = f"SELECT {', '.join(parts)} FROM ({_numbered_sql(file)}) p"
    return _ordered(inner)


def _ordered(inner: str) -> str:
    columns = []
    for column in COST_LINE_COLUMNS:
        if column == "x_billing_period":
            columns.append("tl_month(m.BillingPeriodStart) AS x_billing_period")
        else:
            columns.append(f"m.{q(column)}")
    return f"SELECT {', '.join(columns)} FROM ({inner}) m"


class BillingLoader:
    """Loads drop files into one DuckDB connection (the caller owns it and its single-writer lock)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, memory_limit: str | None = None) -> None:
        self.con = con
        con.execute("SET TimeZone = 'UTC'")
        if memory_limit:
            con.execute(f"SET memory_limit = {_sql_str(memory_limit)}")
        for macro in MACROS:
            con.execute(macro)
        ensure_billing_tables(con)

    # -- public -------------------------------------------------------------------------------------
    def load_drop(self, root: Path | str) -> list[FileResult]:
        """Load every new or changed file of the drop folder, oldest delivery first.

        The run is logged in meta.sync_runs (source ``billing``, stream ``cost_lines``, scope = the drop folder)
        like every other ingestion run; a quarantined file does not fail the run, it is in meta.billing_files.
        """
        raw = RawLoader(self.con)
        run = raw.start_run("billing", "cost_lines", str(root))
        try:
            results = self._load_drop(root)
        except Exception as exc:
            raw.finish_run(run, "failed", error=f"{type(exc).__name__}: {exc}"[:_MAX_REASON])
            raise
        raw.finish_run(run, "success", records=sum(r.rows for r in results if r.status == "loaded"))
        return results

    def _load_drop(self, root: Path | str) -> list[FileResult]:
        known = {
            path: (size, mtime, digest)
            for path, size, mtime, digest in self.con.execute(
                "SELECT path, size_bytes, mtime_ns, content_hash FROM meta.billing_files "
                "WHERE size_bytes IS NOT NULL QUALIFY row_number() OVER (PARTITION BY path ORDER BY loaded_at DESC) = 1"
            ).fetchall()
        }
        return self.load_files(pending_files(self.con, scan_drop_folder(root, known)))

    def load_files(self, files: Iterable[DropFile]) -> list[FileResult]:
        return [self.load_file(f) for f in files]

    def load_file(self, file: DropFile) -> FileResult:
        loaded_at = datetime.now(UTC)
        already = self.con.execute(
            "SELECT status, reason, rows FROM meta.billing_files WHERE path = ? AND content_hash = ?",
            [file.relative_path, file.content_hash],
        ).fetchone()
        if already is not None:
            return FileResult(file.relative_path, file.content_hash, already[0], already[1], already[2] or 0)
        twin = self.con.execute(
            "SELECT path FROM meta.billing_files WHERE content_hash = ? AND status <> 'duplicate' "
            "ORDER BY loaded_at LIMIT 1",
            [file.content_hash],
        ).fetchone()
        if twin is not None:
            result = FileResult(file.relative_path, file.content_hash, "duplicate", f"same content as {twin[0]}")
            self._record(file, result, loaded_at)
            return result
        try:
            return self._load(file, loaded_at)
        except QuarantineError as exc:
            result = FileResult(file.relative_path, file.content_hash, "quarantined", str(exc)[:_MAX_REASON])
        except duckdb.Error as exc:
            message = f"{file.relative_path}: unreadable: {str(exc).splitlines()[0] if str(exc) else exc!r}"
            result = FileResult(file.relative_path, file.content_hash, "quarantined", message[:_MAX_REASON])
        self._record(file, result, loaded_at)
        return result

    # -- internals ----------------------------------------------------------------------------------
    def _load(self, file: DropFile, loaded_at: datetime) -> FileResult:
        if file.format not in PLANS:
            raise QuarantineError(
                f"{file.relative_path}: unknown format folder; expected <provider>/<format>/ with format one of "
                "focus, cur2, cur, export, invoices"
            )
        cols = _source_columns(self.con, file)
        plan = PLANS[file.format](cols)
        _validate(self.con, file, cols, plan)
        mapped = _mapped_sql(file, cols, plan, "charges", loaded_at)
        con = self.con
        result = FileResult(file.relative_path, file.content_hash, "loaded")
        con.execute("BEGIN TRANSACTION")
        try:
            # Insert first (one streaming pass over the file), then decide per partition from what landed.
            con.execute(f"INSERT INTO raw_billing.cost_lines {mapped}")
            summary = con.execute(
                """SELECT x_scope, x_billing_period, count(*), sum(BilledCost), sum(EffectiveCost),
                          count(*) FILTER (WHERE ChargeClass IS DISTINCT FROM 'Correction')
                   FROM raw_billing.cost_lines WHERE x_file_hash = ? GROUP BY ALL ORDER BY 1, 2""",
                [file.content_hash],
            ).fetchall()
            if any(period is None for _, period, *_ in summary):
                raise QuarantineError(f"{file.relative_path}: rows without a billing period (BillingPeriodStart empty)")
            kind = "charges" if sum(r[5] for r in summary) > 0 or not summary else "corrections"
            if kind == "corrections":
                con.execute(
                    "UPDATE raw_billing.cost_lines SET x_delivery_kind = 'corrections' WHERE x_file_hash = ?",
                    [file.content_hash],
                )
            result.rows = sum(r[2] for r in summary)
            result.billed_cost = sum((r[3] or Decimal(0) for r in summary), Decimal(0))
            result.effective_cost = sum((r[4] or Decimal(0) for r in summary), Decimal(0))
            replaced: set[str] = set()
            stale_owner: str | None = None
            for scope, period, rows, billed, effective, _ in summary:
                owner = con.execute(
                    "SELECT content_hash, path, delivered_at FROM meta.billing_partitions "
                    "WHERE dataset = ? AND scope = ? AND billing_period = ? AND delivery_kind = ?",
                    [file.dataset, scope, period, kind],
                ).fetchone()
                if owner is not None and owner[2] > file.delivered_at:
                    stale_owner = owner[1]
                    con.execute(
                        "DELETE FROM raw_billing.cost_lines WHERE x_file_hash = ? AND x_scope = ? "
                        "AND x_billing_period = ?",
                        [file.content_hash, scope, period],
                    )
                    continue
                if owner is not None:
                    con.execute(
                        "DELETE FROM raw_billing.cost_lines WHERE x_dataset = ? AND x_scope = ? "
                        "AND x_billing_period = ? AND x_delivery_kind = ? AND x_file_hash <> ?",
                        [file.dataset, scope, period, kind, file.content_hash],
                    )
                    replaced.add(owner[0])
                con.execute(
                    "INSERT OR REPLACE INTO meta.billing_partitions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        file.dataset,
                        scope,
                        period,
                        kind,
                        file.content_hash,
                        file.relative_path,
                        file.delivered_at,
                        rows,
                        billed,
                        effective,
                        loaded_at,
                    ],
                )
                result.partitions.append((file.dataset, scope, str(period)))
            if summary and not result.partitions:
                result.status = "superseded"
                result.reason = f"older than the delivery already loaded for its period(s): {stale_owner}"
            for old in replaced - {file.content_hash}:
                still_owns = con.execute(
                    "SELECT count(*) FROM meta.billing_partitions WHERE content_hash = ?", [old]
                ).fetchone()[0]
                if not still_owns:
                    con.execute(
                        "UPDATE meta.billing_files SET status = 'superseded', superseded_by = ?, reason = ? "
                        "WHERE content_hash = ? AND status = 'loaded'",
                        [file.content_hash, f"replaced by {file.relative_path}", old],
                    )
            self._record(file, result, loaded_at, summary)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return result

    def _record(
        self, file: DropFile, result: FileResult, loaded_at: datetime, summary: list[tuple] | None = None
    ) -> None:
        scopes = sorted({str(r[0]) for r in summary or []})
        periods = sorted({str(r[1])[:7] for r in summary or []})
        self.con.execute(
            "INSERT OR REPLACE INTO meta.billing_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                file.relative_path,
                file.content_hash,
                file.provider,
                file.format,
                file.dataset,
                ",".join(scopes) or None,
                ",".join(periods) or None,
                file.delivery_id,
                file.delivered_at,
                file.size_bytes,
                file.mtime_ns,
                result.rows,
                result.billed_cost,
                result.effective_cost,
                result.status,
                result.reason,
                None,
                loaded_at,
            ],
        )


def load_drop(con: duckdb.DuckDBPyConnection, root: Path | str, memory_limit: str | None = None) -> list[FileResult]:
    """Load every new or changed file under ``root`` into ``con``; returns one result per file handled."""
    return BillingLoader(con, memory_limit=memory_limit).load_drop(root)


def file_summary(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    """meta.billing_files as dicts (for Dagster metadata and tests)."""
    cursor = con.execute("SELECT * FROM meta.billing_files ORDER BY loaded_at, path")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


__all__ = ["FOCUS_COLUMNS", "BillingLoader", "FileResult", "QuarantineError", "file_summary", "load_drop"]
