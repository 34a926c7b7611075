"""CI health marts on the simulated company: the flaky checkout test (story `checkout_flaky_test`) is found.

The story: one job of one workflow in one repo fails ~15% of CI runs for no reason in the code and is re-run
(attempt 2 passes). The marts must rank that job first by runner minutes lost, show a flaky share near the
story's, and agree with the generator's ground truth (`CiAttempt.flaky_failure`) within 1%.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pytest

from simulation.delivery_model import CiRun, attempt_status
from simulation.stories import Story
from tests.conftest import DemoRun


@dataclass(frozen=True)
class Truth:
    """Ground truth for one repo as the company clock revealed it at the anchor."""

    runs: int  # non-deployment workflow runs created in the ingestion horizon
    flaky_attempts: int  # failed only because of the flaky test, and already re-run and passed at `now`
    runner_minutes_lost: float  # GitHub-billed minutes (each job rounded up) of those attempts


@pytest.fixture(scope="module")
def story(demo_run: DemoRun) -> Story:
    return demo_run.company().stories.get("checkout_flaky_test")


@pytest.fixture(scope="module")
def warehouse(demo_run: DemoRun) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(demo_run.warehouse), read_only=True)
    yield con
    con.close()


def _revealed_flaky(run: CiRun, now: datetime) -> list[int]:
    """Indexes of the run's attempts that failed flakily and were followed by a passing attempt, as of `now`."""
    attempts = run.attempts_at(now)
    found = []
    for index, attempt in enumerate(attempts):
        if not attempt.flaky_failure or attempt_status(attempt, now) != ("completed", "failure"):
            continue
        if any(attempt_status(later, now) == ("completed", "success") for later in attempts[index + 1 :]):
            found.append(index)
    return found


@pytest.fixture(scope="module")
def truth(demo_run: DemoRun, story: Story, warehouse: duckdb.DuckDBPyConnection) -> Truth:
    """Recomputed from `company.delivery` in Python, independent of the dbt models.

    Only what the warehouse could hold counts: runs created by the anchor (the company clock) and not before
    the first run the connector fetched (its initial window), read from the raw table, not from a mart.
    """
    company = demo_run.company()
    now = company.now
    repo, workflow = story.params["repo"], story.params["workflow"]
    (horizon,) = warehouse.execute(
        "select min(created_at) from raw_github.workflow_runs where repo = ?", [repo]
    ).fetchone()
    runs = [
        run
        for run in company.delivery.ci_runs(story.service)
        if run.workflow == workflow and horizon <= run.created_at <= now
    ]
    flaky = [(run, index) for run in runs for index in _revealed_flaky(run, now)]
    lost = sum(
        math.ceil((job.completed_at - job.started_at).total_seconds() / 60)
        for run, index in flaky
        for job in run.attempts_at(now)[index].jobs
    )
    return Truth(runs=len(runs), flaky_attempts=len(flaky), runner_minutes_lost=float(lost))


def test_flaky_test_job_has_the_most_runner_minutes_lost(story: Story, warehouse: duckdb.DuckDBPyConnection) -> None:
    ranking = warehouse.execute(
        """
        select repo, workflow_name, job_name, sum(runner_minutes_lost) as lost, count(*) filter (where is_flaky)
        from marts.fct_ci_jobs
        group by all
        order by lost desc
        limit 2
        """
    ).fetchall()
    (repo, workflow, job, lost, flaky_jobs), runner_up = ranking
    assert (repo, workflow, job) == (story.params["repo"], story.params["workflow"], story.params["job"])
    assert lost > runner_up[3] > 0
    # Each flake throws away one run of the job: the story's wasted minutes per flaky run (9-minute job).
    assert lost / flaky_jobs == pytest.approx(story.expected["wasted_runner_minutes_per_flaky_run"], rel=0.01)
    # ... and it is the only job of the repo marked as the flake.
    flaky_job_names = warehouse.execute(
        "select distinct job_name from marts.fct_ci_jobs where repo = ? and is_flaky", [story.params["repo"]]
    ).fetchall()
    assert flaky_job_names == [(story.params["job"],)]


def test_flaky_run_share_is_near_the_story(story: Story, warehouse: duckdb.DuckDBPyConnection) -> None:
    flaky, runs_started = warehouse.execute(
        """
        select sum(flaky_runs), sum(ci_runs - ci_reruns)
        from intermediate.int_ci__health_weekly
        where scope_type = 'service' and scope_key = ?
        """,
        [story.service],
    ).fetchone()
    share, expected = flaky / runs_started, story.expected["flaky_run_share"]
    # sampling noise of a binomial share over this many runs: three standard errors
    tolerance = 3 * math.sqrt(expected * (1 - expected) / runs_started)
    assert abs(share - expected) < tolerance, (share, expected, tolerance)


def test_flaky_attempts_and_minutes_lost_agree_with_ground_truth(
    story: Story, truth: Truth, warehouse: duckdb.DuckDBPyConnection
) -> None:
    flaky, lost, runs = warehouse.execute(
        """
        select count(*) filter (where is_flaky), sum(runner_minutes_lost), count(*) filter (where not is_rerun)
        from marts.fct_ci_runs
        where repo = ? and workflow_name = ?
        """,
        [story.params["repo"], story.params["workflow"]],
    ).fetchone()
    assert truth.flaky_attempts > 0
    assert runs == pytest.approx(truth.runs, rel=0.01)
    assert flaky == pytest.approx(truth.flaky_attempts, rel=0.01)
    assert lost == pytest.approx(truth.runner_minutes_lost, rel=0.01)


def test_weekly_share_and_minutes_lost_agree_with_ground_truth(
    story: Story, truth: Truth, warehouse: duckdb.DuckDBPyConnection
) -> None:
    flaky, runs_started, lost = warehouse.execute(
        """
        select sum(flaky_runs), sum(ci_runs - ci_reruns), sum(runner_minutes_lost)
        from intermediate.int_ci__health_weekly
        where scope_type = 'service' and scope_key = ?
        """,
        [story.service],
    ).fetchone()
    assert flaky / runs_started == pytest.approx(truth.flaky_attempts / truth.runs, rel=0.01)
    assert lost == pytest.approx(truth.runner_minutes_lost, rel=0.01)
