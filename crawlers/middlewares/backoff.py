"""Downloader middleware: wait before a retry, exponentially, honouring ``Retry-After``.

Scrapy's ``RetryMiddleware`` reschedules a failed request (5xx, 429, timeouts) at once; hammering a
struggling site is impolite and rarely works.  This middleware delays the n-th retry by
``LOOKALIKE_RETRY_BACKOFF_BASE * 2 ** (n - 1)`` seconds, capped at ``LOOKALIKE_RETRY_BACKOFF_MAX``, or by
the response's ``Retry-After`` seconds when the site sent one (same cap).  A base of 0 switches it off.

It sits just after ``RetryMiddleware`` (550) so it sees responses first and notes ``Retry-After`` in the
request's meta, which the retry request copies.  Stats: ``backoff/delayed_count``, ``backoff/seconds``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

RETRY_AFTER_META = "lookalike_retry_after"


class RetryBackoffMiddleware:
    def __init__(self, *, base: float, cap: float, crawler: Any) -> None:
        self.base = base
        self.cap = cap
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryBackoffMiddleware:
        base = crawler.settings.getfloat("LOOKALIKE_RETRY_BACKOFF_BASE")
        if base <= 0 or not crawler.settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        return cls(base=base, cap=crawler.settings.getfloat("LOOKALIKE_RETRY_BACKOFF_MAX", 60.0), crawler=crawler)

    @staticmethod
    def delay_for(retry_times: int, *, base: float, cap: float, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry_times`` (1 = first retry); 0 for a first try."""
        if retry_times <= 0:
            return 0.0
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, cap)
        return min(base * 2 ** (retry_times - 1), cap)

    @staticmethod
    def parse_retry_after(value: bytes | None) -> float | None:
        """Seconds from a ``Retry-After: 120`` header (HTTP dates are ignored); None when absent or odd."""
        if not value:
            return None
        try:
            seconds = float(value.decode("latin-1").strip())
        except ValueError:
            return None
        return seconds if 0 <= seconds < 86400 else None

    async def process_request(self, request: Request) -> None:
        delay = self.delay_for(
            request.meta.get("retry_times", 0),
            base=self.base,
            cap=self.cap,
            retry_after=request.meta.get(RETRY_AFTER_META),
        )
        if delay > 0:
            self.crawler.stats.inc_value("backoff/delayed_count")
            self.crawler.stats.inc_value("backoff/seconds", delay)
            await asyncio.sleep(delay)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        retry_after = self.parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is not None and response.status in (429, 503):
            request.meta[RETRY_AFTER_META] = retry_after
        return response
