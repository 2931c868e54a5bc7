"""The recheck flow: re-visit listings analysts confirmed or reported and record whether each is still up.

Thin over :mod:`services.recheck`: one recheck crawl per marketplace (a child process, retried with
backoff, tagged ``marketplace:<name>`` for tag concurrency limits), then the verdicts are recorded and the
reported matches of listings that are gone move to ``removed``.  A ``recheck-summary`` table artifact
lists every listing and what was found.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff

from core.settings import load_settings
from flows.nightly import worth_retrying
from services import recheck, takedowns
from storage.db import Database
from storage.models import utcnow

PARALLEL_CRAWLS = 4


@task(name="listings-to-recheck", cache_policy=NO_CACHE)
def select_groups(statuses: list[str]) -> list[dict[str, Any]]:
    with Database.opened(load_settings().database_url) as database, database.session() as session:
        return [g.as_dict() for g in recheck.recheck_groups(session, statuses=statuses)]


@task(name="recheck-crawl", retries=2, retry_delay_seconds=exponential_backoff(backoff_factor=30),
      retry_jitter_factor=0.5, retry_condition_fn=worth_retrying, cache_policy=NO_CACHE)
def recheck_crawl(group: dict[str, Any]) -> int:
    return recheck.recheck_crawl(load_settings(), recheck.RecheckGroup.from_dict(group))


@task(name="verify-takedowns", cache_policy=NO_CACHE)
def verify(group: dict[str, Any], since_iso: str) -> dict[str, Any]:
    import datetime as dt

    with Database(load_settings().database_url) as database, database.session() as session:
        report = recheck.verify_takedowns(session, recheck.RecheckGroup.from_dict(group),
                                          since=dt.datetime.fromisoformat(since_iso))
    return report.as_dict()


@task(name="takedown-outcomes", cache_policy=NO_CACHE)
def takedown_outcomes() -> dict[str, int]:
    """Record what the recheck proved about each notice: removed, edited, still up after the window."""
    settings = load_settings()
    with Database.opened(settings.database_url) as database, database.session() as session:
        return takedowns.update_outcomes(session, settings)


@flow(name="recheck", task_runner=ThreadPoolTaskRunner(max_workers=PARALLEL_CRAWLS))
def recheck_reported(statuses: list[str] | None = None) -> dict[str, Any]:
    """Recheck the listings of matches in ``statuses`` (default: reported and confirmed).

    Returns ``{"up": [listing ids], "gone": [...], "unknown": [...], "changes": [sentences]}``.
    """
    logger = get_run_logger()
    since = utcnow().isoformat()
    groups = select_groups(list(statuses or recheck.RECHECK_STATUSES))
    logger.info("rechecking %d listing(s) on %d marketplace(s)", sum(len(g["listings"]) for g in groups),
                len(groups))
    crawls = [
        recheck_crawl.with_options(tags=[f"marketplace:{g['marketplace']}"],
                                   task_run_name=f"recheck {g['marketplace']}"[:200]).submit(g)
        for g in groups
    ]
    total = recheck.RecheckReport()
    rows: list[dict[str, Any]] = []
    for group, future in zip(groups, crawls, strict=True):
        outcome = future.result(raise_on_failure=False)
        if isinstance(outcome, BaseException):
            logger.error("recheck of %s failed: %s", group["marketplace"], str(outcome)[:500])
        report = verify(group, since)
        for key in ("up", "gone", "unknown", "changes"):
            getattr(total, key).extend(report[key])
        state = {i: k for k in ("up", "gone", "unknown") for i in report[k]}
        rows += [{"listing": i, "marketplace": group["marketplace"], "url": url, "state": state.get(i, "?")}
                 for i, url in group["listings"]]
    for line in total.changes:
        logger.info(line)
    logger.info("takedown outcomes: %s", takedown_outcomes())
    logger.info("recheck: %d up, %d gone, %d unknown", len(total.up), len(total.gone), len(total.unknown))
    if rows:
        create_table_artifact(key="recheck-summary", table=rows, description="Listings rechecked")
    return total.as_dict()
