"""Billing ingestion: FOCUS, AWS CUR, GCP billing export and SaaS invoices from a drop folder (no Dagster)."""

from ingestion.billing.loader import BillingLoader, FileResult, QuarantineError, file_summary, load_drop
from ingestion.billing.scanner import DropFile, pending_files, scan_drop_folder, sha256_file

__all__ = [
    "BillingLoader",
    "DropFile",
    "FileResult",
    "QuarantineError",
    "file_summary",
    "load_drop",
    "pending_files",
    "scan_drop_folder",
    "sha256_file",
]
