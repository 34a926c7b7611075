"""Find the files in a billing drop folder and tell which ones are new or changed.

Layout: ``<root>/<provider>/<format>/**/<file>``, e.g. ``aws/focus/``, ``aws/cur2/``, ``gcp/export/``,
``saas/invoices/``. A delivery is identified by its manifest (a sidecar ``<file>.manifest.json`` with
``delivery_id`` and ``delivered_at``) when there is one, else by its path and the sha256 of its content;
"newer" means a later ``delivered_at`` (manifest) or, without a manifest, a later file modification time.

Plain Python and no database: the Dagster sensor calls ``scan_drop_folder`` every tick, passing the
previous scan as ``known`` so unchanged files (same size and mtime) are not hashed again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".jsonl", ".json", ".jsonl.gz", ".ndjson")
MANIFEST_SUFFIX = ".manifest.json"

# drop sub-folder name -> canonical format
FORMAT_FOLDERS: dict[str, str] = {
    "focus": "focus",
    "cur2": "cur2",
    "cur-2.0": "cur2",
    "cur": "cur",
    "cur-legacy": "cur",
    "export": "gcp_export",
    "billing-export": "gcp_export",
    "invoices": "saas_invoice",
}
FORMATS = ("focus", "cur2", "cur", "gcp_export", "saas_invoice")


@dataclass(frozen=True)
class DropFile:
    """One data file of the drop folder. ``format`` is ``unknown`` when the folder names no known format."""

    path: Path
    relative_path: str
    provider: str
    format: str
    content_hash: str
    size_bytes: int
    mtime_ns: int
    delivered_at: datetime
    delivery_id: str
    manifest: Mapping[str, object] | None = None

    @property
    def dataset(self) -> str:
        parts = self.relative_path.split("/")
        return "/".join(parts[:2]) if len(parts) >= 3 else self.provider


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _is_data_file(path: Path) -> bool:
    name = path.name.lower()
    return not name.endswith(MANIFEST_SUFFIX) and not name.startswith(".") and name.endswith(DATA_SUFFIXES)


def _read_manifest(path: Path) -> Mapping[str, object] | None:
    sidecar = path.with_name(path.name + MANIFEST_SUFFIX)
    if not sidecar.is_file():
        return None
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _delivered_at(manifest: Mapping[str, object] | None, mtime_ns: int) -> datetime:
    if manifest and isinstance(manifest.get("delivered_at"), str):
        try:
            moment = datetime.fromisoformat(str(manifest["delivered_at"]).replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.fromtimestamp(mtime_ns / 1e9, tz=UTC)


def scan_drop_folder(root: Path | str, known: Mapping[str, tuple[int, int, str]] | None = None) -> list[DropFile]:
    """Every data file under ``root``, oldest delivery first (ties by path).

    ``known`` maps a relative path to (size, mtime_ns, sha256) from an earlier scan; a file whose size and
    mtime match is not re-hashed.
    """
    root = Path(root)
    files: list[DropFile] = []
    if not root.is_dir():
        return files
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if not _is_data_file(path):
                continue
            relative = path.relative_to(root).as_posix()
            parts = relative.split("/")
            provider = parts[0] if len(parts) >= 2 else "unknown"
            fmt = FORMAT_FOLDERS.get(parts[1].lower(), "unknown") if len(parts) >= 3 else "unknown"
            stat = path.stat()
            cached = (known or {}).get(relative)
            if cached is not None and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
                content_hash = cached[2]
            else:
                content_hash = sha256_file(path)
            manifest = _read_manifest(path)
            delivery_id = str(manifest.get("delivery_id")) if manifest and manifest.get("delivery_id") else ""
            files.append(
                DropFile(
                    path=path,
                    relative_path=relative,
                    provider=provider.lower(),
                    format=fmt,
                    content_hash=content_hash,
                    size_bytes=stat.st_size,
                    mtime_ns=stat.st_mtime_ns,
                    delivered_at=_delivered_at(manifest, stat.st_mtime_ns),
                    delivery_id=delivery_id or f"{relative}@{content_hash[:16]}",
                    manifest=manifest,
                )
            )
    files.sort(key=lambda f: (f.delivered_at, f.relative_path))
    return files


def pending_files(con: duckdb.DuckDBPyConnection, files: Iterable[DropFile]) -> list[DropFile]:
    """The files not yet recorded in meta.billing_files under the same path and content hash."""
    files = list(files)
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'meta' and table_name = 'billing_files'"
    ).fetchone()[0]
    if not exists:
        return files
    seen = {(str(p), h) for p, h in con.execute("select path, content_hash from meta.billing_files").fetchall()}
    return [f for f in files if (f.relative_path, f.content_hash) not in seen]
