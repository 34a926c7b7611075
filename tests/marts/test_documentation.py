"""Every mart is documented column by column and has a test on its grain (the quality bar for public tables).

Reads the columns the marts really have (from the demo's warehouse) and the documentation dbt knows (its
manifest), so a column added in SQL but not in YAML, or a mart without a grain test, fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.assets.dbt import prepare_manifest
from tests.conftest import DemoRun

GRAIN_TESTS = {"unique", "unique_combination"}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(Path(prepare_manifest()).read_text())


def _mart_nodes(manifest: dict) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    }


def test_every_mart_column_is_documented(demo_run: DemoRun, manifest: dict) -> None:
    marts = _mart_nodes(manifest)
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        built = con.execute(
            "select table_name, column_name from duckdb_columns() where schema_name = 'marts' order by all"
        ).fetchall()
    assert {table for table, _ in built} == set(marts), "marts in the warehouse and in dbt differ"
    undocumented = [
        f"{table}.{column}"
        for table, column in built
        if not (marts[table]["columns"].get(column) or {}).get("description", "").strip()
    ]
    assert not undocumented, f"mart columns without a description: {undocumented}"
    assert all(node["description"].strip() for node in marts.values())


def test_every_mart_has_a_grain_test(manifest: dict) -> None:
    tested = set()
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata", {}).get("name") in GRAIN_TESTS:
            tested.update(dep.split(".")[-1] for dep in node["depends_on"]["nodes"] if dep.startswith("model."))
    missing = set(_mart_nodes(manifest)) - tested
    assert not missing, f"marts without a unique / unique_combination test: {sorted(missing)}"
