"""The discovery flow: one monitor run over every configured Certificate Transparency log.

Thin over :mod:`services.discovery.ct`: one task per log, each building the
domain matcher from the registry, reading from the log's stored position and committing batch by batch.  A
log that is unreachable or answers garbage fails its own task with the cause; the other logs go on, and the
flow returns what each log did.  Scheduled in ``prefect.yaml`` (deployment ``ct-monitor``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from core.settings import load_settings
from flows.common import task_database
from services.discovery.candidates import domain_matcher
from services.discovery.ct import CtLog, configured_logs, follow_log

PARALLEL_LOGS = 4


# No retries: the next scheduled run goes on from the stored position, so a log that failed loses nothing.
@task(name="ct-log", cache_policy=NO_CACHE)
def monitor_one(log_spec: str, from_start: bool = False) -> dict[str, Any]:
    settings = load_settings()
    with task_database(settings) as database:
        with database.session() as session:
            matcher = domain_matcher(session, min_score=settings.discovery_min_score)
        run = follow_log(settings, database, CtLog.parse(log_spec), matcher, from_start=from_start)
    get_run_logger().info("%s", run.line())
    return asdict(run)


@flow(name="ct-monitor", task_runner=ThreadPoolTaskRunner(max_workers=PARALLEL_LOGS))
def ct_monitor(logs: list[str] | None = None, from_start: bool = False) -> dict[str, Any]:
    """Read every log in ``logs`` (default: the ``ct_logs`` setting) once.  Returns ``{"runs": [...],
    "failed": {log: cause}}``; a failed log never stops the others."""
    logger = get_run_logger()
    specs = list(logs) if logs is not None else [f"{log.api}:{log.url}" for log in configured_logs(load_settings())]
    futures = [monitor_one.with_options(task_run_name=f"ct {spec}"[:200]).submit(spec, from_start)
               for spec in specs]
    runs, failed = [], {}
    for spec, future in zip(specs, futures, strict=True):
        outcome = future.result(raise_on_failure=False)
        if isinstance(outcome, BaseException):
            failed[spec] = str(outcome)[:500]
            logger.error("CT log %s failed: %s", spec, str(outcome)[:500])
        else:
            runs.append(outcome)
    return {"runs": runs, "failed": failed}
