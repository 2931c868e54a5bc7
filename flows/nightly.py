"""The nightly scan as a Prefect flow: plan, crawl every site, match what changed, publish the counts.

Thin over :mod:`services.scan`.  Settings (database, data folder, limits) come from the environment and
``lookalike.toml`` of the process that runs the flow, never from parameters, so no secret is ever a
parameter.

- Crawls run in child processes (Scrapy's reactor cannot restart inside a long-lived worker), several
  sites at once, one site's crawls one after the other; each crawl task is tagged
  ``marketplace:<site>`` so a Prefect tag concurrency limit can also bound a site across flow runs
  (``prefect concurrency-limit create marketplace:ebay 1``).  Only crawls (network IO) are retried.
- With ``crawl_deployment`` (``crawl-site/crawl-site``), each crawl is instead a run of the ``crawl-site``
  flow on whichever Prefect worker of the pool picks it up, all submitted at once; each holds its site's
  global concurrency limit ``marketplace:<site>`` (created with 1 slot when absent) while it crawls, so
  different sites crawl at the same time on several machines and one site never twice at once.  The
  outcomes are read back from the shared database (``crawl_runs``), not from Prefect's result storage,
  which is local to each worker.
- Image signatures are computed by the ``sign-images`` task after the crawls and before matching (the crawls
  only store image bytes): a bounded process pool, or Dask with ``dask_address``; resumable after a kill.
- Matching runs in the ``match-listings`` subflow, through a thread pool by default or through Dask
  (``dask_address``: a scheduler address, or ``local`` for a local cluster); each worker task claims
  batches of pending listings, so workers never score the same listing (PostgreSQL).
- Stage counts go to the run log and to a table artifact ``scan-summary`` visible in the UI.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from prefect import allow_failure, flow, get_client, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.futures import PrefectFuture
from prefect.states import Failed
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff

from core.errors import LookalikeError
from core.settings import load_settings
from flows.digests import send_digests as send_digests_flow
from services import alerts, evidence, rematch, scan, scantargets, signatures
from storage.db import Database
from storage.models import utcnow

#: Crawls in flight at once (different sites).
PARALLEL_CRAWLS = 4
#: Seconds before the first retry of a failed crawl; doubled for each later retry.
CRAWL_RETRY_BACKOFF = 30
#: Slots of a site's global concurrency limit when ``crawl-site`` creates it (an existing limit is kept).
SITE_LIMIT_SLOTS = 1
#: Longest wait, in seconds, for one ``crawl-site`` run on a worker (its wait for the site's limit included);
#: a run not finished by then is reported failed and left running.
CRAWL_RUN_TIMEOUT = 6 * 3600
#: Seconds between two reads of the ``crawl-site`` runs' states.
CRAWL_RUN_POLL = 2.0


def worth_retrying(_task: Any, _task_run: Any, state: Any) -> bool:
    """Retry a crawl that ran and failed (site down, child process died) or hit an unexpected error, not
    one that cannot run (a bad profile, a profile with nothing to search): those fail at once."""
    error = state.data if isinstance(state.data, BaseException) else None
    return not isinstance(error, LookalikeError) or isinstance(error, scan.CrawlFailed)


def _database() -> Database:
    return Database(load_settings().database_url).ensure_schema()


@task(name="plan-scan", cache_policy=NO_CACHE)
def plan_scan(
    targets_file: str | None, start_urls: list[str], profiles: list[str], base_url: str | None
) -> list[dict[str, Any]]:
    """The crawls of tonight's scan (as dicts), planned by :func:`services.scantargets.plan_scan`."""
    settings = load_settings()
    logger = get_run_logger()
    with Database.opened(settings.database_url) as database:
        plan = scantargets.plan_scan(settings, database, targets_file=targets_file, start_urls=start_urls,
                                     profiles=profiles, base_url=base_url)
    if plan.source is not None:
        logger.info("scan file: %s", plan.source)
    for sentence in plan.skipped:
        logger.warning("%s", sentence)
    logger.info("planned %d crawl(s) over %d site(s), %d registry queries",
                len(plan.targets), len(scan.group_by_site(plan.targets)), plan.queries)
    return [t.as_dict() for t in plan.targets]


@task(name="crawl", retries=2, retry_delay_seconds=exponential_backoff(backoff_factor=CRAWL_RETRY_BACKOFF),
      retry_jitter_factor=0.5, retry_condition_fn=worth_retrying, cache_policy=NO_CACHE)
def crawl(target: dict[str, Any], scan_id: str) -> dict[str, Any]:
    """One crawl in a child process; returns its :class:`services.scan.CrawlOutcome` as a dict."""
    logger = get_run_logger()
    settings = load_settings()
    with Database(settings.database_url) as database:
        outcome = scan.crawl_target(settings, scan.ScanTarget.from_dict(target), scan_id=scan_id,
                                    database=database)
    logger.info("crawl %s: %s, %d pages, %d new / %d changed / %d gone listings", outcome.target,
                outcome.status, outcome.pages, outcome.listings_new, outcome.listings_changed,
                outcome.listings_gone)
    return outcome.as_dict()


def site_limit_name(site: str) -> str:
    """The global concurrency limit of one site (:attr:`services.scan.ScanTarget.key`)."""
    return f"marketplace:{site}"


@task(name="ensure-site-limit", cache_policy=NO_CACHE)
def ensure_site_limit(site: str) -> str:
    """Create the site's global concurrency limit with :data:`SITE_LIMIT_SLOTS` slots unless it exists (an
    operator's own limit, e.g. 2 slots, is left as it is); returns its name."""
    name = site_limit_name(site)
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
def crawl_site(target: dict[str, Any], scan_id: str, retries: int = 2) -> dict[str, Any]:
    """One crawl of the nightly scan on a Prefect worker (``crawl_deployment`` of :func:`nightly_scan`).

    Holds a slot of the site's global concurrency limit ``marketplace:<site>`` for the whole crawl, its
    retries included, so no two workers crawl one site at once; waits for the slot as long as it takes.
    Returns the :class:`services.scan.CrawlOutcome` as a dict (also recorded in ``crawl_runs``)."""
    planned = scan.ScanTarget.from_dict(target)
    limit = ensure_site_limit(planned.key)
    # Not strict about renewals: a transient API error must not kill a crawl of hours; the lease (300 s)
    # frees the slot if this machine dies.
    with concurrency(limit, occupy=1, strict=True, raise_on_lease_renewal_failure=False):
        get_run_logger().info("holding %s: crawling %s", limit, planned.label)
        options = crawl.with_options(tags=[site_limit_name(planned.key)], retries=retries,
                                     task_run_name=f"crawl {planned.label}"[:200])
        return options(planned.as_dict(), scan_id)


@task(name="sign-images", cache_policy=NO_CACHE)
def sign_images(dask_address: str | None = None) -> dict[str, Any]:
    """The signature stage, between the crawls and matching: every stored image without a signature gets
    one, in a bounded process pool or on Dask (``dask_address``, else the ``dask_address`` setting).
    Resumable: a rerun signs only what a killed run did not commit. Returns
    :class:`services.signatures.SigningStats` as a dict."""
    settings = load_settings()
    overrides = {"dask_address": dask_address} if dask_address else {}
    with Database.opened(settings.database_url) as database:
        return signatures.sign_stored(database, settings, logger=get_run_logger(), **overrides).as_dict()


@task(name="match-pending", cache_policy=NO_CACHE)
def match_pending(worker: int, batch_size: int, sign_first: bool = True) -> dict[str, Any]:
    """Score pending listings until none is left; returns :class:`services.scan.MatchStats` as a dict."""
    logger = get_run_logger()
    settings = load_settings()
    with Database(settings.database_url).ensure_schema() as database:
        stats = scan.match_pending(database, settings=settings, batch_size=batch_size, logger=logger,
                                   sign_first=sign_first)
    logger.info("worker %d matched %d listing(s) in %d batch(es): %s", worker, stats.listings, stats.batches,
                stats.outcomes)
    return stats.as_dict()


@task(name="rematch-pending", cache_policy=NO_CACHE)
def rematch_pending(batch_size: int) -> dict[str, Any]:
    """Run the queued re-matches (a brand registered or changed since the listings were stored, see
    :mod:`services.rematch`); returns their counts as :class:`services.scan.MatchStats` as a dict."""
    settings = load_settings()
    with Database.opened(settings.database_url) as database:
        stats = rematch.run_rematch_jobs(database, settings=settings, batch_size=batch_size, logger=get_run_logger())
    return stats.as_match_stats().as_dict()


@task(name="capture-evidence", cache_policy=NO_CACHE)
def capture_evidence() -> dict[str, Any]:
    """Keep the page (WARC), images and a screenshot of every new suspect and newly confirmed match
    (:mod:`services.evidence`); a page that cannot be fetched is recorded, not retried."""
    settings = load_settings()
    with Database.opened(settings.database_url) as database:
        report = evidence.capture_pending(database, settings)
    get_run_logger().info("evidence: %d captured, %d pages not fetched", len(report.captured), len(report.failed))
    return report.as_dict()


@flow(name="match-listings", task_runner=ThreadPoolTaskRunner(max_workers=4))
def match_listings(workers: int = 1, batch_size: int = scan.DEFAULT_BATCH_SIZE,
                   sign_first: bool = True) -> dict[str, Any]:
    """Match every pending listing with ``workers`` tasks at once (SQLite: always one)."""
    with _database() as database:
        if database.backend == "sqlite" and workers > 1:
            get_run_logger().info("SQLite takes one writer at a time: matching with 1 worker, not %d", workers)
            workers = 1
    futures = [match_pending.submit(i, batch_size, sign_first) for i in range(max(1, workers))]
    total = scan.MatchStats()
    for future in futures:
        total = total.add(scan.MatchStats.from_dict(future.result()))
    return total.as_dict()


def _match_runner(dask_address: str | None) -> Any:
    if not dask_address:
        return match_listings
    from prefect_dask import DaskTaskRunner

    runner = DaskTaskRunner() if dask_address == "local" else DaskTaskRunner(address=dask_address)
    return match_listings.with_options(task_runner=runner)


def _crawl_all(planned: list[dict[str, Any]], scan_id: str, retries: int = 2) -> list[scan.CrawlOutcome]:
    """Submit every crawl: sites in parallel, a site's crawls chained (each waits for the one before)."""
    logger = get_run_logger()
    targets = [scan.ScanTarget.from_dict(t) for t in planned]
    futures: list[tuple[scan.ScanTarget, PrefectFuture]] = []
    for site, group in scan.group_by_site(targets).items():
        previous: PrefectFuture | None = None
        for target in group:
            options = crawl.with_options(tags=[f"marketplace:{site}"], task_run_name=f"crawl {target.label}"[:200],
                                         retries=retries)
            wait_for = [allow_failure(previous)] if previous is not None else None
            previous = options.submit(target.as_dict(), scan_id, wait_for=wait_for)
            futures.append((target, previous))
    outcomes = []
    for target, future in futures:
        result = future.result(raise_on_failure=False)
        if isinstance(result, BaseException):
            logger.error("crawl %s failed: %s", target.label, str(result)[:500])
            outcomes.append(scan.CrawlOutcome(target=target.label, crawl_run_id=None, status="failed",
                                              stats={"error": str(result)[:500]}))
        else:
            outcomes.append(scan.CrawlOutcome(**result))
    return outcomes


def _crawl_on_workers(planned: list[dict[str, Any]], scan_id: str, deployment: str,
                      retries: int = 2) -> list[scan.CrawlOutcome]:
    """Submit every crawl as a run of ``deployment`` (the ``crawl-site`` flow), all at once, and wait for
    them all; the site limits order them.  Outcomes come from the shared database."""
    logger = get_run_logger()
    targets = [scan.ScanTarget.from_dict(t) for t in planned]
    runs = [run_deployment(deployment, parameters={"target": t.as_dict(), "scan_id": scan_id, "retries": retries},
                           flow_run_name=f"crawl {t.label}"[:200], timeout=0, as_subflow=True) for t in targets]
    logger.info("submitted %d crawl(s) to %s", len(runs), deployment)
    states = _wait_for_runs([run.id for run in runs], timeout=CRAWL_RUN_TIMEOUT)
    outcomes = []
    with _database() as database:
        for target, run in zip(targets, runs, strict=True):
            state = states[run.id]
            if state is None:
                error = f"flow run {run.name} not finished after {CRAWL_RUN_TIMEOUT} s"
            elif not state.is_completed():
                error = f"flow run {run.name} ended {state.name}: {state.message or ''}"
            elif (recorded := scan.recorded_outcome(database, scan_id=scan_id, target=target)) is not None:
                outcomes.append(recorded)
                continue
            else:
                error = f"flow run {run.name} completed but recorded no crawl in {scan_id}"
            logger.error("crawl %s failed: %s", target.label, error[:500])
            outcomes.append(scan.CrawlOutcome(target=target.label, crawl_run_id=None, status="failed",
                                              stats={"error": error[:500]}))
    return outcomes


def _wait_for_runs(run_ids: list[Any], *, timeout: float) -> dict[Any, Any]:
    """Flow run id -> its final state, or None for a run not final after ``timeout`` seconds."""
    final: dict[Any, Any] = dict.fromkeys(run_ids)
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            for run_id in [r for r, state in final.items() if state is None]:
                state = client.read_flow_run(run_id).state
                if state is not None and state.is_final():
                    final[run_id] = state
            if all(state is not None for state in final.values()) or time.monotonic() > deadline:
                return final
            time.sleep(CRAWL_RUN_POLL)


def _publish(summary: scan.ScanSummary) -> None:
    logger = get_run_logger()
    for line in scan.summary_lines(summary):
        logger.info(line)
    rows = scan.summary_rows(summary)
    if rows:
        create_table_artifact(key="scan-summary", table=rows, description=f"Suspects per brand, {summary.scan_id}")
    markdown = "\n".join(["# Scan summary", "", *[f"- {line.strip()}" for line in scan.summary_lines(summary)]])
    create_markdown_artifact(key="scan-report", markdown=markdown, description=summary.scan_id)


@flow(name="nightly-scan", task_runner=ThreadPoolTaskRunner(max_workers=PARALLEL_CRAWLS))
def nightly_scan(
    targets_file: str | None = None,
    start_urls: list[str] | None = None,
    profiles: list[str] | None = None,
    base_url: str | None = None,
    match_workers: int = 1,
    batch_size: int = scan.DEFAULT_BATCH_SIZE,
    dask_address: str | None = None,
    scan_id: str | None = None,
    crawl_retries: int = 2,
    send_digests: bool = False,
    crawl_deployment: str | None = None,
) -> Any:
    """Crawl the configured shops and marketplaces, match new and changed listings, queue suspects.

    ``targets_file``: a scan file (``scan.yaml``, see :mod:`services.scan`); ``start_urls`` and
    ``profiles`` (with ``base_url``) add targets; with none of the three, ``<data_dir>/scan.yaml`` is read.  ``match_workers`` tasks match at once (PostgreSQL);
    ``dask_address`` sends them to a Dask cluster (``local``: start one here).  Returns the
    :class:`services.scan.ScanSummary` as a dict.

    ``crawl_retries``: retries of a crawl that failed in a way worth retrying (with backoff).
    ``crawl_deployment``: a deployment of the ``crawl-site`` flow (``crawl-site/crawl-site``): every crawl
    runs there, on the work pool's workers, instead of in this flow run (see the module doc).
    ``send_digests``: deliver the owners' digests as the final step (the ``send-digests`` subflow).
    A site that could not be crawled does not stop the others: their listings are stored and matched,
    the operators get an alert (:mod:`services.alerts`, also for suspect spikes), and the run ends
    **Failed** naming each such site and its cause; calling the flow then raises
    :class:`services.alerts.ScanFailed`, whose ``summary`` is the summary.
    """
    logger = get_run_logger()
    started = utcnow()
    scan_id = scan_id or scan.new_scan_id()
    planned = plan_scan(targets_file, list(start_urls or []), list(profiles or []), base_url)
    if not planned:
        logger.warning("nothing to crawl: give a targets_file, start_urls or profiles; matching only")
    if crawl_deployment and planned:
        outcomes = _crawl_on_workers(planned, scan_id, crawl_deployment, retries=crawl_retries)
    else:
        outcomes = _crawl_all(planned, scan_id, retries=crawl_retries)
    sign_images(dask_address)
    matching = scan.MatchStats.from_dict(_match_runner(dask_address)(workers=match_workers, batch_size=batch_size,
                                                                     sign_first=False))
    matching = matching.add(scan.MatchStats.from_dict(rematch_pending(batch_size)))
    capture_evidence()
    with _database() as database:
        summary = scan.scan_summary(database, scan_id=scan_id, crawls=outcomes, matching=matching)
    _publish(summary)
    failures = _alert_operators(summary, started)
    if send_digests:
        send_digests_flow(return_state=True)  # its own run shows sent/skipped/failed; a failure there is its own
    if failures:
        reason = alerts.failure_reason(failures)
        return Failed(message=reason, data=alerts.ScanFailed(reason, summary.as_dict()))
    return summary.as_dict()


@task(name="alert-operators", cache_policy=NO_CACHE)
def alert_operators(summary: dict[str, Any], started_iso: str) -> list[dict[str, str]]:
    """Alert the operators of failed sites and suspect spikes; returns the failed sites as dicts."""
    logger = get_run_logger()
    settings = load_settings()
    failures = alerts.crawl_failures(summary.get("crawls", []))
    tonight = {brand: counts.get("new", 0) for brand, counts in summary.get("per_brand", {}).items()}
    with Database.opened(settings.database_url) as database, database.session() as session:
        spiked = alerts.spikes(session, tonight, before=dt.datetime.fromisoformat(started_iso), settings=settings)
    for failure in failures:
        logger.error("site %s could not be crawled: %s", failure.site, failure.cause)
    for spike in spiked:
        logger.warning("suspect spike for %s: %d new tonight, %.2f per night before", spike.brand, spike.tonight,
                       spike.average)
    if failures or spiked:
        message = alerts.alert_message(settings, scan_id=summary.get("scan_id", ""), failures=failures,
                                       spiked=spiked)
        logger.warning("operator alert %s", alerts.deliver_alert(settings, message, logger=logger))
    return [{"site": f.site, "cause": f.cause} for f in failures]


def _alert_operators(summary: scan.ScanSummary, started: Any) -> list[alerts.SiteFailure]:
    rows = alert_operators(summary.as_dict(), started.isoformat())
    return [alerts.SiteFailure(**row) for row in rows]
