"""The identity seeds shipped in dbt_project/seeds/ are exactly what the simulated company's generator says."""

from __future__ import annotations

import csv
from pathlib import Path

from simulation.seeds import write_seeds

SHIPPED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"


def test_shipped_identity_seeds_match_the_simulated_company(tmp_path: Path) -> None:
    for regenerated in write_seeds(tmp_path):
        shipped = SHIPPED / regenerated.name
        assert shipped.exists(), f"{shipped} missing: run `python -m simulation.seeds dbt_project/seeds`"
        with shipped.open() as a, regenerated.open() as b:
            assert list(csv.reader(a)) == list(csv.reader(b)), f"{shipped.name} drifted from the generator"


def test_people_seed_has_no_bots_and_one_row_per_person() -> None:
    with (SHIPPED / "people.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    keys = [row["person_key"] for row in rows]
    assert len(keys) == len(set(keys)) == 30
    assert not any("[bot]" in row["github_login"] for row in rows)
