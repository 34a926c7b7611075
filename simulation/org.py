"""Who works at Acme: teams, people, bots, repos and services.

Kept apart from activity generation so later generators (Jira, PagerDuty, billing) can share the
same org without depending on how pull requests are produced.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulation.determinism import rng_for
from simulation.model import Person, Repo, Service, Team

ORG = "acme"
EMAIL_DOMAIN = "acme.example"

TEAMS: tuple[Team, ...] = (
    Team("payments", "Payments", "Payments"),
    Team("search", "Search", "Discovery"),
    Team("platform", "Platform", "Platform"),
    Team("checkout", "Checkout", "Commerce"),
    Team("data-platform", "Data Platform", "Data"),
)

# (repo name, team, service tier). The service is named after its repo; the first repo of a team
# is its main one (most of the team's pull requests land there).
REPO_SPECS: tuple[tuple[str, str, int], ...] = (
    ("payments-api", "payments", 1),
    ("payments-gateway", "payments", 1),
    ("search-service", "search", 2),
    ("search-indexer", "search", 2),
    ("platform-infra", "platform", 2),
    ("checkout-service", "checkout", 1),
    ("checkout-web", "checkout", 2),
    ("data-pipelines", "data-platform", 3),
)

# Real GitHub user ids of the two bots, so payloads look exactly like theirs.
BOTS: tuple[tuple[str, str, int], ...] = (
    ("dependabot[bot]", "dependabot", 49699333),
    ("renovate[bot]", "renovate", 29139614),
)

PEOPLE_PER_TEAM = 6

_FIRST = (
    "Aisha", "Ben", "Carla", "Diego", "Elena", "Femi", "Grace", "Hiro", "Ines", "Jonas", "Kavya",
    "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera",
    "Wei", "Ximena", "Yusuf", "Zoe", "Anton", "Bianca", "Chen", "Dana", "Emil", "Farah", "Gus",
    "Hana", "Ivan", "Julia", "Kofi", "Lena", "Marco", "Nadia", "Omar", "Priya", "Ravi", "Sara",
    "Tomas", "Uma", "Viktor", "Wanda", "Yara", "Zane",
)  # fmt: skip
_LAST = (
    "Adeyemi", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ito",
    "Jensen", "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi",
    "Schmidt", "Tanaka", "Ulloa", "Varga", "Weber", "Xu", "Yilmaz", "Zhang", "Andersson", "Brown",
    "Chowdhury", "Diaz", "Evans", "Fernandes", "Gupta", "Horvat", "Ibrahim", "Kim", "Larsen",
    "Mensah", "Novak", "Oliveira", "Patel", "Reyes", "Silva", "Torres", "Urban", "Vogel", "Wong",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Org:
    teams: tuple[Team, ...]
    people: tuple[Person, ...]  # humans first, then bots
    repos: tuple[Repo, ...]
    services: tuple[Service, ...]
    user_ids: dict[str, int]  # login -> GitHub user id

    def members(self, team_key: str) -> list[Person]:
        return [p for p in self.people if p.team_key == team_key and not p.is_bot]

    def team_repos(self, team_key: str) -> list[Repo]:
        return [r for r in self.repos if r.team_key == team_key]


def people_per_team(scale: float) -> int:
    return max(2, round(PEOPLE_PER_TEAM * scale))


def build_org(seed: int, scale: float) -> Org:
    """Deterministic org; each team draws its names from its own stream."""
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    size = people_per_team(scale)
    taken: set[str] = set()
    taken_emails: set[str] = set()
    people: list[Person] = []
    user_ids: dict[str, int] = {}
    for team in TEAMS:
        rng = rng_for(seed, "people", team.key)
        for _ in range(size):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            login = _unique_login(first, last, taken)
            email_local = f"{first}.{last}".lower()
            if email_local in taken_emails:
                email_local = login.replace("-", ".")
            taken_emails.add(email_local)
            people.append(Person(login, f"{first} {last}", f"{email_local}@{EMAIL_DOMAIN}", team.key))
            user_ids[login] = 1_000_000 + len(user_ids) * 7_919 + rng.randrange(7_000)
    for login, _app, bot_id in BOTS:
        people.append(Person(login, login, f"{bot_id}+{login}@users.noreply.github.com", None, True))
        user_ids[login] = bot_id
    repos = tuple(Repo(ORG, name, team, name) for name, team, _tier in REPO_SPECS)
    services = tuple(Service(name, team, f"{ORG}/{name}", tier) for name, team, tier in REPO_SPECS)
    return Org(TEAMS, tuple(people), repos, services, user_ids)


def _unique_login(first: str, last: str, taken: set[str]) -> str:
    styles = (f"{first}{last[0]}", f"{first[0]}{last}", f"{first}-{last}")
    for style in styles:
        login = style.lower()
        if login not in taken:
            taken.add(login)
            return login
    base, n = f"{first}-{last}".lower(), 2
    while f"{base}{n}" in taken:
        n += 1
    taken.add(f"{base}{n}")
    return f"{base}{n}"
