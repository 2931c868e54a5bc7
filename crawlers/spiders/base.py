"""What every Lookalike spider shares: where its listings belong, which private hosts it may reach,
and what a finished crawl proves about listings it did not see (see ``crawlers.pipelines.storage``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse

from crawlers.items import Listing
from crawlers.middlewares.netguard import effective_netloc
from crawlers.spiders.links import netloc
from crawlers.spiders.parsing import ListingParser, listing_parser

#: What a crawl covers, which decides whether listings it did not see count as missed:
#: ``full`` (a whole shop: every active listing of the marketplace not seen is missed), ``recheck``
#: (known listing URLs: those that answered 404/410 or no longer show a product are missed) and
#: ``search`` (search results: nothing is missed; absence from today's results proves nothing).
SCOPES = ("full", "recheck", "search")


def split_arg(value: str | Iterable[str] | None) -> list[str]:
    """Spider arguments from ``scrapy crawl -a name=a,b`` (a comma-separated string) or from Python."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part) for part in value]


class LookalikeSpider(scrapy.Spider):
    """Base class: marketplace identity, private-host allow-list and gone evidence."""

    marketplace_kind = "shop"
    crawl_scope = "full"

    def __init__(
        self,
        *args: Any,
        marketplace: str | None = None,
        base_url: str | None = None,
        parser: ListingParser | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.marketplace_name = marketplace
        self.marketplace_base_url = base_url
        self.parse_listing_page: ListingParser = parser or listing_parser(None)
        #: (host, port) pairs a person pointed this crawl at (a scan file, ``--start-url``, a profile): the
        #: network guard lets them through for this crawl only.  Ports are explicit (80/443 filled in).
        self.trusted_netlocs: set[tuple[str, int | None]] = set()
        #: Canonical URLs that answered 404/410 or showed no product (``recheck`` scope).
        self.gone_evidence: set[str] = set()

    def trust(self, urls: Iterable[str]) -> None:
        """Trust the host and port of ``urls``: call only with URLs a person configured, never with URLs
        read from the database (recheck), a platform's API or a page."""
        for url in urls:
            target = effective_netloc(url)
            if target is not None and target[1]:
                self.trusted_netlocs.add((target[1], target[2]))

    def default_marketplace(self, url: str) -> str:
        host, port = netloc(url)
        host = host.removeprefix("www.")
        return host if port is None else f"{host}:{port}"

    def listing_from(self, response: Response) -> Listing | None:
        """The page parser's listing for ``response``, with the marketplace set; None for non-products."""
        if not isinstance(response, TextResponse):
            return None
        self.crawler.stats.inc_value("lookalike/pages_parsed")
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        try:
            listing = self.parse_listing_page(response.url, response.body, content_type)
        except Exception:  # a parser bug on one hostile page must never stop the crawl
            self.logger.exception("page parser failed on %s", response.url)
            self.crawler.stats.inc_value("lookalike/parser_errors")
            return None
        if listing is None:
            return None
        listing.marketplace = self.marketplace_name
        self.crawler.stats.inc_value("lookalike/listings_parsed")
        return listing
