"""The nightly scan as a Prefect flow: plan, crawl every site, sign, match what changed, publish the counts.

Orchestration only, over :mod:`services.scan` and the services it names; tasks hand each other typed
records (:class:`~services.scan.ScanTarget`, :class:`~services.scan.CrawlOutcome`,
:class:`~services.scan.MatchStats`...).  Settings come from the process that runs each task
(:func:`flows.common.task_database`), never from parameters.

- Crawls (:mod:`flows.crawl`) run in this flow run, several sites at once, or with ``crawl_deployment``
  as runs of the ``crawl-site`` flow on the work pool's workers.
- Listings a complete whole-site crawl did not reach are rechecked right after the crawls
  (``recheck-unreached``, :func:`services.recheck.recheck_unreached`): removed ones are marked gone with the date.
- After matching, ``find-networks`` links sellers into networks and flags relistings
  (:mod:`services.networks`, :mod:`services.relistings`).
- Image signatures are computed by the ``sign-images`` task after the crawls and before matching (the crawls
  only store image bytes): a bounded process pool, or Dask with ``dask_address``; resumable after a kill.
- Matching runs in the ``match-listings`` subflow, through a thread pool by default or through Dask
  (``dask_address``: a scheduler address, or ``local`` for a local cluster); each worker task claims
  batches of pending listings, so workers never score the same listing (PostgreSQL).  Queued re-matches
  (:mod:`services.rematch`) run after it.
- After matching, each search query's record gets its suspects (``record-query-suspects``,
  :mod:`services.querystats`): tomorrow's plan sends the queries that find counterfeits first.
- Stage counts go to the run log and to a table artifact ``scan-summary`` visible in the UI; failed sites
  and suspect spikes alert the operators (:func:`services.alerts.alert_after_scan`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed
from prefect.task_runners import ThreadPoolTaskRunner

from core.settings import load_settings
from flows.common import CRAWL_RETRIES, task_database
from flows.crawl import crawl_here, crawl_on_workers
from flows.digests import send_digests as send_digests_flow
from services import (
    alerts,
    evidence,
    networks,
    querystats,
    recheck,
    relistings,
    rematch,
    scan,
    scantargets,
    signatures,
)
from services.scan import MatchStats, ScanSummary, ScanTarget
from storage.models import utcnow

#: Crawls in flight at once (different sites).
PARALLEL_CRAWLS = 4


@task(name="recheck-unreached", cache_policy=NO_CACHE)
def recheck_unreached(outcomes: list[scan.CrawlOutcome], scan_id: str) -> dict[str, Any]:
    """Ask for the stored listings each complete whole-site crawl did not reach (a shop stops linking what it
    took down): :func:`services.recheck.recheck_unreached`."""
    settings = load_settings()
    report = recheck.recheck_unreached(settings, [o.crawl_run_id for o in outcomes if o.finished], scan_id=scan_id)
    logger = get_run_logger()
    logger.info("unreached listings: %d still up, %d gone, %d not answered",
                len(report.up), len(report.gone), len(report.unknown))
    for line in report.changes[:50]:
        logger.info("%s", line)
    return report.as_dict()


@task(name="find-networks", cache_policy=NO_CACHE)
def find_networks() -> dict[str, Any]:
    """Seller networks and relistings: networks (tonight's sellers too), then relistings (they use the
    networks), then networks again to count them (incremental: no seller's evidence is read twice)."""
    settings = load_settings()
    logger = get_run_logger()
    with task_database(settings) as database:
        first = networks.recompute_networks(database, rates=settings.currency_rates)
        found = relistings.detect_relistings(database)
        final = networks.recompute_networks(database, rates=settings.currency_rates)
    logger.info("networks: %d sellers (%d read again), %d links (%d strong), %d networks (%d new, %d grown)",
                first.sellers, first.sellers_read, final.links, final.strong_links, final.networks,
                first.new_networks, first.grown_networks)
    logger.info("relistings: %d new of %d found, over %d listings taken down", found.new, found.found, found.down)
    return {"networks": first.as_dict(), "relistings": found.as_dict()}


@task(name="plan-scan", cache_policy=NO_CACHE)
def plan_scan(targets_file: str | None, start_urls: list[str], profiles: list[str],
              base_url: str | None) -> list[ScanTarget]:
    """The crawls of tonight's scan, planned by :func:`services.scantargets.plan_scan`."""
    settings = load_settings()
    logger = get_run_logger()
    with task_database(settings) as database:
        plan = scantargets.plan_scan(settings, database, targets_file=targets_file, start_urls=start_urls,
                                     profiles=profiles, base_url=base_url)
    if plan.source is not None:
        logger.info("scan file: %s", plan.source)
    for sentence in plan.skipped:
        logger.warning("%s", sentence)
    logger.info("planned %d crawl(s) over %d site(s), up to %d queries planned per search profile",
                len(plan.targets), len(scan.group_by_site(plan.targets)), plan.queries)
    return plan.targets


@task(name="sign-images", cache_policy=NO_CACHE)
def sign_images(dask_address: str | None = None) -> signatures.SigningStats:
    """The signature stage, between the crawls and matching: every stored image without a signature gets
    one, in a bounded process pool or on Dask (``dask_address``, else the ``dask_address`` setting).
    Resumable: a rerun signs only what a killed run did not commit."""
    settings = load_settings()
    overrides = {"dask_address": dask_address} if dask_address else {}
    with task_database(settings) as database:
        return signatures.sign_stored(database, settings, logger=get_run_logger(), **overrides)


@task(name="match-pending", cache_policy=NO_CACHE)
def match_pending(worker: int, batch_size: int, sign_first: bool = True) -> MatchStats:
    """Score pending listings until none is left (:func:`services.scan.match_pending`)."""
    logger = get_run_logger()
    settings = load_settings()
    with task_database(settings) as database:
        stats = scan.match_pending(database, settings=settings, batch_size=batch_size, logger=logger,
                                   sign_first=sign_first)
    logger.info("worker %d matched %d listing(s) in %d batch(es): %s", worker, stats.listings, stats.batches,
                stats.outcomes)
    return stats


@task(name="rematch-pending", cache_policy=NO_CACHE)
def rematch_pending(batch_size: int) -> MatchStats:
    """Run the queued re-matches (a brand registered or changed since the listings were stored, see
    :mod:`services.rematch`); returns their counts as the scan's matching counts."""
    settings = load_settings()
    with task_database(settings) as database:
        stats = rematch.run_rematch_jobs(database, settings=settings, batch_size=batch_size, logger=get_run_logger())
    return stats.as_match_stats()


@task(name="record-query-suspects", cache_policy=NO_CACHE)
def record_query_suspects() -> int:
    """Count, for each search query the crawls recorded, the suspects among the listings it found
    (:func:`services.querystats.count_suspects`); the next plan ranks the queries by them."""
    settings = load_settings()
    with task_database(settings) as database:
        counted = querystats.count_suspects(database)
    get_run_logger().info("search queries: suspects counted for %d query run(s)", counted)
    return counted


@task(name="capture-evidence", cache_policy=NO_CACHE)
def capture_evidence() -> evidence.CaptureReport:
    """Keep the page (WARC), images and a screenshot of every new suspect and newly confirmed match
    (:mod:`services.evidence`); a page that cannot be fetched is recorded, not retried."""
    settings = load_settings()
    with task_database(settings) as database:
        report = evidence.capture_pending(database, settings)
    get_run_logger().info("evidence: %d captured, %d pages not fetched", len(report.captured), len(report.failed))
    return report


@task(name="alert-operators", cache_policy=NO_CACHE)
def alert_operators(summary: ScanSummary, started: dt.datetime) -> list[alerts.SiteFailure]:
    """Alert the operators of failed sites and suspect spikes (:func:`services.alerts.alert_after_scan`);
    returns the failed sites."""
    settings = load_settings()
    with task_database(settings) as database:
        return alerts.alert_after_scan(database, settings, summary, started=started, logger=get_run_logger()).failures


@flow(name="match-listings", task_runner=ThreadPoolTaskRunner(max_workers=4))
def match_listings(workers: int = 1, batch_size: int = scan.DEFAULT_BATCH_SIZE, sign_first: bool = True) -> MatchStats:
    """Match every pending listing with ``workers`` tasks at once (SQLite: always one)."""
    with task_database() as database:
        if database.backend == "sqlite" and workers > 1:
            get_run_logger().info("SQLite takes one writer at a time: matching with 1 worker, not %d", workers)
            workers = 1
    futures = [match_pending.submit(i, batch_size, sign_first) for i in range(max(1, workers))]
    total = MatchStats()
    for future in futures:
        total = total.add(future.result())
    return total


def _match_runner(dask_address: str | None) -> Any:
    if not dask_address:
        return match_listings
    from prefect_dask import DaskTaskRunner  # loaded only when a scan goes to Dask (start-up time)

    runner = DaskTaskRunner() if dask_address == "local" else DaskTaskRunner(address=dask_address)
    return match_listings.with_options(task_runner=runner)


def _publish(summary: ScanSummary) -> None:
    logger = get_run_logger()
    lines = scan.summary_lines(summary)
    for line in lines:
        logger.info(line)
    rows = scan.summary_rows(summary)
    if rows:
        create_table_artifact(key="scan-summary", table=rows, description=f"Suspects per brand, {summary.scan_id}")
    markdown = "\n".join(["# Scan summary", "", *[f"- {line.strip()}" for line in lines]])
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
    crawl_retries: int = CRAWL_RETRIES,
    send_digests: bool = False,
    crawl_deployment: str | None = None,
) -> Any:
    """Crawl the configured shops and marketplaces, match new and changed listings, queue suspects.

    ``targets_file``: a scan file (``scan.yaml``, see :mod:`services.scantargets`); ``start_urls`` and
    ``profiles`` (with ``base_url``) add targets; with none of the three, ``<data_dir>/scan.yaml`` is read.
    ``match_workers`` tasks match at once (PostgreSQL); ``dask_address`` sends them to a Dask cluster
    (``local``: start one here).  Returns the :class:`services.scan.ScanSummary` as a dict (JSON, for the
    API and the CLI).

    ``crawl_retries``: retries of a crawl that failed in a way worth retrying (with backoff).
    ``crawl_deployment``: a deployment of the ``crawl-site`` flow (``crawl-site/crawl-site``): every crawl
    runs there, on the work pool's workers, instead of in this flow run (see :mod:`flows.crawl`).
    ``send_digests``: deliver the owners' digests as the final step (the ``send-digests`` subflow).
    A site that could not be crawled does not stop the others: their listings are stored and matched,
    the operators get an alert (:mod:`services.alerts`, also for suspect spikes), and the run ends
    **Failed** naming each such site and its cause; calling the flow then raises
    :class:`services.alerts.ScanFailed`, whose ``summary`` is the summary.
    """
    started = utcnow()
    scan_id = scan_id or scan.new_scan_id()
    planned = plan_scan(targets_file, list(start_urls or []), list(profiles or []), base_url)
    if not planned:
        get_run_logger().warning("nothing to crawl: give a targets_file, start_urls or profiles; matching only")
    if crawl_deployment and planned:
        outcomes = crawl_on_workers(planned, scan_id, crawl_deployment, retries=crawl_retries)
    else:
        outcomes = crawl_here(planned, scan_id, retries=crawl_retries)
    recheck_unreached(outcomes, scan_id)
    sign_images(dask_address)
    matching = _match_runner(dask_address)(workers=match_workers, batch_size=batch_size, sign_first=False)
    matching = matching.add(rematch_pending(batch_size))
    record_query_suspects()
    capture_evidence()
    find_networks()
    with task_database() as database:
        summary = scan.scan_summary(database, scan_id=scan_id, crawls=outcomes, matching=matching)
    _publish(summary)
    failures = alert_operators(summary, started)
    if send_digests:
        send_digests_flow(return_state=True)  # its own run shows sent/skipped/failed; a failure there is its own
    if failures:
        reason = alerts.failure_reason(failures)
        return Failed(message=reason, data=alerts.ScanFailed(reason, summary.as_dict()))
    return summary.as_dict()
