"""The recheck flow: re-visit listings analysts confirmed or reported and record whether each is still up.

Thin over :mod:`services.recheck`: one recheck crawl per marketplace (a child process, retried by
:func:`flows.common.crawl_retry_policy`, tagged :func:`flows.common.site_tag` for tag concurrency limits),
then the verdicts are recorded and the reported matches of listings that are gone move to ``removed``.  A
``recheck-summary`` table artifact lists every listing and what was found.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from core.settings import load_settings
from flows.common import crawl_retry_policy, site_tag, task_database
from services import recheck, takedowns
from services.recheck import RecheckGroup, RecheckReport
from storage.models import utcnow

PARALLEL_CRAWLS = 4


@task(name="listings-to-recheck", cache_policy=NO_CACHE)
def select_groups(statuses: list[str]) -> list[RecheckGroup]:
    with task_database() as database, database.session() as session:
        return recheck.recheck_groups(session, statuses=statuses)


@task(name="recheck-crawl", cache_policy=NO_CACHE, **crawl_retry_policy())
def recheck_crawl(group: RecheckGroup) -> int:
    return recheck.recheck_crawl(load_settings(), group)


@task(name="verify-takedowns", cache_policy=NO_CACHE)
def verify(group: RecheckGroup, since: dt.datetime) -> RecheckReport:
    with task_database() as database, database.session() as session:
        return recheck.verify_takedowns(session, group, since=since)


@task(name="takedown-outcomes", cache_policy=NO_CACHE)
def takedown_outcomes() -> dict[str, int]:
    """Record what the recheck proved about each notice: removed, edited, still up after the window."""
    settings = load_settings()
    with task_database(settings) as database, database.session() as session:
        return takedowns.update_outcomes(session, settings)


@flow(name="recheck", task_runner=ThreadPoolTaskRunner(max_workers=PARALLEL_CRAWLS))
def recheck_reported(statuses: list[str] | None = None) -> dict[str, Any]:
    """Recheck the listings of matches in ``statuses`` (default: reported and confirmed).

    Returns ``{"up": [listing ids], "gone": [...], "unknown": [...], "changes": [sentences]}``.
    """
    logger = get_run_logger()
    since = utcnow()
    groups = select_groups(list(statuses or recheck.RECHECK_STATUSES))
    logger.info("rechecking %d listing(s) on %d marketplace(s)", sum(len(g.listings) for g in groups), len(groups))
    crawls = [
        recheck_crawl.with_options(tags=[site_tag(g.marketplace)],
                                   task_run_name=f"recheck {g.marketplace}"[:200]).submit(g)
        for g in groups
    ]
    total = RecheckReport()
    rows: list[dict[str, Any]] = []
    for group, future in zip(groups, crawls, strict=True):
        outcome = future.result(raise_on_failure=False)
        if isinstance(outcome, BaseException):
            logger.error("recheck of %s failed: %s", group.marketplace, str(outcome)[:500])
        report = verify(group, since)
        for key in ("up", "gone", "unknown", "changes"):
            getattr(total, key).extend(getattr(report, key))
        state = {i: k for k in ("up", "gone", "unknown") for i in getattr(report, k)}
        rows += [{"listing": i, "marketplace": group.marketplace, "url": url, "state": state.get(i, "?")}
                 for i, url in group.listings]
    for line in total.changes:
        logger.info(line)
    logger.info("takedown outcomes: %s", takedown_outcomes())
    logger.info("recheck: %d up, %d gone, %d unknown", len(total.up), len(total.gone), len(total.unknown))
    if rows:
        create_table_artifact(key="recheck-summary", table=rows, description="Listings rechecked")
    return total.as_dict()
