"""A reconstructable job for the multiprocess pool test: two independent DuckDB-writing assets in one run.

Multiprocess runs re-import the job in each step's process, so it must be built by a module-level function.
Configuration comes from the environment (the simulated config, $TECHLEDGER_SIM_URL, $TECHLEDGER_DATA_DIR).
"""

from __future__ import annotations

import dagster as dg

from orchestration.config import load_config
from orchestration.definitions import build_definitions

INGEST_AND_PUBLISH = "ingest_and_publish"


def ingest_and_publish_job() -> dg.JobDefinition:
    base = build_definitions(load_config())
    job = dg.define_asset_job(
        INGEST_AND_PUBLISH,
        selection=dg.AssetSelection.assets(["raw_github", "pull_requests"], ["published", "analytics"]),
        executor_def=dg.multiprocess_executor,
    )
    return dg.Definitions.merge(base, dg.Definitions(jobs=[job])).resolve_job_def(INGEST_AND_PUBLISH)
