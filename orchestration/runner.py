"""Running the pipeline outside the Dagster UI: the same jobs, in-process, with a progress bar.

Used by ``techledger run`` / ``techledger demo`` and the tests. The steps run in order (ingest, then the dbt build
and publish), each as a Dagster job executed in-process so its events, checks and metadata are exactly those
the UI would show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg
from tqdm import tqdm

from orchestration.config import LoadedConfig
from orchestration.definitions import build_definitions

# (label, job, console log level): ingestion reports its progress (records loaded per stream and scope) at INFO;
# the build's INFO lines would repeat every dbt log line, so it only shows warnings and errors.
STEPS = (("ingest", "ingest_job", "INFO"), ("build and publish", "build_job", "WARNING"))


@dataclass
class RunReport:
    succeeded: bool
    failed_step: str | None = None
    run_ids: dict[str, str] = field(default_factory=dict)


def run_pipeline(
    loaded: LoadedConfig,
    instance: dg.DagsterInstance | None = None,
    show_progress: bool = True,
    log_level: str = "WARNING",
) -> RunReport:
    """Run ingest_job then build_job; stop at the first failing step (the build needs fresh raw data).

    The console shows each step's progress lines (see STEPS); ``log_level="DEBUG"`` shows every Dagster event.
    """
    defs = build_definitions(loaded)
    instance = instance or dg.DagsterInstance.ephemeral()
    report = RunReport(succeeded=True)
    with tqdm(total=len(STEPS), desc="techledger", unit="step", disable=not show_progress) as bar:
        for label, job_name, step_level in STEPS:
            bar.set_postfix_str(label)
            level = log_level if log_level == "DEBUG" else step_level
            run_config = {"loggers": {"console": {"config": {"log_level": level}}}}
            result = defs.resolve_job_def(job_name).execute_in_process(
                run_config=run_config, instance=instance, raise_on_error=False
            )
            report.run_ids[job_name] = result.run_id
            if not result.success:
                report.succeeded = False
                report.failed_step = label
                break
            bar.update(1)
    return report
