"""Pipeline: drop listings that cannot be stored or were already stored in this crawl, with a reason.

Reasons (stats ``lookalike/dropped/<reason>``, copied into ``crawl_runs.stats``):
``no_url``, ``no_title`` (no title and no description), ``duplicate`` (a canonical URL, or an external
id, already seen in this crawl: two URLs for one product give one listing).  It also fills
``canonical_url`` (tracking parameters stripped) when the parser left it empty.
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from crawlers.items import Listing
from crawlers.processors import strip_tracking


class ValidateListingPipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> ValidateListingPipeline:
        return cls(crawler)

    def drop_reason(self, item: Listing) -> str | None:
        """Why ``item`` is dropped, or None; remembers the keys of items it lets through."""
        if not item.url:
            return "no_url"
        if not (item.title or item.description):
            return "no_title"
        item.canonical_url = item.canonical_url or strip_tracking(item.url)
        keys = {f"url:{item.canonical_url}"} | ({f"id:{item.external_id}"} if item.external_id else set())
        if keys & self.seen:
            return "duplicate"
        self.seen |= keys
        return None

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Listing):
            return item
        reason = self.drop_reason(item)
        if reason is None:
            return item
        self.crawler.stats.inc_value(f"lookalike/dropped/{reason}")
        # A duplicate is normal (two URLs, one product): logged quietly; the others are worth a warning.
        raise DropItem(f"{reason}: {item.url[:200]}", log_level="DEBUG" if reason == "duplicate" else "WARNING")
