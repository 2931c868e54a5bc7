"""Retry backoff: a retried request waits, exponentially, honouring ``Retry-After``, *outside* the
downloader.

Scrapy's ``RetryMiddleware`` reschedules a failed request (5xx, 429, timeouts) at once; hammering a
struggling site is impolite and rarely works.  The n-th retry waits
``LOOKALIKE_RETRY_BACKOFF_BASE * 2 ** (n - 1)`` seconds, capped at ``LOOKALIKE_RETRY_BACKOFF_MAX``, or
the response's ``Retry-After`` seconds when the site sent one (same cap).  A base of 0 switches it off.

Two parts:

- :class:`RetryBackoffMiddleware` (downloader middleware, just after ``RetryMiddleware`` at 550, so it
  sees responses first) notes ``Retry-After`` in the request's meta, which the retry request copies.
- :class:`BackoffScheduler` (``SCHEDULER``) holds a retry request in a timed heap until its time and
  only then queues it.  A waiting request holds no downloader slot and no share of
  ``CONCURRENT_REQUESTS``: other requests and other sites go on (a middleware that slept in
  ``process_request`` stalled every site while 16 requests waited).  The engine polls the scheduler at
  least every 5 s, so a wait may run up to 5 s over.

Stats: ``backoff/delayed_count``, ``backoff/seconds``.
"""

from __future__ import annotations

import heapq
import itertools
import time
from typing import Any

from scrapy import Request
from scrapy.core.scheduler import Scheduler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

RETRY_AFTER_META = "lookalike_retry_after"
WAITED_META = "lookalike_backoff_waited"
"""The ``retry_times`` whose wait a request has done (so it waits once per retry)."""


def delay_for(retry_times: int, *, base: float, cap: float, retry_after: float | None = None) -> float:
    """Seconds to wait before retry number ``retry_times`` (1 = first retry); 0 for a first try."""
    if retry_times <= 0 or base <= 0:
        return 0.0
    if retry_after is not None and retry_after >= 0:
        return min(retry_after, cap)
    return min(base * 2 ** (retry_times - 1), cap)


def parse_retry_after(value: bytes | None) -> float | None:
    """Seconds from a ``Retry-After: 120`` header (HTTP dates are ignored); None when absent or odd."""
    if not value:
        return None
    try:
        seconds = float(value.decode("latin-1").strip())
    except ValueError:
        return None
    return seconds if 0 <= seconds < 86400 else None


class RetryBackoffMiddleware:
    """Notes a 429/503 answer's ``Retry-After`` on the request for :class:`BackoffScheduler`."""

    delay_for = staticmethod(delay_for)
    parse_retry_after = staticmethod(parse_retry_after)

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryBackoffMiddleware:
        if crawler.settings.getfloat("LOOKALIKE_RETRY_BACKOFF_BASE") <= 0 or not crawler.settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        return cls()

    def process_response(self, request: Request, response: Response) -> Response:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is not None and response.status in (429, 503):
            request.meta[RETRY_AFTER_META] = retry_after
        return response


class BackoffScheduler(Scheduler):
    """Scrapy's scheduler, with retry requests held back until their backoff has passed."""

    def __init__(self, *args: Any, base: float = 0.0, cap: float = 60.0, clock: Any = time.monotonic,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base = base
        self.cap = cap
        self.clock = clock
        self.waiting: list[tuple[float, int, Request]] = []
        self._order = itertools.count()

    @classmethod
    def from_crawler(cls, crawler: Any) -> BackoffScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.base = crawler.settings.getfloat("LOOKALIKE_RETRY_BACKOFF_BASE")
        scheduler.cap = crawler.settings.getfloat("LOOKALIKE_RETRY_BACKOFF_MAX")
        return scheduler

    def delay_of(self, request: Request) -> float:
        retry_times = int(request.meta.get("retry_times", 0) or 0)
        if request.meta.get(WAITED_META) == retry_times:
            return 0.0
        return delay_for(retry_times, base=self.base, cap=self.cap, retry_after=request.meta.get(RETRY_AFTER_META))

    def enqueue_request(self, request: Request) -> bool:
        delay = self.delay_of(request)
        if delay <= 0:
            return super().enqueue_request(request)
        request.meta[WAITED_META] = int(request.meta.get("retry_times", 0) or 0)
        heapq.heappush(self.waiting, (self.clock() + delay, next(self._order), request))
        if self.stats is not None:
            self.stats.inc_value("backoff/delayed_count")
            self.stats.inc_value("backoff/seconds", delay)
        return True

    def release_due(self) -> None:
        """Queue every waiting request whose time has come."""
        now = self.clock()
        while self.waiting and self.waiting[0][0] <= now:
            _, _, request = heapq.heappop(self.waiting)
            super().enqueue_request(request)

    def next_request(self) -> Request | None:
        self.release_due()
        return super().next_request()

    def has_pending_requests(self) -> bool:
        return bool(self.waiting) or super().has_pending_requests()

    def __len__(self) -> int:
        return len(self.waiting) + super().__len__()
