"""Downloader middleware: honour robots.txt ``Crawl-delay``.

Scrapy's ``RobotsTxtMiddleware`` reads robots.txt but does not apply ``Crawl-delay``; AutoThrottle even
lowers a site's delay below it.  This middleware asks the robots middleware for the site's parser
(``robot_parser``, cached by Scrapy), and keeps the site's download slot delay at least at the stated
delay, capped at ``LOOKALIKE_MAX_CRAWL_DELAY`` seconds (default 30), re-applied after every response
because AutoThrottle adjusts the delay when a response arrives.

Off when ``ROBOTSTXT_OBEY`` is off or ``LOOKALIKE_OBEY_CRAWL_DELAY`` is false.  Stats:
``crawldelay/<host>`` (the delay applied, seconds).
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import Response


class CrawlDelayMiddleware:
    def __init__(self, *, cap: float, crawler: Any) -> None:
        self.cap = cap
        self.crawler = crawler
        self.delays: dict[str, float | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlDelayMiddleware:
        settings = crawler.settings
        if not settings.getbool("ROBOTSTXT_OBEY") or not settings.getbool("LOOKALIKE_OBEY_CRAWL_DELAY"):
            raise NotConfigured
        return cls(cap=settings.getfloat("LOOKALIKE_MAX_CRAWL_DELAY"), crawler=crawler)

    @staticmethod
    def bounded(delay: float | None, *, cap: float) -> float | None:
        """The delay to apply: None for none or a nonsense value, else at most ``cap`` seconds."""
        if delay is None or not delay > 0:
            return None
        return min(float(delay), cap)

    def slot_key(self, request: Request) -> str:
        return self.crawler.engine.downloader.get_slot_key(request)

    async def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt"):
            return None
        key = self.slot_key(request)
        if key not in self.delays:
            self.delays[key] = None  # until known; concurrent first requests do not ask twice
            robots = self.crawler.get_downloader_middleware(RobotsTxtMiddleware)
            parser = await robots.robot_parser(request) if robots is not None else None
            if parser is not None:
                agent = self.crawler.settings.get("ROBOTSTXT_USER_AGENT") or request.headers.get(
                    b"User-Agent", self.crawler.settings.get("USER_AGENT"))
                delay = self.bounded(parser.crawl_delay(agent), cap=self.cap)
                self.delays[key] = delay
                if delay:
                    self.crawler.stats.set_value(f"crawldelay/{key}", delay)
        self.apply(key)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        self.apply(self.slot_key(request))
        return response

    def apply(self, key: str) -> None:
        delay = self.delays.get(key)
        slot = self.crawler.engine.downloader.slots.get(key) if delay else None
        if slot is not None and slot.delay < delay:
            slot.delay = delay
