"""Timestamp formats the real APIs use; one place so every fake source formats time the same way."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime


def ensure_utc(value: datetime) -> datetime:
    """Reject naive datetimes: a naive 'now' is how cursors silently drift by a timezone offset."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"datetime must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


def iso_z(value: datetime | None) -> str | None:
    """GitHub's ``YYYY-MM-DDTHH:MM:SSZ`` (seconds precision, always UTC)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def http_date(value: datetime) -> str:
    """RFC 7231 IMF-fixdate, e.g. ``Mon, 02 Mar 2026 00:00:00 GMT``."""
    return format_datetime(value.astimezone(UTC).replace(microsecond=0), usegmt=True)


def today_midnight_utc() -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)
