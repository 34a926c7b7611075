"""Jenkins builds of every job under the configured top-level items -> `raw_jenkins.builds`.

Walk (source-apis.md §3.2, §6):

- Scopes are top-level items (folders or jobs; all of them when none are configured), one
  `meta.sync_runs` row each. Folders, organization folders and multibranch projects are recursed
  through `{url}api/json?tree=jobs[name,url,_class]`, following the `url` each item gives.
- Builds are read with `allBuilds[...]{M,N}` ranges (M inclusive, N exclusive, newest first), a page
  at a time: `builds` would silently stop at the newest 100. The walk of a job stops at the first
  build started before `job cursor - overlap` (1 day); a job seen for the first time is read whole.
- Builds stored with `building=true` and not met by the walk are re-fetched by number
  (`{job_url}{n}/api/json`), so a running build lands later with its result. Completed builds already
  stored are not rewritten (a finished Jenkins build does not change).
- The cursor is the window end (server Date - buffer) per job, committed with the scope's last batch.

    python -m ingestion.jenkins.builds --warehouse data/warehouse.duckdb \
        --base-url https://ci.example.com --user me --token-env JENKINS_TOKEN [--jobs deploy,ci]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import duckdb

from ingestion.errors import NotFoundError, PayloadError, SourceError, SyncFailedError
from ingestion.http import HttpClient, server_time
from ingestion.jenkins.client import jenkins_client
from ingestion.loader import RawLoader, RawTable
from ingestion.meta import SyncRun
from ingestion.redaction import safe_endpoint
from ingestion.runs import SyncSummary, run_scopes

SOURCE = "jenkins"
STREAM = "builds"
BUILD_FIELDS = (
    "number,result,building,timestamp,duration,estimatedDuration,url,displayName,"
    "actions[lastBuiltRevision[SHA1,branch[name]],remoteUrls,causes[*],parameters[name,value]],"
    "changeSets[kind,items[commitId]]"
)
JOBS_TREE = "name,url,jobs[name,url,_class]"
# Items whose children are jobs. Anything else with a `jobs` list is recursed too.
FOLDER_CLASSES = frozenset(
    {
        "com.cloudbees.hudson.plugins.folder.Folder",
        "jenkins.branch.OrganizationFolder",
        "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject",
    }
)

logger = logging.getLogger("techledger.ingestion.jenkins")

BUILDS = RawTable(
    source=SOURCE,
    stream=STREAM,
    primary_key=("job_full_name", "number"),
    columns={
        "job_full_name": "VARCHAR",
        "number": "BIGINT",
        "scope": "VARCHAR",
        "building": "BOOLEAN",
        "result": "VARCHAR",
        "started_at": "TIMESTAMPTZ",
    },
)


@dataclass(frozen=True)
class Job:
    full_name: str  # "deploy/billing-legacy"
    url: str  # as the server gave it, ending in "/"


def _is_folder(item: Mapping[str, Any]) -> bool:
    cls = str(item.get("_class") or "")
    return cls in FOLDER_CLASSES or cls.endswith(("Folder", "MultiBranchProject"))


def _bad(url: str, problem: str) -> PayloadError:
    endpoint = safe_endpoint(url)
    return PayloadError(
        f"jenkins GET {endpoint}: {problem}. Fix: check the base URL points at the Jenkins root "
        "(the page whose /api/json lists the top-level jobs)",
        source=SOURCE,
        method="GET",
        endpoint=endpoint,
    )


def _object(client: HttpClient, url: str, tree: str) -> tuple[dict[str, Any], datetime]:
    response = client.get(url, {"tree": tree})
    try:
        data = response.json()
    except ValueError:
        raise _bad(url, f"expected JSON, got {response.headers.get('Content-Type', 'no content type')}") from None
    if not isinstance(data, dict):
        raise _bad(url, f"expected an object, got {type(data).__name__}")
    return data, server_time(response)


def scope_url(client: HttpClient, path: str) -> str:
    """The URL of a configured top-level path such as "deploy" or "team/app" (Jenkins' /job/ nesting)."""
    parts = [p for p in path.strip("/").split("/") if p]
    if not parts:
        raise ValueError(f"Jenkins job path {path!r} is empty")
    return client.url_for("/" + "/".join(f"job/{quote(p, safe='')}" for p in parts) + "/")


def top_level_items(client: HttpClient) -> list[str]:
    """Names of the root's items (every scope, when none are configured)."""
    data, _ = _object(client, client.url_for("/api/json"), "jobs[name,url,_class]")
    return [str(item["name"]) for item in data.get("jobs") or [] if isinstance(item, dict) and item.get("name")]


def walk_jobs(client: HttpClient, full_name: str, url: str) -> Iterator[Job]:
    """Buildable jobs at or below the item at `url`, recursing through folders and multibranch projects."""
    data, _ = _object(client, f"{url}api/json", JOBS_TREE)
    children = data.get("jobs")
    if children is None and not _is_folder(data):
        yield Job(full_name, url)
        return
    for index, child in enumerate(children or []):
        if not isinstance(child, dict) or not child.get("name") or not child.get("url"):
            raise _bad(url, f"jobs[{index}] has no name or url")
        name = f"{full_name}/{child['name']}"
        child_url = str(child["url"])
        child_url = child_url if child_url.endswith("/") else child_url + "/"
        if _is_folder(child):
            yield from walk_jobs(client, name, child_url)
        else:
            yield Job(name, child_url)


def _record(scope: str, job: Job, build: Any, url: str, where: str) -> dict[str, Any]:
    if not isinstance(build, dict) or build.get("number") is None or build.get("timestamp") is None:
        raise _bad(url, f"{where} is not a build with a number and a timestamp")
    return {
        "job_full_name": job.full_name,
        "number": build["number"],
        "scope": scope,
        "building": bool(build.get("building")),
        "result": build.get("result"),
        "started_at": datetime.fromtimestamp(int(build["timestamp"]) / 1000, UTC),
        "payload": build,
    }


def sync_builds(
    client: HttpClient,
    loader: RawLoader,
    jobs: Sequence[str] = (),
    *,
    overlap: timedelta = timedelta(days=1),
    buffer: timedelta = timedelta(minutes=1),
    page_size: int = 100,
    batch_size: int = 500,
) -> SyncSummary:
    """Sync builds of every job below each top-level path in `jobs` (all top-level items if empty)."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    scopes = [j.strip("/") for j in jobs if j.strip("/")] or top_level_items(client)
    loader.ensure_table(BUILDS)

    def sync_scope(scope: str, run: SyncRun) -> Mapping[str, Any]:
        previous = loader.get_state(SOURCE, STREAM, scope) or {}
        job_cursors: dict[str, str] = dict(previous.get("jobs") or {})
        pending: list[dict[str, Any]] = []
        window_end: datetime | None = None
        walked: list[str] = []

        def flush(state: Mapping[str, Any] | None = None) -> None:
            nonlocal pending
            loader.upsert(BUILDS, pending, run, state=state)
            pending = []

        for job in walk_jobs(client, scope, scope_url(client, scope)):
            known = dict(
                loader.con.execute(
                    "SELECT number, building FROM raw_jenkins.builds WHERE job_full_name = ?", [job.full_name]
                ).fetchall()
            )
            cursor = job_cursors.get(job.full_name)
            stop_ms = int((datetime.fromisoformat(cursor) - overlap).timestamp() * 1000) if cursor else None
            seen: set[int] = set()
            offset = 0
            while True:
                tree = f"allBuilds[{BUILD_FIELDS}]{{{offset},{offset + page_size}}}"
                url = f"{job.url}api/json"
                data, served_at = _object(client, url, tree)
                if window_end is None:
                    window_end = served_at - buffer
                builds = data.get("allBuilds")
                if not isinstance(builds, list):
                    raise _bad(url, "the answer has no allBuilds list (is this a job?)")
                reached = False
                for index, build in enumerate(builds):
                    record = _record(scope, job, build, url, f"allBuilds[{offset + index}]")
                    if stop_ms is not None and int(build["timestamp"]) < stop_ms:
                        reached = True
                        break
                    number = int(record["number"])
                    seen.add(number)
                    if known.get(number) is False:
                        continue  # completed when stored: a finished build does not change
                    pending.append(record)
                if len(pending) >= batch_size:
                    flush()
                if reached or len(builds) < page_size:
                    break
                offset += page_size
            for number, building in sorted(known.items()):
                if building and number not in seen:
                    url = f"{job.url}{number}/api/json"
                    try:
                        build, _ = _object(client, url, BUILD_FIELDS)
                    except NotFoundError:
                        logger.warning("jenkins %s #%d was building and is gone (deleted)", job.full_name, number)
                        continue
                    pending.append(_record(scope, job, build, url, "the build"))
            walked.append(job.full_name)
        if window_end is None:  # no jobs below the scope: still record the server's clock
            _, served_at = _object(client, scope_url(client, scope) + "api/json", "name")
            window_end = served_at - buffer
        for name in walked:
            job_cursors[name] = window_end.isoformat()
        state = {"cursor": window_end.isoformat(), "jobs": job_cursors}
        flush(state)
        return state

    return run_scopes(client, loader, SOURCE, STREAM, scopes, sync_scope)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ingestion.jenkins.builds`: exit 0 on success, 1 if a scope failed, 2 on bad usage."""
    parser = argparse.ArgumentParser(prog="python -m ingestion.jenkins.builds", description=__doc__.split("\n")[0])
    parser.add_argument("--warehouse", required=True, help="DuckDB file to write")
    parser.add_argument("--base-url", required=True, help="Jenkins root URL, e.g. https://ci.example.com")
    parser.add_argument("--user", required=True, help="Jenkins user name the API token belongs to")
    parser.add_argument("--token-env", default="JENKINS_TOKEN", help="NAME of the env var holding the API token")
    parser.add_argument("--jobs", default="", help="comma-separated top-level folders/jobs (default: all)")
    parser.add_argument("--overlap-hours", type=float, default=24.0)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token = os.environ.get(args.token_env)
    if not token:
        print(f"error: environment variable {args.token_env} is not set or empty", file=sys.stderr)
        return 2
    jobs = [j.strip() for j in args.jobs.split(",") if j.strip()]
    try:
        with (
            duckdb.connect(args.warehouse) as con,
            jenkins_client(args.base_url, args.user, token, token_env=args.token_env) as client,
        ):
            summary = sync_builds(client, RawLoader(con), jobs, overlap=timedelta(hours=args.overlap_hours))
    except SyncFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (SourceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for result in summary.results:
        print(f"{result.scope}: {result.records} records, {result.requests} requests, {result.outcome}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
