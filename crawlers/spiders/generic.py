"""The generic product spider: crawls any shop from start URLs, nobody has to write code for it.

It follows same-site links (categories, search results, pagination via ``rel=next`` or "next" text) and
the sitemaps robots.txt declares (or ``/sitemap.xml``), and asks the page parser whether each page is a
product.  Tracking parameters are stripped from every link before it is requested (and by
``crawlers.middlewares.tracking``), so ``/p/1?utm_source=x`` and ``/p/1`` are one request and one
listing; the parser's rel=canonical does the rest.

``scrapy crawl generic -a start_urls=https://shop.example/,https://shop.example/sale``
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from crawlers.processors import absolute_url, canonical_url, strip_tracking
from crawlers.spiders.base import SCOPES, LookalikeSpider, split_arg
from crawlers.spiders.links import origin, page_links, robots_sitemaps, same_site_as

MAX_SITEMAP_URLS = 50_000
"""Entries read from one sitemap file."""
MAX_SITEMAP_DEPTH = 3
"""Sitemap indexes followed this deep."""
GONE_STATUSES = (404, 410)


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(value)


class GenericProductSpider(LookalikeSpider):
    name = "generic"

    def __init__(
        self,
        *args: Any,
        start_urls: Any = None,
        follow_links: Any = True,
        sitemaps: Any = True,
        scope: str = "full",
        max_pages: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        urls = [absolute_url(url, base="http://invalid/") for url in split_arg(start_urls)]
        if not urls or any(u is None or u.startswith("http://invalid/") for u in urls):
            raise ValueError("start_urls must be absolute http(s) URLs, e.g. https://shop.example/")
        if scope not in SCOPES or scope == "search":
            raise ValueError(f"scope must be 'full' or 'recheck', not {scope!r}")
        self.start_urls = [u for u in urls if u]
        self.crawl_scope = scope
        self.follow_links = truthy(follow_links) and scope == "full"
        self.use_sitemaps = truthy(sitemaps) and self.follow_links
        self.max_pages = int(max_pages) if max_pages else 0
        self.marketplace_name = self.marketplace_name or self.default_marketplace(self.start_urls[0])
        self.marketplace_base_url = self.marketplace_base_url or origin(self.start_urls[0])
        if scope != "recheck":
            # Recheck URLs come from the database (a shop's API or a page wrote them): never trusted.
            self.trust(self.start_urls)
        self.requested: set[str] = set()
        self.page_limit_reached = False
        #: Pages that could not be fetched (after retries): their listings may exist unseen.
        self.failed_pages = 0

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> GenericProductSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if not spider.max_pages:
            spider.max_pages = crawler.settings.getint("LOOKALIKE_MAX_PAGES")
        return spider

    async def start(self) -> AsyncIterator[Any]:
        if self.use_sitemaps:
            for site in dict.fromkeys(origin(u) for u in self.start_urls):
                yield scrapy.Request(
                    f"{site}/robots.txt",
                    callback=self.parse_robots,
                    errback=self.robots_failed,
                    priority=10,
                    cb_kwargs={"site": site},
                )
        for url in self.start_urls:
            request = self.page_request(strip_tracking(url), priority=5)
            if request is not None:
                yield request

    # ------------------------------------------------------------------------------ navigation
    def page_request(self, url: str, *, priority: int = 0) -> scrapy.Request | None:
        """A request for a page, unless already requested or the page limit is reached."""
        if url in self.requested:
            return None
        if self.max_pages and len(self.requested) >= self.max_pages:
            if not self.page_limit_reached:
                self.page_limit_reached = True
                self.crawler.stats.set_value("lookalike/page_limit_reached", self.max_pages)
                self.logger.warning("page limit of %d reached; not following more links", self.max_pages)
            return None
        self.requested.add(url)
        meta = {"handle_httpstatus_list": list(GONE_STATUSES)} if self.crawl_scope == "recheck" else {}
        return scrapy.Request(url, callback=self.parse_page, errback=self.page_failed, priority=priority, meta=meta)

    def page_failed(self, failure: Failure) -> None:
        """A page that failed for good (5xx after retries, timeout, connection error), not one refused by
        robots.txt or the guard, nor a 404/410 (a dead link is an answer)."""
        from scrapy.exceptions import IgnoreRequest
        from scrapy.spidermiddlewares.httperror import HttpError

        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            if "max redirections" in str(failure.value):
                self.crawler.stats.inc_value("lookalike/redirect_loops")
            return
        if failure.check(HttpError) and failure.value.response.status in GONE_STATUSES:
            return
        self.failed_pages += 1
        self.crawler.stats.inc_value("lookalike/pages_failed")

    def parse_page(self, response: Response) -> Iterator[Any]:
        self.crawler.stats.inc_value("lookalike/pages")
        # A removed listing often redirects (to the shop's home page): the evidence is about the URL asked for.
        asked = canonical_url((response.meta.get("redirect_urls") or [response.url])[0])
        if response.status in GONE_STATUSES:
            self.gone_evidence.add(asked)
            return
        listing = self.listing_from(response)
        if listing is not None:
            yield listing
        elif self.crawl_scope == "recheck" and isinstance(response, TextResponse):
            self.gone_evidence.add(asked)
        if not self.follow_links or not isinstance(response, TextResponse):
            return
        for url, is_next in page_links(response.selector, base_url=response.url, sites=self.start_urls):
            request = self.page_request(url, priority=2 if is_next else 0)
            if request is not None:
                yield request

    # -------------------------------------------------------------------------------- sitemaps
    def parse_robots(self, response: Response, site: str) -> Iterator[scrapy.Request]:
        text = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8", "replace")
        sitemaps = [u for u in robots_sitemaps(text, base_url=response.url) if same_site_as(u, self.start_urls)]
        for url in sitemaps or [f"{site}/sitemap.xml"]:
            yield self.sitemap_request(url, depth=0)

    def robots_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        site = failure.request.cb_kwargs.get("site") if hasattr(failure, "request") else None
        if site:
            yield self.sitemap_request(f"{site}/sitemap.xml", depth=0)

    def sitemap_request(self, url: str, *, depth: int) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse_sitemap, errback=self.sitemap_failed, priority=8, cb_kwargs={"depth": depth}
        )

    def sitemap_failed(self, failure: Failure) -> None:
        self.crawler.stats.inc_value("lookalike/sitemap_errors")

    def parse_sitemap(self, response: Response, depth: int) -> Iterator[scrapy.Request]:
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
            except (OSError, ValueError):
                self.crawler.stats.inc_value("lookalike/sitemap_errors")
                return
        try:
            sitemap = Sitemap(body)
        except Exception:  # lxml raises several types on hostile XML; a bad sitemap is only skipped
            self.crawler.stats.inc_value("lookalike/sitemap_errors")
            return
        self.crawler.stats.inc_value("lookalike/sitemaps")
        for count, entry in enumerate(sitemap):
            if count >= MAX_SITEMAP_URLS:
                break
            url = absolute_url(entry.get("loc"), base=response.url)
            if url is None or not same_site_as(url, self.start_urls):
                continue
            if sitemap.type == "sitemapindex":
                if depth < MAX_SITEMAP_DEPTH:
                    yield self.sitemap_request(url, depth=depth + 1)
            else:
                request = self.page_request(strip_tracking(url), priority=1)
                if request is not None:
                    yield request
