"""The crawls of the nightly scan, in this flow run or as runs of the ``crawl-site`` flow on workers.

Thin over :mod:`services.scan`.  Crawls run in child processes (Scrapy's reactor cannot restart inside a
long-lived worker).

- :func:`crawl_here`: several sites at once, one site's crawls one after the other, each crawl task
  tagged with its site (:func:`flows.common.site_tag`) and retried by :func:`flows.common.crawl_retry_policy`.
- :func:`crawl_on_workers`: each crawl a run of the ``crawl-site`` deployment (``crawl-site/crawl-site``) on
  whichever Prefect worker of the pool picks it up, all submitted at once; each holds its site's global
  concurrency limit ``marketplace:<site>`` (created with :data:`SITE_LIMIT_SLOTS` slot when absent) while it
  crawls, so different sites crawl at the same time on several machines and one site never twice at once.
  The outcomes are read back from the shared database (``crawl_runs``), not from Prefect's result storage,
  which is local to each worker.
"""

from __future__ import annotations

from prefect import Task, allow_failure, flow, get_client, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.futures import PrefectFuture

from core.settings import load_settings
from flows.common import CRAWL_RETRIES, crawl_retry_policy, site_tag, task_database
from services import scan
from services.scan import CrawlOutcome, ScanTarget

#: Slots of a site's global concurrency limit when ``crawl-site`` creates it (an existing limit is kept).
SITE_LIMIT_SLOTS = 1
#: Longest wait, in seconds, for one ``crawl-site`` run on a worker (its wait for the site's limit included);
#: a run not finished by then is reported failed and left running.
CRAWL_RUN_TIMEOUT = 6 * 3600
#: Seconds between two reads of the ``crawl-site`` runs' states.
CRAWL_RUN_POLL = 2.0


@task(name="crawl", cache_policy=NO_CACHE, **crawl_retry_policy())
def crawl(target: ScanTarget, scan_id: str) -> CrawlOutcome:
    """One crawl in a child process (:func:`services.scan.crawl_target`)."""
    settings = load_settings()
    with task_database(settings) as database:
        outcome = scan.crawl_target(settings, target, scan_id=scan_id, database=database)
    listings = outcome.stats.listings
    get_run_logger().info("crawl %s: %s, %d pages, %d new / %d changed / %d gone listings", outcome.target,
                          outcome.status, outcome.stats.pages, listings.new, listings.changed_or_reappeared,
                          listings.gone)
    return outcome


def _crawl_task(target: ScanTarget, retries: int) -> Task:
    return crawl.with_options(tags=[site_tag(target.key)], task_run_name=f"crawl {target.label}"[:200],
                              **crawl_retry_policy(retries))


@task(name="ensure-site-limit", cache_policy=NO_CACHE)
def ensure_site_limit(site: str) -> str:
    """Create the site's global concurrency limit with :data:`SITE_LIMIT_SLOTS` slots unless it exists (an
    operator's own limit, e.g. 2 slots, is left as it is); returns its name."""
    name = site_tag(site)
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
            return name
        except ObjectNotFound:
            pass
        try:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=SITE_LIMIT_SLOTS))
            get_run_logger().info("created global concurrency limit %s with %d slot(s)", name, SITE_LIMIT_SLOTS)
        except ObjectAlreadyExists:  # another crawl of the site created it meanwhile
            pass
    return name


@flow(name="crawl-site")
def crawl_site(target: ScanTarget, scan_id: str, retries: int = CRAWL_RETRIES) -> CrawlOutcome:
    """One crawl of the nightly scan on a Prefect worker (``crawl_deployment`` of the nightly scan).

    Holds a slot of the site's global concurrency limit ``marketplace:<site>`` for the whole crawl, its
    retries included, so no two workers crawl one site at once; waits for the slot as long as it takes.
    The outcome is also recorded in ``crawl_runs``, where the nightly flow reads it."""
    limit = ensure_site_limit(target.key)
    # Not strict about renewals: a transient API error must not kill a crawl of hours; the lease (300 s)
    # frees the slot if this machine dies.
    with concurrency(limit, occupy=1, strict=True, raise_on_lease_renewal_failure=False):
        get_run_logger().info("holding %s: crawling %s", limit, target.label)
        return _crawl_task(target, retries)(target, scan_id)


def crawl_here(targets: list[ScanTarget], scan_id: str, retries: int = CRAWL_RETRIES) -> list[CrawlOutcome]:
    """Submit every crawl: sites in parallel, a site's crawls chained (each waits for the one before);
    a crawl that failed for good is a failed outcome naming its error."""
    futures: list[tuple[ScanTarget, PrefectFuture]] = []
    for group in scan.group_by_site(targets).values():
        previous: PrefectFuture | None = None
        for target in group:
            wait_for = [allow_failure(previous)] if previous is not None else None
            previous = _crawl_task(target, retries).submit(target, scan_id, wait_for=wait_for)
            futures.append((target, previous))
    outcomes = []
    for target, future in futures:
        result = future.result(raise_on_failure=False)
        if isinstance(result, BaseException):
            get_run_logger().error("crawl %s failed: %s", target.label, str(result)[:500])
            result = scan.failed_outcome(target, str(result))
        outcomes.append(result)
    return outcomes


def crawl_on_workers(targets: list[ScanTarget], scan_id: str, deployment: str,
                     retries: int = CRAWL_RETRIES) -> list[CrawlOutcome]:
    """Submit every crawl as a run of ``deployment`` (the ``crawl-site`` flow), all at once, and wait for
    them all (:func:`services.scan.wait_until_final`); the site limits order them.  Outcomes come from
    the shared database (:func:`services.scan.outcome_of_run`)."""
    logger = get_run_logger()
    runs = [run_deployment(deployment, parameters={"target": t.as_dict(), "scan_id": scan_id, "retries": retries},
                           flow_run_name=f"crawl {t.label}"[:200], timeout=0, as_subflow=True) for t in targets]
    logger.info("submitted %d crawl(s) to %s", len(runs), deployment)
    with get_client(sync_client=True) as client:
        def read_final(run_id: object) -> scan.FinalState | None:
            state = client.read_flow_run(run_id).state
            if state is None or not state.is_final():
                return None
            return scan.FinalState(name=state.name, completed=state.is_completed(), message=state.message or "")

        finals = scan.wait_until_final([run.id for run in runs], read_final, timeout=CRAWL_RUN_TIMEOUT,
                                       poll=CRAWL_RUN_POLL)
    outcomes = []
    with task_database() as database:
        for target, run in zip(targets, runs, strict=True):
            outcome = scan.outcome_of_run(database, scan_id=scan_id, target=target, run_name=run.name,
                                          final=finals[run.id], waited=CRAWL_RUN_TIMEOUT)
            if not outcome.finished and outcome.crawl_run_id is None:
                logger.error("crawl %s failed: %s", target.label, outcome.stats.failure[:500])
            outcomes.append(outcome)
    return outcomes
