"""Words the generators draw from: PR titles, branch names, labels, dependency bumps."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping

COMPONENTS: Mapping[str, tuple[str, ...]] = {
    "payments": (
        "ledger writer", "refund flow", "payout scheduler", "card tokenisation", "3DS challenge",
        "webhook handler", "settlement report", "currency conversion", "idempotency keys",
        "fraud checks", "gateway client",
    ),
    "search": (
        "query parser", "ranking model", "autocomplete", "index builder", "synonym expansion",
        "facet counts", "spell correction", "relevance tuning", "shard router", "vector recall",
    ),
    "platform": (
        "terraform modules", "k8s ingress", "CI runners", "secrets rotation", "log shipping",
        "cluster autoscaler", "DNS records", "base images", "observability stack", "IAM policies",
    ),
    "checkout": (
        "cart service", "coupon engine", "address validation", "shipping quotes", "order summary",
        "payment step", "tax calculation", "guest checkout", "basket merge", "inventory hold",
    ),
    "data-platform": (
        "event ingestion", "dbt models", "airflow DAGs", "warehouse loader", "schema registry",
        "backfill job", "data quality checks", "CDC connector", "table partitioning",
        "retention policy",
    ),
}  # fmt: skip

TITLE_TEMPLATES: Mapping[str, tuple[str, ...]] = {
    "feature": (
        "Add metrics to {c}", "Support pagination in {c}", "Add feature flag for {c}",
        "Implement retries in {c}", "Expose {c} settings", "Add audit log to {c}",
    ),
    "fix": (
        "Fix race condition in {c}", "Fix null handling in {c}", "Fix timeout in {c}",
        "Handle empty response in {c}", "Fix off-by-one in {c}", "Fix flaky test for {c}",
    ),
    "chore": (
        "Tune timeouts for {c}", "Clean up logging in {c}", "Update docs for {c}",
        "Remove dead code from {c}",
    ),
    "refactor": ("Refactor {c}", "Extract {c} into its own module", "Simplify {c} config"),
}  # fmt: skip

KIND_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("feature", 0.45),
    ("fix", 0.30),
    ("chore", 0.15),
    ("refactor", 0.10),
)

KIND_LABEL: Mapping[str, str] = {
    "feature": "enhancement",
    "fix": "bug",
    "chore": "chore",
    "refactor": "refactor",
    "dependencies": "dependencies",
}

EXTRA_LABELS: tuple[str, ...] = ("needs-qa", "security", "performance")
TOUCH_LABEL = "needs-attention"

# name -> (color, description, GitHub default label?)
LABELS: Mapping[str, tuple[str, str, bool]] = {
    "bug": ("d73a4a", "Something isn't working", True),
    "enhancement": ("a2eeef", "New feature or request", True),
    "chore": ("ededed", "Maintenance work", False),
    "refactor": ("c5def5", "Code change that neither fixes a bug nor adds a feature", False),
    "dependencies": ("0366d6", "Pull requests that update a dependency file", False),
    "python": ("2b67c6", "Pull requests that update Python code", False),
    "javascript": ("168700", "Pull requests that update Javascript code", False),
    "needs-qa": ("fbca04", "Needs a manual QA pass before release", False),
    "security": ("ee0701", "Security-relevant change", False),
    "performance": ("5319e7", "Performance improvement", False),
    TOUCH_LABEL: ("b60205", "Flagged for follow-up", False),
    "incident": ("b60205", "Production incident (postmortem required)", False),
}

PACKAGES: Mapping[str, tuple[str, ...]] = {
    "python": ("requests", "urllib3", "pydantic", "boto3", "sqlalchemy", "pytest", "structlog"),
    "javascript": ("react", "axios", "webpack", "typescript", "eslint", "vite"),
}

FIX_COMMIT_MESSAGES: tuple[str, ...] = (
    "Address review comments",
    "Fix tests",
    "Rename per review",
    "Add missing test case",
    "Handle edge case from review",
)


def pick_kind(rng: random.Random) -> str:
    roll, total = rng.random(), 0.0
    for kind, weight in KIND_WEIGHTS:
        total += weight
        if roll < total:
            return kind
    return KIND_WEIGHTS[-1][0]


def human_title(rng: random.Random, team_key: str, kind: str) -> str:
    component = rng.choice(COMPONENTS[team_key])
    return rng.choice(TITLE_TEMPLATES[kind]).format(c=component)


def slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].rstrip("-")


def version_bump(rng: random.Random) -> tuple[str, str]:
    major, minor, patch = rng.randint(1, 9), rng.randint(0, 30), rng.randint(0, 12)
    patch_bump = rng.random() < 0.7
    new = (major, minor, patch + rng.randint(1, 3)) if patch_bump else (major, minor + 1, 0)
    return f"{major}.{minor}.{patch}", ".".join(str(part) for part in new)
