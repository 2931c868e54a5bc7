"""Owner digests as a Prefect flow: build and deliver each owner's digest, publish what happened.

Thin over :func:`services.digests.send_digests`.  It runs as the nightly scan's final step
(``nightly_scan(send_digests=True)``, as the ``nightly`` deployment in ``prefect.yaml`` does) and as its
own ``digests`` deployment for a manual run.  The run's log and its ``digest-report`` table artifact show
each owner's outcome and the counts sent / written / skipped / failed; a run in which any digest failed
ends **Failed** (its items wait for the next run).  Settings come from the worker's environment.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed

from core.settings import load_settings
from flows.common import task_database
from services import digests


@task(name="deliver-digests", cache_policy=NO_CACHE)
def deliver_digests(owner: str | None, force: bool) -> digests.DigestRun:
    """Build and deliver the digests (:func:`services.digests.send_digests`).  Not retried as a task: SMTP
    retries happen inside, per digest, and a retry of the whole task could not add anything."""
    logger = get_run_logger()
    settings = load_settings()
    with task_database(settings) as database:
        run = digests.send_digests(database, settings, owner=owner, force=force, logger=logger)
    for line in run.lines():
        logger.info(line)
    return run


@flow(name="send-digests")
def send_digests(owner: str | None = None, force: bool = False) -> Any:
    """Deliver every owner's due digest (or ``owner``'s); returns the counts and each owner's outcome
    (:meth:`services.digests.DigestRun.as_dict`)."""
    run = deliver_digests(owner, force)
    rows = [{"owner": r.owner, "outcome": r.outcome, "items": r.items, "reason": r.reason} for r in run.results]
    if rows:
        create_table_artifact(key="digest-report", table=rows, description="Owner digests of this run")
    counts = run.counts
    if counts.get("failed"):
        failed = [f"{r.owner}: {r.reason}" for r in run.results if r.outcome == "failed"]
        return Failed(message=f"{counts['failed']} digest(s) failed: " + "; ".join(failed)[:1500])
    return run.as_dict()
