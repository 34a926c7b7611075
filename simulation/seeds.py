"""The mapping tables a real company writes by hand (teams, services, people, Jira projects), for Acme.

techledger ships them as dbt seeds in ``dbt_project/seeds/`` so the simulated company works out of the box;
this module is how those CSVs were produced, and ``tests/simulation/test_seeds.py`` checks the shipped files
still match the generator (seed 42, scale 1). At other scales the extra people are deliberately *not* in
the seed: they show up in ``intermediate.int_unresolved_identities``, as unknown people do in a real org.

    python -m simulation.seeds dbt_project/seeds     # rewrite the CSVs
"""

from __future__ import annotations

import csv
import sys
from datetime import UTC, datetime
from pathlib import Path

from simulation.company import Company, generate_company
from simulation.determinism import fake_sha
from simulation.jira_model import PROJECTS

SEED_COMPANY = {"seed": 42, "scale": 1.0}
# Acme's people joined before the simulated history starts and nobody has left.
PEOPLE_VALID_FROM = "2020-01-01"


def seed_tables(company: Company) -> dict[str, list[dict[str, object]]]:
    """Rows of each seed file, keyed by file stem."""
    teams = [{"team_key": t.key, "team_name": t.name, "business_category": t.business_category} for t in company.teams]
    services = [
        {
            "service": s.name,
            "team_key": s.team_key,
            "repo": s.repo,
            "code_host": s.host,
            "deploy_tool": s.deploy_tool,
            "tier": s.tier,
            "pagerduty_service": s.name,
            "jenkins_job": s.jenkins_job or "",
        }
        for s in company.delivery.services()
    ]
    people = [
        {
            "person_key": p.login,
            "display_name": p.name,
            "team_key": p.team_key,
            "email": p.email,
            "github_login": p.login,
            "gitlab_username": p.login,
            "jira_account_id": fake_sha("jira-user", p.login)[:24],
            "valid_from": PEOPLE_VALID_FROM,
            "valid_to": "",
        }
        for p in company.people
        if not p.is_bot
    ]
    jira_projects = [{"project_key": key, "team_key": team} for key, _name, team, _board in PROJECTS]
    return {"teams": teams, "services": services, "people": people, "jira_projects": jira_projects}


def write_seeds(folder: Path) -> list[Path]:
    company = generate_company(anchor=datetime(2026, 1, 1, tzinfo=UTC), **SEED_COMPANY)
    written = []
    for stem, rows in seed_tables(company).items():
        path = folder / f"{stem}.csv"
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_seeds(Path(sys.argv[1] if len(sys.argv) > 1 else "dbt_project/seeds")):
        print(written_path)
