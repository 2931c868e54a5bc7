"""Pipeline: store listings in batches and record the crawl as a ``crawl_runs`` row with its stats.

The pipeline owns its database session: opened in ``open_spider``, each batch of
``LOOKALIKE_STORAGE_BATCH_SIZE`` listings written in one transaction (see :mod:`.records`), the rest
flushed in ``close_spider``.  When the spider has closed (``spider_closed``, which carries the finish
reason) it decides what the crawl proves about listings it did not see, and finishes the run row.

Gone listings (``Settings.gone_after_runs``): a listing counts a miss only when the crawl was responsible
for it, so that absence means something:

- ``full`` crawls (a whole shop from its start URLs) count a miss for every active listing of the
  marketplace they did not see, but only when the crawl finished normally, stored at least one listing,
  hit no page limit, lost no page to an error (after retries) and had no storage error: a crawl cut
  short, blocked or broken proves nothing.
- ``recheck`` crawls (known listing URLs) count a miss for the listings whose URL answered 404/410 or no
  longer shows a product; a network error is not a miss.
- ``search`` crawls count nothing: a listing missing from today's search results may simply rank lower.

A crawl is ``failed`` (with ``stats.error`` in words and ``stats.retryable``) when it ended abnormally,
lost listings to storage errors, or fetched no product page where pages were expected
(:func:`crawl_failure`: robots.txt denying all, timeouts, oversize pages, a redirect loop, a refused
connection...).

The run id comes from ``LOOKALIKE_CRAWL_RUN_ID`` (created by :func:`crawlers.run.run_crawl` so the parent
knows it even if the child dies), or a new row is created (``scrapy crawl`` by hand).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from typing import Any

from scrapy import signals

from crawlers.items import Listing as ListingItem
from crawlers.pipelines import records
from crawlers.settings import lookalike_settings
from crawlers.stats import CrawlStats, ImageCounts, ListingCounts, SourceCounts

logger = logging.getLogger(__name__)


def json_safe(value: Any) -> Any:
    """Scrapy stats made JSON-friendly (datetimes as ISO text, other odd values as text)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def summarize_stats(stats: dict[str, Any]) -> CrawlStats:
    """The crawl's :class:`~crawlers.stats.CrawlStats` from a Scrapy stats dict (pure; see docs/crawling.md)."""

    def prefixed(prefix: str) -> dict[str, int]:
        return {k[len(prefix):]: int(v) for k, v in sorted(stats.items()) if k.startswith(prefix)}

    listings = ListingCounts(**{key: int(stats.get(f"lookalike/listings/{key}", 0))
                                for key in ("new", "changed", "unchanged", "reappeared", "missed", "gone")})
    return CrawlStats(
        pages=int(stats.get("lookalike/pages", 0)),
        responses=int(stats.get("downloader/response_count", 0)),
        listings=listings,
        listings_stored=listings.new + listings.changed + listings.unchanged,
        errors=int(stats.get("log_count/ERROR", 0)),
        download_errors=prefixed("downloader/exception_type_count/"),
        http_status=prefixed("downloader/response_status_count/"),
        retries=int(stats.get("retry/count", 0)),
        images=ImageCounts(ok=int(stats.get("lookalike/images/ok", 0)),
                           reused=int(stats.get("lookalike/images/reused", 0)),
                           failed=prefixed("lookalike/images/failed/")),
        dropped=prefixed("lookalike/dropped/"),
        refused={**prefixed("netguard/refused/"), "robots_txt": int(stats.get("robotstxt/forbidden", 0))},
        tracking_params_stripped=int(stats.get("tracking/stripped_count", 0)),
        browser=prefixed("browser/"),
        source=SourceCounts(
            calls=int(stats.get("lookalike/source/calls", 0)), budget=int(stats.get("lookalike/source/budget", 0)),
            budget_left=int(stats.get("lookalike/source/budget_left", 0)),
            budget_exhausted=bool(stats.get("lookalike/source/budget_exhausted")),
            retry_after=int(stats.get("lookalike/source/retry_after", 0)),
            waited_seconds=round(float(stats.get("lookalike/source/waited_seconds", 0.0)), 3),
            unfinished_queries=int(stats.get("lookalike/source/unfinished_queries", 0))),
        page_limit_reached=bool(stats.get("lookalike/page_limit_reached")),
        pages_failed=int(stats.get("lookalike/pages_failed", 0)),
        gone_check=stats.get("lookalike/gone_check"),
        finish_reason=stats.get("finish_reason"),
        scrapy=json_safe(stats),
    )


#: Causes that answer the same way on a retry (a retry would only load the site again).
DETERMINISTIC_CAUSES = frozenset({"robots_txt", "refused", "oversize", "redirect_loop", "not_products"})


def failure_causes(stats: dict[str, Any]) -> list[tuple[str, str]]:
    """``(kind, words)`` for what stopped pages from being fetched, from a Scrapy stats dict (pure).

    Kinds: ``robots_txt``, ``refused`` (the private-network guard), ``timeout``, ``connection_refused``,
    ``dns``, ``oversize`` (over ``DOWNLOAD_MAXSIZE``), ``redirect_loop`` (too many redirects),
    ``http_error`` (5xx/4xx answers), ``network`` (other download errors).
    """
    causes: list[tuple[str, str]] = []
    robots = int(stats.get("robotstxt/forbidden", 0))
    if robots:
        causes.append(("robots_txt", f"robots.txt denied {robots} request(s)"))
    refused = sum(int(v) for k, v in stats.items() if k.startswith("netguard/refused/"))
    if refused:
        causes.append(("refused", f"the private-network guard refused {refused} request(s)"))
    errors: Counter[str] = Counter()
    for key, value in stats.items():
        if not key.startswith("downloader/exception_type_count/"):
            continue
        name = key.rsplit("/", 1)[-1].rsplit(".", 1)[-1]
        if "Timeout" in name:
            errors["timeout"] += int(value)
        elif "ConnectionRefused" in name:
            errors["connection_refused"] += int(value)
        elif "DNS" in name or "CannotResolveHost" in name:
            errors["dns"] += int(value)
        elif "Cancelled" in name:
            errors["oversize"] += int(value)
        elif "IgnoreRequest" not in name:
            errors["network"] += int(value)
    words = {"timeout": "{} request(s) timed out", "connection_refused": "the connection was refused {} time(s)",
             "dns": "the host name did not resolve ({} time(s))",
             "oversize": "{} page(s) were larger than the download size limit",
             "network": "{} other network error(s)"}
    causes += [(kind, words[kind].format(count)) for kind, count in errors.items() if count]
    loops = int(stats.get("lookalike/redirect_loops", 0))
    if loops:
        causes.append(("redirect_loop", f"{loops} request(s) hit the redirect limit (a redirect loop)"))
    http_errors = sum(int(v) for k, v in stats.items()
                      if k.startswith("downloader/response_status_count/") and k.rsplit("/", 1)[-1][:1] in "45")
    if http_errors:
        causes.append(("http_error", f"{http_errors} answer(s) were HTTP errors"))
    return causes


def crawl_failure(
    stats: dict[str, Any], *, reason: str, scope: str, products: int, gone_evidence: int, storage_errors: int
) -> tuple[str, bool] | None:
    """Why a crawl failed and whether a retry may help (``(words, retryable)``), or None when it did not.

    A crawl fails when it did not finish normally, lost batches to storage errors, or fetched no product
    page where product pages were expected: ``full`` and ``recheck`` crawls and platform crawls expect
    products (a recheck's 404/410 answers count as evidence); a ``search`` crawl expects at least one
    results page, and an empty result is an answer.  ``products`` counts listings stored or dropped by
    validation.
    """
    if reason != "finished":
        said = stats.get("lookalike/source/error")  # an API source's own sentence (credentials refused...)
        if isinstance(said, str) and said:
            return said, reason not in ("credentials_refused", "credentials_missing")
        return f"the crawl ended with {reason!r}", True
    if storage_errors:
        return f"{storage_errors} batch(es) of listings could not be stored", True
    pages = int(stats.get("lookalike/pages", 0))
    if scope == "search":
        if pages:
            return None
        if stats.get("lookalike/source/budget_exhausted"):
            return (f"the source's daily budget of {int(stats.get('lookalike/source/budget', 0))} API calls was "
                    "already used; its queries wait for the next run", False)
        lead = "no search results page was fetched"
    else:
        if products or gone_evidence:
            return None
        lead = "no product page was fetched" if not pages else f"none of the {pages} page(s) fetched was a product page"
    causes = failure_causes(stats)
    if not causes and pages:
        causes = [("not_products", "the pages carry no product markup or price")]
    if not causes:
        causes = [("network", "no page answered")]
    retryable = any(kind not in DETERMINISTIC_CAUSES for kind, _ in causes)
    return f"{lead}: {'; '.join(words for _, words in causes)}", retryable


class StorageListingPipeline:
    def __init__(self, *, crawler: Any, database_url: str, crawl_run_id: int | None, scan_id: str | None,
                 batch_size: int, gone_after_runs: int, params: dict[str, Any]) -> None:
        self.crawler = crawler
        self.database_url = database_url
        self.crawl_run_id = crawl_run_id
        self.scan_id = scan_id
        self.batch_size = batch_size
        self.gone_after_runs = gone_after_runs
        self.params = params
        self.db: Any = None
        self.marketplace_id: int | None = None
        self.batch: list[ListingItem] = []
        self.counts: Counter[str] = Counter()
        self.storage_errors = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorageListingPipeline:
        settings = lookalike_settings(crawler.settings)
        pipeline = cls(
            crawler=crawler,
            database_url=crawler.settings.get("LOOKALIKE_DATABASE_URL") or settings.database_url,
            crawl_run_id=crawler.settings.getint("LOOKALIKE_CRAWL_RUN_ID") or None,
            scan_id=crawler.settings.get("LOOKALIKE_SCAN_ID") or None,
            batch_size=max(1, crawler.settings.getint("LOOKALIKE_STORAGE_BATCH_SIZE")),
            gone_after_runs=settings.gone_after_runs,
            params=crawler.settings.getdict("LOOKALIKE_CRAWL_PARAMS"),
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    # ------------------------------------------------------------------------------- lifecycle
    def open_spider(self) -> None:
        from storage.db import Database
        from storage.models import CrawlRun

        spider = self.crawler.spider
        self.db = Database(self.database_url)
        if self.crawl_run_id is None:  # run by hand; crawlers.run migrated the database already
            self.db.ensure_schema()
        with self.db.session() as session:
            marketplace = records.get_or_create_marketplace(
                session,
                name=spider.marketplace_name,
                base_url=getattr(spider, "marketplace_base_url", None),
                kind=getattr(spider, "marketplace_kind", "shop"),
            )
            self.marketplace_id = marketplace.id
            run = session.get(CrawlRun, self.crawl_run_id) if self.crawl_run_id else None
            if run is None:
                params = self.params or {"spider": spider.name, "start_urls": list(getattr(spider, "start_urls", []))}
                run = records.start_run(session, marketplace_id=marketplace.id, scan_id=self.scan_id, params=params)
            run.marketplace_id = marketplace.id
            run.status = "running"
            self.crawl_run_id = run.id
        self.crawler.stats.set_value("lookalike/crawl_run_id", self.crawl_run_id)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ListingItem):
            self.batch.append(item)
            if len(self.batch) >= self.batch_size:
                self.flush()
        return item

    def close_spider(self) -> None:
        self.flush()

    def flush(self) -> None:
        if not self.batch or self.db is None:
            return
        batch, self.batch = self.batch, []
        from crawlers.pipelines.images import PENDING, ListingImagesPipeline

        images = self.crawler.get_item_pipeline(ListingImagesPipeline)
        outcome = images.outcome if images is not None else (lambda _url: PENDING)
        new_images = images.take_new_images() if images is not None else []
        try:
            with self.db.session() as session:
                records.save_images(session, new_images)
                counts = records.upsert_listings(
                    session, marketplace_id=self.marketplace_id, crawl_run_id=self.crawl_run_id,
                    items=batch, image_outcome=outcome,
                )
        except Exception:  # a database error loses this batch, not the crawl; counted and logged
            logger.exception("could not store %d listings", len(batch))
            if images is not None:  # their rows were rolled back too: write them with the next batch
                images.new_images[:0] = new_images
            self.storage_errors += 1
            self.crawler.stats.inc_value("lookalike/dropped/storage_error", len(batch))
            return
        for key, value in counts.items():
            self.crawler.stats.inc_value(f"lookalike/listings/{key}", value)
        self.counts.update(counts)

    # ------------------------------------------------------------------------- end of the crawl
    def gone_scope(self, spider: Any, reason: str) -> tuple[str, list[str] | None] | str:
        """``(scope, urls or None)`` when misses are counted, else why not (a sentence)."""
        scope = getattr(spider, "crawl_scope", "search")
        if scope == "search":
            return "skipped: search results prove nothing about listings they do not show"
        if scope == "recheck":
            return scope, sorted(getattr(spider, "gone_evidence", set()))
        if reason != "finished":
            return f"skipped: crawl ended with {reason!r}"
        if getattr(spider, "page_limit_reached", False):
            return "skipped: page limit reached, the shop was not fully crawled"
        if getattr(spider, "failed_pages", 0):
            return f"skipped: {spider.failed_pages} page(s) could not be fetched"
        if self.storage_errors:
            return "skipped: storage errors"
        if not sum(self.counts[k] for k in ("new", "changed", "unchanged", "reappeared")):
            return "skipped: the crawl stored no listing"
        return scope, None

    def spider_closed(self, spider: Any, reason: str) -> None:
        from storage.models import CrawlRun, utcnow

        if self.db is None or self.crawl_run_id is None:
            return
        stats = self.crawler.stats
        try:
            decision = self.gone_scope(spider, reason)
            if isinstance(decision, str):
                stats.set_value("lookalike/gone_check", decision)
            else:
                scope, urls = decision
                with self.db.session() as session:
                    missed, gone = records.mark_missed(
                        session, marketplace_id=self.marketplace_id, crawl_run_id=self.crawl_run_id,
                        gone_after_runs=self.gone_after_runs, only_canonical_urls=urls,
                    )
                stats.set_value("lookalike/listings/missed", missed)
                stats.set_value("lookalike/listings/gone", gone)
                stats.set_value("lookalike/gone_check", f"done ({scope})")
            all_stats = {**stats.get_stats(), "finish_reason": reason}
            summary = summarize_stats(all_stats)
            products = sum(self.counts[k] for k in ("new", "changed", "unchanged", "reappeared"))
            products += sum(summary.dropped.values())
            failure = crawl_failure(
                all_stats, reason=reason, scope=getattr(spider, "crawl_scope", "search"), products=products,
                gone_evidence=len(getattr(spider, "gone_evidence", ())), storage_errors=self.storage_errors,
            )
            if failure is not None:
                summary = summary.failed(failure[0], retryable=failure[1])
                logger.error("crawl failed: %s", failure[0])
            with self.db.session() as session:
                run = session.get(CrawlRun, self.crawl_run_id)
                run.finished_at = utcnow()
                run.status = "failed" if failure else "finished"
                run.stats = summary.as_json()
        finally:
            self.db.dispose()

