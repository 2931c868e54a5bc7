"""Spider middleware: strip tracking parameters from every request a spider yields.

``/p/1?utm_source=mail&ref=home`` and ``/p/1`` are one page: requesting the stripped URL lets Scrapy's
duplicate filter fetch it once, so one product gives one listing.  The kept query parameters are
sorted and the fragment dropped (:func:`crawlers.processors.strip_tracking`).

Setting ``LOOKALIKE_STRIP_TRACKING`` (default true) switches it off.  Stats:
``tracking/stripped_count``.  A request with ``meta["keep_query"] = True`` is left alone.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from crawlers.processors import strip_tracking


class TrackingParamsMiddleware(BaseSpiderMiddleware):
    @classmethod
    def from_crawler(cls, crawler: Any) -> TrackingParamsMiddleware:
        if not crawler.settings.getbool("LOOKALIKE_STRIP_TRACKING"):
            raise NotConfigured
        return cls(crawler)

    @staticmethod
    def stripped(url: str) -> str:
        """``url`` without tracking parameters and fragment (query sorted)."""
        return strip_tracking(url)

    def get_processed_request(self, request: Request, response: Any) -> Request | None:
        if request.meta.get("keep_query"):
            return request
        url = self.stripped(request.url)
        if url == request.url:
            return request
        self.crawler.stats.inc_value("tracking/stripped_count")
        return request.replace(url=url)
