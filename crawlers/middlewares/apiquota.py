"""Quotas and politeness of an API source, stored in the database, never only remembered.

A downloader middleware for crawls of a named source (``LOOKALIKE_SOURCE_NAME``).  Before each API call
(search or detail; token requests are not counted) it:

- refuses the call when the source's calls today (UTC) have reached ``LOOKALIKE_SOURCE_DAILY_BUDGET``
  (the run records ``budget_exhausted``; the spider's unfinished queries are the next night's resume
  point);
- waits until the source's ``not_before`` (set from ``Retry-After`` on a 429 or 503, kept in
  ``source_states`` so that another process or the next night waits too): no request to the source
  before the wait is over; a wait longer than ``LOOKALIKE_SOURCE_MAX_WAIT`` seconds ends the run instead;
- paces calls to at most ``LOOKALIKE_SOURCE_PER_SECOND`` a second;
- counts the call in ``source_states.calls_today`` at once (a killed crawl has still used its calls).

When the crawl closes it stores the run, its outcome, its error and the resume point.

Stats: ``lookalike/source/calls``, ``lookalike/source/budget``, ``lookalike/source/budget_left``,
``lookalike/source/budget_exhausted``, ``lookalike/source/retry_after`` (waits asked for),
``lookalike/source/waited_seconds``, ``lookalike/source/unfinished_queries``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response

from crawlers.middlewares.apiauth import CALL_META, ERROR_STAT, end_run
from crawlers.middlewares.backoff import parse_retry_after
from storage.db import Database
from storage.models import utcnow
from storage.sources import aware, state_of

#: Seconds paused after a 429/503 that states no Retry-After.
DEFAULT_PAUSE = 10.0


class SourceQuotaMiddleware:
    """Downloader middleware: a source's daily budget, pacing and Retry-After waits, kept in ``source_states``."""

    def __init__(self, *, crawler: Any, name: str, database_url: str, daily_budget: int, per_second: float,
                 max_wait: float) -> None:
        self.crawler = crawler
        self.name = name
        self.database_url = database_url
        self.daily_budget = daily_budget
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.max_wait = max_wait
        self.next_slot = 0.0  # time.time() before which no call is sent (pacing)
        self.not_before = 0.0  # time.time() before which no call is sent (Retry-After)
        self.calls_today = 0
        self.lock = asyncio.Lock()
        self.db: Database | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> SourceQuotaMiddleware:
        name = crawler.settings.get("LOOKALIKE_SOURCE_NAME")
        if not name:
            raise NotConfigured
        middleware = cls(crawler=crawler, name=name, database_url=crawler.settings.get("LOOKALIKE_DATABASE_URL"),
                         daily_budget=crawler.settings.getint("LOOKALIKE_SOURCE_DAILY_BUDGET"),
                         per_second=crawler.settings.getfloat("LOOKALIKE_SOURCE_PER_SECOND"),
                         max_wait=crawler.settings.getfloat("LOOKALIKE_SOURCE_MAX_WAIT"))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Any) -> None:
        self.db = Database(self.database_url)  # migrated by the parent before the crawl started
        with self.db.session() as session:
            state = state_of(session, self.name)
            self.calls_today = state.calls_today
            not_before = aware(state.not_before)
            self.not_before = not_before.timestamp() if not_before else 0.0
        self.crawler.stats.set_value("lookalike/source/budget", self.daily_budget)
        self.publish()

    def publish(self) -> None:
        stats = self.crawler.stats
        stats.set_value("lookalike/source/budget_left", max(0, self.daily_budget - self.calls_today))

    def store(self, **values: Any) -> None:
        assert self.db is not None
        with self.db.session() as session:
            state = state_of(session, self.name)
            for key, value in values.items():
                setattr(state, key, value)
            state.updated_at = utcnow()

    # ----------------------------------------------------------------------------------- requests
    async def process_request(self, request: Request) -> None:
        call = request.meta.get(CALL_META)
        if call is None or call.kind == "token":
            return
        async with self.lock:  # one call at a time through the checks: waits and counts stay exact
            await self.wait_turn()
            self.calls_today += 1
            self.next_slot = time.time() + self.interval
            self.crawler.stats.inc_value("lookalike/source/calls")
            self.publish()
            await asyncio.to_thread(self.store, calls_today=self.calls_today)

    async def wait_turn(self) -> None:
        """Return when a call may be sent; ``IgnoreRequest`` when the budget is used or the wait too long."""
        stats = self.crawler.stats
        while True:
            if self.calls_today >= self.daily_budget:
                if not stats.get_value("lookalike/source/budget_exhausted"):
                    stats.set_value("lookalike/source/budget_exhausted", True)
                    self.crawler.spider.logger.warning("source %s: daily budget of %d calls used; the rest "
                                                       "waits for the next night", self.name, self.daily_budget)
                stats.inc_value("lookalike/source/over_budget")
                raise IgnoreRequest(f"source {self.name}: daily budget used")
            now = time.time()
            wait = max(self.not_before, self.next_slot) - now
            if wait <= 0:
                return
            if self.not_before - now > self.max_wait:
                end_run(self.crawler, "retry_after",
                        f"source {self.name}: the API asked for a wait of {self.not_before - now:.0f} s "
                        f"(more than {self.max_wait:.0f} s); the next run resumes after it")
                raise IgnoreRequest("waiting for Retry-After beyond this run")
            stats.inc_value("lookalike/source/waited_seconds", round(wait, 3))
            await asyncio.sleep(wait)

    def process_response(self, request: Request, response: Response) -> Response:
        call = request.meta.get(CALL_META)
        if call is None or response.status not in (429, 503):
            return response
        seconds = parse_retry_after(response.headers.get("Retry-After"))
        seconds = DEFAULT_PAUSE if seconds is None else seconds
        self.not_before = max(self.not_before, time.time() + seconds)
        self.crawler.stats.inc_value("lookalike/source/retry_after")
        self.store(not_before=dt.datetime.fromtimestamp(self.not_before, tz=dt.UTC))
        return response

    # ------------------------------------------------------------------------------------- closing
    def spider_closed(self, spider: Any, reason: str) -> None:
        stats = self.crawler.stats
        resume = spider.resume_point() if hasattr(spider, "resume_point") else {}
        outcome = "budget_exhausted" if stats.get_value("lookalike/source/budget_exhausted") and reason == "finished" \
            else reason
        run_id = self.crawler.settings.getint("LOOKALIKE_CRAWL_RUN_ID") or None
        self.store(resume=resume, last_run_id=run_id, last_run_at=utcnow(), last_outcome=outcome,
                   last_error=stats.get_value(ERROR_STAT), calls_today=self.calls_today)
        if self.db is not None:
            self.db.dispose()
