"""Pipeline: download each listing's images once, store them content-addressed, record what happened.

For every image URL of a listing (at most ``LOOKALIKE_MAX_IMAGES_PER_LISTING``) the outcome is one of
``ok`` (stored; ``sha256`` known), or the ``listing_images.status`` reasons: ``too_large`` (more bytes than
``Settings.max_image_bytes``, announced or received), ``not_image``, ``corrupt``, ``bomb`` (from
:class:`storage.imagestore.ImageStore`), ``refused`` (robots.txt, the private-network guard, too many
redirects), ``http_error`` (a non-2xx answer or a network failure). A bad image never stops the crawl; the
listing is stored with its image statuses.

Downloaded once: an URL is fetched at most once per crawl (concurrent listings sharing it wait for the
same download), and not at all when an earlier crawl of the marketplace already stored it
(``listing_images`` row with status ``ok``, loaded once when the crawl opens).  Downloads go through Scrapy's downloader (``engine.download_async``), so robots.txt,
the private-network guard, timeouts, retries, AutoThrottle and the user agent apply; the body is capped
at ``Settings.max_image_bytes`` and redirects at ``LOOKALIKE_IMAGE_MAX_REDIRECTS``.

No pixel is decoded here: the crawl checks the bytes (size, header, pixel count) and stores them
content-addressed (``ImageStore.put``, in a small thread pool of :data:`STORE_THREADS` so the event loop
never waits on a disk write), and moves on. Signatures are computed later by the signature stage
(``services/signatures.py``), so the crawl's memory is the downloads in flight, whatever their pixel count.

The ``images`` rows are written by the storage pipeline, in the transaction of the listings that show
them (:meth:`take_new_images`), not one transaction per image.

Stats: ``lookalike/images/ok``, ``lookalike/images/reused``, ``lookalike/images/failed/<status>``.
The storage pipeline reads outcomes with :meth:`ListingImagesPipeline.outcome`.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest, NotConfigured
from sqlalchemy import select

from crawlers.items import Listing
from crawlers.settings import lookalike_settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ImageOutcome:
    """What became of one image URL: ``status`` ``ok`` with ``sha256``, or a failure with ``error``."""

    status: str
    sha256: str | None = None
    error: str | None = None


PENDING = ImageOutcome("pending")
#: Threads checking and writing downloaded images (sha256 and a file write each; no decoding).
STORE_THREADS = 2


def check_and_store(store: Any, data: bytes, content_type: str | None) -> tuple[str, Any, str]:
    """``store.put``: ("ok", StoredImage, "") or ("rejected", reason, message)."""
    from storage.imagestore import ImageRejected

    try:
        return "ok", store.put(data, content_type=content_type), ""
    except ImageRejected as exc:
        return "rejected", exc.reason, str(exc)[:500]


def outcome_for_exception(exc: BaseException, *, size_cancelled: bool = False) -> ImageOutcome:
    """The outcome of a download that raised ``exc`` (pure: the tests use it as a table).

    ``size_cancelled``: more bytes arrived than the limit (counted by :meth:`ListingImagesPipeline.bytes_received`),
    so whatever error the cut surfaces as, the image is ``too_large``; an announced size over the limit says so
    in the message.
    """
    message = f"{type(exc).__name__}: {exc}"[:500]
    if size_cancelled or (isinstance(exc, DownloadCancelledError) and "max size" in str(exc).lower()):
        return ImageOutcome("too_large", error=message if str(exc) else "download cut at the byte limit")
    if isinstance(exc, IgnoreRequest):
        return ImageOutcome("refused", error=message)
    return ImageOutcome("http_error", error=message)


class ListingImagesPipeline:
    def __init__(self, *, crawler: Any, store: Any, database_url: str, max_images: int, max_bytes: int,
                 max_redirects: int, migrate: bool = False) -> None:
        self.crawler = crawler
        self.store = store
        self.database_url = database_url
        self.max_images = max_images
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.migrate = migrate
        self.executor: ThreadPoolExecutor | None = None
        self.db: Any = None
        self.outcomes: dict[str, ImageOutcome] = {}
        #: URL -> sha256 of images earlier crawls of this marketplace stored.
        self.stored: dict[str, str] = {}
        #: Images stored in this crawl whose ``images`` row is not written yet.
        self.new_images: list[Any] = []
        self._inflight: dict[str, asyncio.Future[ImageOutcome]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> ListingImagesPipeline:
        if not crawler.settings.getbool("LOOKALIKE_IMAGES_ENABLED"):
            raise NotConfigured
        from storage.imagestore import ImageStore

        settings = lookalike_settings(crawler.settings)
        pipeline = cls(
            crawler=crawler,
            store=ImageStore.from_settings(settings),
            database_url=crawler.settings.get("LOOKALIKE_DATABASE_URL") or settings.database_url,
            max_images=crawler.settings.getint("LOOKALIKE_MAX_IMAGES_PER_LISTING"),
            max_bytes=settings.max_image_bytes,
            max_redirects=crawler.settings.getint("LOOKALIKE_IMAGE_MAX_REDIRECTS"),
            # run by hand (``scrapy crawl``): nobody migrated the database yet
            migrate=not crawler.settings.getint("LOOKALIKE_CRAWL_RUN_ID"),
        )
        crawler.signals.connect(pipeline.bytes_received, signal=signals.bytes_received)
        return pipeline

    def bytes_received(self, data: bytes, request: Request, spider: Any = None) -> None:
        """Count the body bytes of image downloads: a download cut at the byte limit without a
        Content-Length surfaces as a bare ``DownloadCancelledError``, and only this count tells it apart."""
        received = request.meta.get("lookalike_received")
        if received is not None:
            received[0] += len(data)

    def open_spider(self) -> None:
        from storage.db import Database

        self.db = Database(self.database_url)
        if self.migrate:
            self.db.ensure_schema()
        self.executor = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="lookalike-images")
        self._preload_stored(getattr(self.crawler.spider, "marketplace_name", None))

    def _preload_stored(self, marketplace: str | None) -> None:
        """Outcomes for every image an earlier crawl of this marketplace stored: no second download.

        One query at the start instead of one per listing (a crawl spends its time elsewhere).
        """
        from storage.models import Listing, ListingImage, Marketplace

        if not marketplace:
            return
        with self.db.session() as session:
            rows = session.execute(
                select(ListingImage.url, ListingImage.sha256)
                .join(Listing, Listing.id == ListingImage.listing_id)
                .join(Marketplace, Marketplace.id == Listing.marketplace_id)
                .where(Marketplace.name == marketplace, ListingImage.status == "ok",
                       ListingImage.sha256.is_not(None))
            ).all()
        self.stored = {url: sha for url, sha in rows}

    def close_spider(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
        if self.db is not None:
            self.db.dispose()

    def outcome(self, url: str) -> ImageOutcome:
        """What happened to ``url`` in this crawl (``pending`` when it was not tried)."""
        return self.outcomes.get(url, PENDING)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Listing) or not item.image_urls:
            return item
        urls = list(dict.fromkeys(item.image_urls))[: self.max_images]
        await asyncio.gather(*(self._fetch_once(url) for url in urls))
        return item

    async def _fetch_once(self, url: str) -> ImageOutcome:
        if url in self.outcomes:
            return self.outcomes[url]
        if url in self.stored:
            outcome = self.outcomes[url] = ImageOutcome("ok", sha256=self.stored[url])
            self.crawler.stats.inc_value("lookalike/images/reused")
            return outcome
        if url in self._inflight:
            return await asyncio.shield(self._inflight[url])
        future: asyncio.Future[ImageOutcome] = asyncio.get_running_loop().create_future()
        self._inflight[url] = future
        try:
            outcome = await self._download_and_store(url)
        except Exception as exc:  # never let one image stop the crawl
            logger.exception("image %s failed unexpectedly", url[:200])
            outcome = ImageOutcome("http_error", error=f"{type(exc).__name__}: {exc}"[:500])
        self.outcomes[url] = outcome
        del self._inflight[url]
        future.set_result(outcome)
        stats = self.crawler.stats
        if outcome.status == "ok":
            stats.inc_value("lookalike/images/ok")
        else:
            stats.inc_value(f"lookalike/images/failed/{outcome.status}")
        return outcome

    async def _download_and_store(self, url: str) -> ImageOutcome:
        request = Request(
            url,
            # ``lookalike_received``: a list, so redirected copies of the request share the count
            meta={"download_maxsize": self.max_bytes, "redirect_ttl": self.max_redirects, "lookalike_image": True,
                  "lookalike_received": [0]},
            headers={"Accept": "image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8"},
            dont_filter=True,
        )
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:
            return outcome_for_exception(exc, size_cancelled=request.meta["lookalike_received"][0] > self.max_bytes)
        if not 200 <= response.status < 300:
            return ImageOutcome("http_error", error=f"HTTP {response.status}")
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        body = response.body
        kind, value, message = await asyncio.get_running_loop().run_in_executor(
            self.executor, check_and_store, self.store, body, content_type)
        if kind != "ok":
            return ImageOutcome(value, error=message)
        self.new_images.append(value)
        return ImageOutcome("ok", sha256=value.sha256)

    def take_new_images(self) -> list[Any]:
        """Images stored since the last call (``StoredImage``), for the storage pipeline to write their
        ``images`` rows in the same transaction as the listings that show them."""
        taken, self.new_images = self.new_images, []
        return taken
