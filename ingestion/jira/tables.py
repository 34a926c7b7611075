"""Raw tables of the Jira connector (`raw_jira.<stream>`): natural keys + the few typed columns, whole payload."""

from __future__ import annotations

from datetime import datetime

from ingestion.loader import RawTable

SOURCE = "jira"

ISSUES = RawTable(
    source=SOURCE,
    stream="issues",
    primary_key=("id",),
    columns={
        "id": "BIGINT",
        "key": "VARCHAR",
        "project_key": "VARCHAR",
        "created_at": "TIMESTAMPTZ",
        "updated_at": "TIMESTAMPTZ",
        # Custom fields extracted at load time with the ids discovered on *this* site, so dbt staging
        # never hard-codes a customfield id.
        "story_points": "DOUBLE",
        "sprint_ids": "JSON",
        "story_points_field": "VARCHAR",
        "sprint_field": "VARCHAR",
    },
)
CHANGELOGS = RawTable(
    source=SOURCE,
    stream="changelogs",
    primary_key=("issue_id", "history_id"),
    columns={"issue_id": "BIGINT", "history_id": "BIGINT", "created_at": "TIMESTAMPTZ"},
)
ISSUE_DELETIONS = RawTable(
    source=SOURCE,
    stream="issue_deletions",
    primary_key=("issue_id",),
    columns={
        "issue_id": "BIGINT",
        "issue_key": "VARCHAR",
        "project_key": "VARCHAR",
        "is_deleted": "BOOLEAN",
        "checked_at": "TIMESTAMPTZ",
    },
)
FIELDS = RawTable(
    source=SOURCE,
    stream="fields",
    primary_key=("id",),
    columns={"id": "VARCHAR", "name": "VARCHAR", "is_custom": "BOOLEAN", "role": "VARCHAR"},
)
STATUSES = RawTable(
    source=SOURCE,
    stream="statuses",
    primary_key=("id",),
    columns={"id": "VARCHAR", "name": "VARCHAR", "category_key": "VARCHAR"},
)
PROJECTS = RawTable(
    source=SOURCE,
    stream="projects",
    primary_key=("id",),
    columns={"id": "BIGINT", "key": "VARCHAR", "name": "VARCHAR"},
)
BOARDS = RawTable(
    source=SOURCE,
    stream="boards",
    primary_key=("id",),
    columns={"id": "BIGINT", "name": "VARCHAR", "type": "VARCHAR", "project_key": "VARCHAR"},
)
SPRINTS = RawTable(
    source=SOURCE,
    stream="sprints",
    primary_key=("id",),
    columns={
        "id": "BIGINT",
        "board_id": "BIGINT",
        "state": "VARCHAR",
        "start_at": "TIMESTAMPTZ",
        "end_at": "TIMESTAMPTZ",
        "complete_at": "TIMESTAMPTZ",
    },
)

ALL_TABLES: tuple[RawTable, ...] = (ISSUES, CHANGELOGS, ISSUE_DELETIONS, FIELDS, STATUSES, PROJECTS, BOARDS, SPRINTS)


def parse_timestamp(value: object) -> datetime | None:
    """Jira's `2024-01-15T10:23:45.123+0000` (offset without colon), ISO `...Z`, or None. Always zoned."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a timestamp string, got {type(value).__name__}")
    text = value.replace("Z", "+00:00")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no offset")
    return parsed
